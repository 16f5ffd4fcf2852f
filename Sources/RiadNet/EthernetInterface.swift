import Riad

/// An IPv4 host on one Ethernet link: the first layer of the direct stack.
/// It answers ARP requests for its address (RFC 826), learns its
/// neighbours' addresses from what they send, and answers ICMP echo
/// requests (RFC 792; RFC 1122 section 3.2.2.6). Fragments are put back
/// together (`IPv4Reassembler`) and datagrams larger than the MTU sent in
/// fragments (`IPv4Fragments`). Everything else is counted and dropped,
/// until the upper layers (UDP, TCP) are attached.
///
/// Sans-I/O, like the rest of RiadNet: it is handed received frames and a
/// way to transmit, reads no clock and touches no device, so tests drive it
/// with literal frames. It never traps on a frame: anything that does not
/// parse is dropped and counted.
public struct EthernetInterface {
    public let mac: MACAddress
    public var address: IPv4CIDR
    /// The largest IPv4 packet a frame carries: 1500 on Ethernet.
    public var mtu = 1500
    /// The identification of the next datagram sent (RFC 6864), counting up.
    public var nextIdentification: UInt16 = 0
    /// Neighbours' link addresses, learned from ARP and from IPv4 traffic.
    public private(set) var neighbours = NeighbourCache()
    public private(set) var counters = Counters()
    /// Fragments received for this host wait here for the rest.
    public private(set) var reassembler = IPv4Reassembler()

    /// What happened to frames, for monitoring.
    public struct Counters: Sendable {
        public var framesReceived: UInt64 = 0
        public var framesSent: UInt64 = 0
        /// Not for this host (another unicast address, another protocol).
        public var framesIgnored: UInt64 = 0
        /// Malformed: did not parse, bad checksum.
        public var framesMalformed: UInt64 = 0
        public var arpRepliesSent: UInt64 = 0
        public var echoRepliesSent: UInt64 = 0
        /// Frames sent that carry a fragment of a larger datagram.
        public var fragmentsSent: UInt64 = 0
        /// Datagrams not sent: larger than the MTU with DF set.
        public var datagramsTooBig: UInt64 = 0
    }

    public init(mac: MACAddress, address: IPv4CIDR, reassembly: IPv4Reassembler.Limits = .init()) {
        self.mac = mac
        self.address = address
        reassembler = IPv4Reassembler(limits: reassembly)
    }

    /// Handles one received frame. Replies are written with `transmit`,
    /// which is given a frame length and a closure that fills that many bytes
    /// of the device's transmit buffer (a device's lending `transmit`).
    public mutating func receive(
        _ frame: UnsafeRawBufferPointer, now: UInt64,
        transmit: (Int, (UnsafeMutableRawBufferPointer) -> Void) -> Void
    ) {
        counters.framesReceived &+= 1
        guard let ethernet = try? EthernetRepr.parse(frame) else { return malformed() }
        guard ethernet.destination == mac || ethernet.destination.isBroadcast else { return ignored() }
        let payload = UnsafeRawBufferPointer(rebasing: frame[EthernetRepr.headerLength...])
        switch ethernet.etherType {
        case .arp: receiveARP(payload, now: now, transmit: transmit)
        case .ipv4: receiveIPv4(payload, from: ethernet.source, now: now, transmit: transmit)
        default: ignored()
        }
    }

