import Riad

/// How a layer hands a frame to the device: `transmit(length, fill)` lends
/// `fill` a buffer of exactly `length` bytes to write the frame into, and
/// returns false if the device could not take a frame now (nothing was
/// sent; the caller may try again later).
public typealias FrameTransmit = (Int, (UnsafeMutableRawBufferPointer) -> Void) -> Bool

/// What became of a datagram handed to the interface to send.
public enum SendOutcome: Sendable, Equatable {
    /// Handed to the device.
    case sent
    /// The next hop's link address is being asked for (ARP); nothing sent.
    case resolving
    /// No route (off-link without a gateway), or the next hop did not
    /// answer ARP; nothing sent.
    case unreachable
    /// The device could not take the frame now; nothing sent.
    case deviceBusy
    /// Larger than the interface can send; nothing sent.
    case tooBig
}

/// An IPv4 host on one Ethernet link: the lower layers of the direct stack.
///
/// It answers ARP requests for its address (RFC 826), asks for its
/// neighbours' addresses (at most once a second each, RFC 1122 2.3.2.1),
/// announces itself with a gratuitous ARP (RFC 5227 section 2.3), routes
/// datagrams to a neighbour on the link or to the gateway, answers ICMP
/// echo requests (RFC 792; RFC 1122 3.2.2.6), delivers UDP datagrams to
/// bound ports and answers port unreachable for the others (RFC 1122
/// 3.2.2.1), and hands TCP segments to the caller's TCP. Fragments are put
/// back together (`IPv4Reassembler`) and datagrams larger than the MTU
/// sent in fragments (`IPv4Fragments`).
///
/// Sans-I/O, like the rest of RiadNet: it is handed received frames, the
/// time and a way to transmit; it reads no clock and touches no device, so
/// tests drive it with literal frames. It never traps on a frame: anything
/// that does not parse is dropped and counted.
public struct EthernetInterface {
    public let mac: MACAddress
    /// The host's address and prefix; 0.0.0.0/0 until configured (DHCP).
    public var address: IPv4CIDR
    /// Where datagrams for other networks go; nil: nowhere.
    public var gateway: IPv4Address?
    /// The largest IPv4 packet a frame carries: 1500 on Ethernet.
    public var mtu = 1500
    /// The device cuts TCP segments itself (TSO): TCP datagrams from
    /// `prepareIPv4` may then be up to 65,535 bytes.
    public var segmentationOffload = false
    /// Whether the frame being received has a checksum the device vouches for.
    private var checksumVerified = false
    /// The identification of the next datagram sent (RFC 6864), counting up.
    public var nextIdentification: UInt16 = 0
    /// Neighbours' link addresses, learned from ARP and from IPv4 traffic.
    public internal(set) var neighbours = NeighbourCache()
    public internal(set) var counters = Counters()
    /// Fragments received for this host wait here for the rest.
    public internal(set) var reassembler = IPv4Reassembler()
    /// Bound UDP ports and their received datagrams.
    public var udp: UDPEndpoints
    /// UDP datagrams waiting for their next hop's link address.
    var unresolved: [PendingDatagram] = []
    /// Port unreachable messages sent in the current second, and which.
    var unreachableBudget = (second: UInt64(0), sent: 0)

    /// What happened to frames, for monitoring.
    public struct Counters: Sendable {
        public var framesReceived: UInt64 = 0
        public var framesSent: UInt64 = 0
        public var bytesReceived: UInt64 = 0
        public var bytesSent: UInt64 = 0
        /// Not for this host (another unicast address, another protocol).
        public var framesIgnored: UInt64 = 0
        /// Malformed: did not parse, bad checksum.
        public var framesMalformed: UInt64 = 0
        public var arpRequestsSent: UInt64 = 0
        public var arpRepliesSent: UInt64 = 0
        public var echoRepliesSent: UInt64 = 0
        public var portUnreachablesSent: UInt64 = 0
        public var udpDatagramsReceived: UInt64 = 0
        public var udpDatagramsSent: UInt64 = 0
        /// Frames sent that carry a fragment of a larger datagram.
        public var fragmentsSent: UInt64 = 0
        /// Datagrams not sent: larger than the MTU with DF set.
        public var datagramsTooBig: UInt64 = 0
        /// Datagrams not sent: no route or no answer to ARP.
        public var datagramsUnreachable: UInt64 = 0
        /// Frames the device would not take.
        public var transmitFailures: UInt64 = 0
    }

