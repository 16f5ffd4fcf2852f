import CPlatformUnix
import Riad
import RiadNet
import _Concurrency

/// A bound UDP port of a `SocketStack`.
public final class SocketUDPSocket: UDPSocket {
    let stack: SocketStack
    /// The host socket; -1 once closed.
    private(set) var fd: Int32
    public let local: SocketAddress

    /// The largest UDP payload in one IPv4 datagram (65,535 minus the IP
    /// and UDP headers).
    public static var maximumPayload: Int { 65_507 }

    init(stack: SocketStack, fd: Int32, local: SocketAddress?) {
        self.stack = stack
        self.fd = fd
        self.local = local ?? SocketAddress(stack.bindAddress, 0)
    }

    deinit { close() }

    public func send(_ bytes: UnsafeRawBufferPointer, to destination: SocketAddress) throws(RiadError) {
        guard fd >= 0 else { throw RiadError(.closed) }
        guard bytes.count <= Self.maximumPayload else {
            throw RiadError(.invalidArgument, "datagram too large")
        }
        let sent = riad_unix_socket_send_to(
            fd, bytes.baseAddress, bytes.count, destination.address.rawValue, destination.port)
        guard sent < 0 else { return }
        let code = riad_unix_errno()
        if code == EAGAIN || code == ENOBUFS {
            throw RiadError(.wouldBlock, "the host's send buffer is full")
        }
        throw RiadError(socketError: code, "sending a datagram")
    }

    public func receive(into buffer: UnsafeMutableRawBufferPointer) async throws(RiadError) -> (
        length: Int, from: SocketAddress
    ) {
        while true {
            guard fd >= 0 else { throw RiadError(.closed) }
            var address: UInt32 = 0
            var port: UInt16 = 0
            let count = riad_unix_socket_receive_from(fd, buffer.baseAddress, buffer.count, &address, &port)
            if count >= 0 {
                await stack.yieldNowAndThen()
                return (count, SocketAddress(IPv4Address(rawValue: address), port))
            }
            let code = riad_unix_errno()
            guard code == EAGAIN else { throw RiadError(socketError: code, "receiving a datagram") }
            try await stack.wait(for: fd, until: .max)
        }
    }

    public func close() {
        guard fd >= 0 else { return }
        stack.release(fd)
        riad_unix_socket_close(fd)
        fd = -1
    }
}

/// Touched from the kernel's one thread only (see `SocketTCPStream`).
extension SocketUDPSocket: @unchecked Sendable {}