    private mutating func receiveARP(
        _ packet: UnsafeRawBufferPointer, now: UInt64,
        transmit: (Int, (UnsafeMutableRawBufferPointer) -> Void) -> Void
    ) {
        guard let arp = try? ARPRepr.parse(packet) else { return malformed() }
        // RFC 826: merge the sender into the cache if it is known; add it
        // if the request is for us.
        let forUs = arp.targetProtocolAddress == address.address
        if forUs || neighbours.contains(arp.senderProtocolAddress) {
            neighbours.learn(arp.senderProtocolAddress, arp.senderHardwareAddress, now: now)
        }
        guard forUs, arp.operation == .request else { return ignored() }
        let reply = ARPRepr(
            operation: .reply, senderHardwareAddress: mac, senderProtocolAddress: address.address,
            targetHardwareAddress: arp.senderHardwareAddress, targetProtocolAddress: arp.senderProtocolAddress
        )
        let ethernet = EthernetRepr(source: mac, destination: arp.senderHardwareAddress, etherType: .arp)
        let length = EthernetRepr.headerLength + ARPRepr.bufferLength
        transmit(Self.paddedLength(length)) { frame in
            ethernet.emit(into: frame)
            reply.emit(into: UnsafeMutableRawBufferPointer(rebasing: frame[EthernetRepr.headerLength...]))
            Self.pad(frame, after: length)
        }
        counters.framesSent &+= 1
        counters.arpRepliesSent &+= 1
    }

    private mutating func receiveIPv4(
        _ packet: UnsafeRawBufferPointer, from sender: MACAddress, now: UInt64,
        transmit: (Int, (UnsafeMutableRawBufferPointer) -> Void) -> Void
    ) {
        guard let view = try? IPv4PacketView(checking: packet), let ip = try? IPv4Repr.parse(view) else {
            return malformed()
        }
        guard ip.destination == address.address else { return ignored() }
        // The only protocol with a receiver so far.
        guard ip.protocol == .icmp else { return ignored() }
        if ip.source.isUnicast && !ip.source.isUnspecified {
            neighbours.learn(ip.source, sender, now: now)
        }
        // The payload follows the header's options, if any: the view knows where.
        guard ip.isFragment else {
            return receiveICMP(view.payload, ip, from: sender, now: now, transmit: transmit)
        }
        guard let datagram = reassembler.add(ip, payload: view.payload, now: now) else { return }
        datagram.withPayload { receiveICMP($0, datagram.header, from: sender, now: now, transmit: transmit) }
    }

    private mutating func receiveICMP(
        _ icmpBytes: UnsafeRawBufferPointer, _ ip: IPv4Repr, from sender: MACAddress, now: UInt64,
        transmit: (Int, (UnsafeMutableRawBufferPointer) -> Void) -> Void
    ) {
        guard let icmp = try? ICMPv4Repr.parse(icmpBytes) else { return malformed() }
        guard case .echoRequest(let identifier, let sequence) = icmp.message else { return ignored() }
        // RFC 1122 3.2.2.6: the reply carries the request's data unchanged.
        let reply = ICMPv4Repr(
            message: .echoReply(identifier: identifier, sequenceNumber: sequence), dataLength: icmp.dataLength
        )
        let data = UnsafeRawBufferPointer(
            rebasing: icmpBytes[icmp.dataOffset..<(icmp.dataOffset + icmp.dataLength)])
        // The reply may go in fragments, so its header is built apart and
        // its checksum summed over the data where it is.
        var header: UInt64 = 0  // the 8-byte echo header
        withUnsafeMutableBytes(of: &header) { bytes in
            ICMPv4Repr(message: reply.message, dataLength: 0).emit(into: bytes, computeChecksum: false)
            var checksum = InternetChecksum()
            checksum.add(UnsafeRawBufferPointer(bytes))
            checksum.add(data)
            try? MutableICMPv4PacketView(checking: bytes).checksum = checksum.value
        }
        let replyIP = IPv4Repr(
            source: address.address, destination: ip.source, protocol: .icmp,
            payloadLength: reply.bufferLength)
        let sent = withUnsafeBytes(of: header) { header in
            sendIPv4(replyIP, to: sender, header: header, data: data, transmit: transmit)
        }
        if sent { counters.echoRepliesSent &+= 1 }
    }