    /// The most port unreachable messages sent per second (RFC 1812
    /// 4.3.2.8 asks for a limit, so that a scan cannot make us a flood).
    public static let unreachablesPerSecond = 100

    public init(
        mac: MACAddress, address: IPv4CIDR = .unconfigured, gateway: IPv4Address? = nil,
        reassembly: IPv4Reassembler.Limits = .init(), seed: UInt64 = 0
    ) {
        self.mac = mac
        self.address = address
        self.gateway = gateway
        reassembler = IPv4Reassembler(limits: reassembly)
        udp = UDPEndpoints(seed: seed)
    }

    /// Whether the host has an address (static, or from DHCP).
    public var isConfigured: Bool { !address.address.isUnspecified }

    /// Handles one received frame. Replies are sent with `transmit`; TCP
    /// segments for this host go to `tcp` with their IPv4 header.
    ///
    /// - Parameter checksumVerified: The device vouches for the transport
    ///   checksum (a host's offload), so UDP does not check it; `tcp` is
    ///   told the same by the caller.
    public mutating func receive(
        _ frame: UnsafeRawBufferPointer, now: UInt64, transmit: FrameTransmit,
        checksumVerified: Bool = false,
        tcp: (UnsafeRawBufferPointer, IPv4Repr) -> Void = { _, _ in }
    ) {
        self.checksumVerified = checksumVerified
        counters.framesReceived &+= 1
        counters.bytesReceived &+= UInt64(frame.count)
        guard let ethernet = try? EthernetRepr.parse(frame) else { return malformed() }
        guard ethernet.destination == mac || ethernet.destination.isBroadcast else { return ignored() }
        let payload = UnsafeRawBufferPointer(rebasing: frame[EthernetRepr.headerLength...])
        switch ethernet.etherType {
        case .arp: receiveARP(payload, now: now, transmit: transmit)
        case .ipv4: receiveIPv4(payload, from: ethernet.source, now: now, transmit: transmit, tcp: tcp)
        default: ignored()
        }
    }

    private mutating func receiveARP(_ packet: UnsafeRawBufferPointer, now: UInt64, transmit: FrameTransmit) {
        guard let arp = try? ARPRepr.parse(packet) else { return malformed() }
        // RFC 826: merge the sender into the cache if it is known or being
        // asked for; add it if the request is for us.
        let forUs = isConfigured && arp.targetProtocolAddress == address.address
        let sender = arp.senderProtocolAddress
        if forUs || neighbours.contains(sender)
            || neighbours.queries.contains(where: { $0.address == sender })
        {
            if sender.isUnicast && !sender.isUnspecified {
                neighbours.learn(sender, arp.senderHardwareAddress, now: now)
                flushUnresolved(to: sender, now: now, transmit: transmit)
            }
        }
        guard forUs, arp.operation == .request else { return ignored() }
        let reply = ARPRepr(
            operation: .reply, senderHardwareAddress: mac, senderProtocolAddress: address.address,
            targetHardwareAddress: arp.senderHardwareAddress, targetProtocolAddress: arp.senderProtocolAddress
        )
        if sendARP(reply, to: arp.senderHardwareAddress, transmit: transmit) {
            counters.arpRepliesSent &+= 1
        }
    }

    private mutating func receiveIPv4(
        _ packet: UnsafeRawBufferPointer, from sender: MACAddress, now: UInt64, transmit: FrameTransmit,
        tcp: (UnsafeRawBufferPointer, IPv4Repr) -> Void
    ) {
        guard let view = try? IPv4PacketView(checking: packet), let ip = try? IPv4Repr.parse(view) else {
            return malformed()
        }
        guard acceptsDestination(ip) else { return ignored() }
        if isConfigured, ip.source.isUnicast, !ip.source.isUnspecified, address.contains(ip.source) {
            neighbours.learn(ip.source, sender, now: now)
        }
        // The payload follows the header's options, if any: the view knows where.
        guard ip.isFragment else {
            return receiveTransport(view.payload, ip, now: now, transmit: transmit, tcp: tcp)
        }
        guard let datagram = reassembler.add(ip, payload: view.payload, now: now) else { return }
        // What the device said of the last fragment says nothing of the rest.
        checksumVerified = false
        datagram.withPayload { receiveTransport($0, datagram.header, now: now, transmit: transmit, tcp: tcp) }
    }

