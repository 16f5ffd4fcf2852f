import Glibc

/// A host port passed on to the kernel on a user network
/// (`--forward=tcp:8080:80`): libslirp listens on the host's address and
/// port and opens a connection (or, for UDP, sends the datagram) to the
/// kernel's port from the gateway, 10.0.2.2.
///
/// Written `PROTOCOL:[ADDRESS:]HOSTPORT:GUESTPORT`; the address is an IPv4
/// address of the host (default 127.0.0.1, so that only this machine can
/// connect; 0.0.0.0 for every interface).
public struct PortForward: Equatable, Sendable, CustomStringConvertible {
    public enum Transport: String, Sendable {
        case tcp
        case udp
    }

    public var transport: Transport
    /// The host's address, in dotted-quad form.
    public var hostAddress: String
    public var hostPort: UInt16
    public var guestPort: UInt16

    public init(transport: Transport, hostAddress: String = "127.0.0.1", hostPort: UInt16, guestPort: UInt16)
    {
        self.transport = transport
        self.hostAddress = hostAddress
        self.hostPort = hostPort
        self.guestPort = guestPort
    }

    /// The canonical form, with the address: `tcp:127.0.0.1:8080:80`.
    public var description: String { "\(transport.rawValue):\(hostAddress):\(hostPort):\(guestPort)" }

    static let syntax = "tcp:HOSTPORT:GUESTPORT or tcp:ADDRESS:HOSTPORT:GUESTPORT (or udp:...)"

    /// Parses the value of `--forward=`.
    public static func parse(_ text: String) throws(TenderError) -> PortForward {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3 || parts.count == 4 else {
            throw TenderError("--forward=\(text): expected \(syntax)")
        }
        guard let transport = Transport(rawValue: parts[0]) else {
            throw TenderError("--forward=\(text): the protocol must be tcp or udp, not '\(parts[0])'")
        }
        var forward = PortForward(transport: transport, hostPort: 0, guestPort: 0)
        if parts.count == 4 {
            guard ipv4Bytes(parts[1]) != nil else {
                throw TenderError("--forward=\(text): '\(parts[1])' is not an IPv4 address like 127.0.0.1")
            }
            forward.hostAddress = parts[1]
        }
        guard let hostPort = port(parts[parts.count - 2]), let guestPort = port(parts[parts.count - 1]) else {
            throw TenderError("--forward=\(text): ports are numbers from 1 to 65535 (\(syntax))")
        }
        forward.hostPort = hostPort
        forward.guestPort = guestPort
        return forward
    }

    private static func port(_ text: String) -> UInt16? {
        guard let value = UInt16(text), value > 0 else { return nil }
        return value
    }

    /// The address in network byte order, as `struct in_addr` holds it; nil
    /// unless `text` is exactly four decimal numbers from 0 to 255.
    static func ipv4Bytes(_ text: String) -> in_addr? {
        var address = in_addr()
        guard inet_pton(AF_INET, text, &address) == 1 else { return nil }
        return address
    }

    /// The host address as `struct in_addr`; `parse` has checked it.
    public var hostInAddr: in_addr { Self.ipv4Bytes(hostAddress) ?? in_addr() }
}