    /// Sends `datagram` to `destination`, in fragments if it is larger than
    /// the MTU, with the next identification. Its payload is `header` then
    /// `data`. Returns false if it could not be sent (too big, DF set).
    private mutating func sendIPv4(
        _ datagram: IPv4Repr, to destination: MACAddress, header: UnsafeRawBufferPointer,
        data: UnsafeRawBufferPointer, transmit: (Int, (UnsafeMutableRawBufferPointer) -> Void) -> Void
    ) -> Bool {
        var datagram = datagram
        datagram.identification = nextIdentification
        nextIdentification &+= 1
        guard let fragments = IPv4Fragments(datagram, mtu: mtu) else {
            counters.datagramsTooBig &+= 1
            return false
        }
        let ethernet = EthernetRepr(source: mac, destination: destination, etherType: .ipv4)
        for (ip, range) in fragments {
            let length = EthernetRepr.headerLength + ip.bufferLength
            transmit(Self.paddedLength(length)) { frame in
                ethernet.emit(into: frame)
                let ipBytes = UnsafeMutableRawBufferPointer(
                    rebasing: frame[EthernetRepr.headerLength..<length])
                let payload = UnsafeMutableRawBufferPointer(rebasing: ipBytes[IPv4Repr.headerLength...])
                Self.copy(header, at: 0, into: payload, window: range)
                Self.copy(data, at: header.count, into: payload, window: range)
                ip.emit(into: ipBytes)
                Self.pad(frame, after: length)
            }
            counters.framesSent &+= 1
            if ip.isFragment { counters.fragmentsSent &+= 1 }
        }
        return true
    }

    /// Copies the part of `source`, which sits at `offset` in a payload,
    /// that falls in `window` of it into `out`, which holds that window.
    static func copy(
        _ source: UnsafeRawBufferPointer, at offset: Int, into out: UnsafeMutableRawBufferPointer,
        window: Range<Int>
    ) {
        let overlap = window.clamped(to: offset..<(offset + source.count))
        guard !overlap.isEmpty else { return }
        UnsafeMutableRawBufferPointer(
            rebasing: out[(overlap.lowerBound - window.lowerBound)..<(overlap.upperBound - window.lowerBound)]
        ).copyMemory(
            from: UnsafeRawBufferPointer(
                rebasing: source[(overlap.lowerBound - offset)..<(overlap.upperBound - offset)]))
    }

    /// Ethernet's minimum frame is 60 bytes before the FCS.
    static func paddedLength(_ length: Int) -> Int { max(length, 60) }

    /// Zeroes the padding after `length` bytes of a frame.
    static func pad(_ frame: UnsafeMutableRawBufferPointer, after length: Int) {
        guard frame.count > length else { return }
        UnsafeMutableRawBufferPointer(rebasing: frame[length...]).initializeMemory(
            as: UInt8.self, repeating: 0)
    }

    private mutating func malformed() { counters.framesMalformed &+= 1 }
    private mutating func ignored() { counters.framesIgnored &+= 1 }
}

/// IPv4 neighbours and their link addresses, with expiry (RFC 1122
/// 2.3.2.1: entries must time out). A small array: a unikernel talks to
/// few neighbours, and a linear search of a few entries is fastest.
public struct NeighbourCache {
    public struct Entry: Sendable {
        public let address: IPv4Address
        public var mac: MACAddress
        /// Monotonic nanoseconds after which the entry is stale.
        public var expires: UInt64
    }

    public static let lifetime: UInt64 = 60_000_000_000
    public static let capacity = 64
    public private(set) var entries: [Entry] = []

    public func lookup(_ address: IPv4Address, now: UInt64) -> MACAddress? {
        entries.first { $0.address == address && $0.expires > now }?.mac
    }

    func contains(_ address: IPv4Address) -> Bool {
        entries.contains { $0.address == address }
    }

    mutating func learn(_ address: IPv4Address, _ mac: MACAddress, now: UInt64) {
        let expires = now &+ Self.lifetime
        if let index = entries.firstIndex(where: { $0.address == address }) {
            entries[index].mac = mac
            entries[index].expires = expires
            return
        }
        if entries.count >= Self.capacity {
            // Full: forget the entry closest to expiry.
            let oldest = entries.indices.min { entries[$0].expires < entries[$1].expires }!
            entries.remove(at: oldest)
        }
        entries.append(Entry(address: address, mac: mac, expires: expires))
    }
}