    /// Unicast to our address, broadcast, or (before an address is
    /// configured) anything UDP, for DHCP's offers (RFC 2131 section 4.1).
    private func acceptsDestination(_ ip: IPv4Repr) -> Bool {
        if !isConfigured { return ip.protocol == .udp }
        return ip.destination == address.address || ip.destination.isBroadcast
            || ip.destination == address.broadcast
    }

    private mutating func receiveTransport(
        _ payload: UnsafeRawBufferPointer, _ ip: IPv4Repr, now: UInt64, transmit: FrameTransmit,
        tcp: (UnsafeRawBufferPointer, IPv4Repr) -> Void
    ) {
        switch ip.protocol {
        case .icmp: receiveICMP(payload, ip, now: now, transmit: transmit)
        case .udp: receiveUDP(payload, ip, now: now, transmit: transmit)
        case .tcp:
            // TCP never answers broadcasts (RFC 1122 4.2.3.10).
            guard ip.destination == address.address else { return ignored() }
            tcp(payload, ip)
        default: ignored()
        }
    }

    private mutating func receiveICMP(
        _ icmpBytes: UnsafeRawBufferPointer, _ ip: IPv4Repr, now: UInt64, transmit: FrameTransmit
    ) {
        guard let icmp = try? ICMPv4Repr.parse(icmpBytes) else { return malformed() }
        // Echo requests to a broadcast address go unanswered (RFC 1122
        // 3.2.2.6 allows either; silence denies smurf amplification).
        guard case .echoRequest(let identifier, let sequence) = icmp.message,
            ip.destination == address.address
        else { return ignored() }
        // RFC 1122 3.2.2.6: the reply carries the request's data unchanged.
        let reply = ICMPv4Repr(
            message: .echoReply(identifier: identifier, sequenceNumber: sequence), dataLength: icmp.dataLength
        )
        let data = UnsafeRawBufferPointer(
            rebasing: icmpBytes[icmp.dataOffset..<(icmp.dataOffset + icmp.dataLength)])
        if sendICMP(reply, data: data, to: ip.source, now: now, transmit: transmit) == .sent {
            counters.echoRepliesSent &+= 1
        }
    }

    private mutating func receiveUDP(
        _ bytes: UnsafeRawBufferPointer, _ ip: IPv4Repr, now: UInt64, transmit: FrameTransmit
    ) {
        guard let datagram = try? UDPDatagramView(checking: bytes),
            let udpHeader = try? UDPRepr.parse(
                datagram, source: ip.source, destination: ip.destination, verifyChecksum: !checksumVerified)
        else { return malformed() }
        counters.udpDatagramsReceived &+= 1
        let from = SocketAddress(ip.source, udpHeader.sourcePort)
        let delivered = udp.deliver(
            datagram.payload, to: udpHeader.destinationPort, address: ip.destination, from: from)
        guard delivered == nil else { return }
        // No socket: port unreachable, but never about a broadcast
        // (RFC 1122 3.2.2), and at a limited rate.
        guard ip.destination == address.address, ip.source.isUnicast, !ip.source.isUnspecified else {
            return ignored()
        }
        let second = now / 1_000_000_000
        if unreachableBudget.second != second { unreachableBudget = (second, 0) }
        guard unreachableBudget.sent < Self.unreachablesPerSecond else { return ignored() }
        unreachableBudget.sent += 1
        // The original header and the first 8 bytes of its payload (RFC 792).
        let quoted = UnsafeRawBufferPointer(rebasing: bytes[..<min(8, bytes.count)])
        let message = ICMPv4Repr(
            message: .destinationUnreachable(.portUnreachable, nextHopMTU: 0, original: ip),
            dataLength: quoted.count)
        if sendICMP(message, data: quoted, to: ip.source, now: now, transmit: transmit) == .sent {
            counters.portUnreachablesSent &+= 1
        }
    }

    private mutating func malformed() { counters.framesMalformed &+= 1 }
    private mutating func ignored() { counters.framesIgnored &+= 1 }
}

extension IPv4CIDR {
    /// 0.0.0.0/0: a host that has no address yet.
    public static let unconfigured = IPv4CIDR(address: .unspecified, prefixLength: 0)!
}
