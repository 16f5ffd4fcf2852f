import Riad

/// A UDP datagram waiting for its next hop's link address.
struct PendingDatagram {
    let nextHop: IPv4Address
    let destination: SocketAddress
    let sourcePort: UInt16
    let payload: [UInt8]
}

// Sending: routing, link address resolution, IPv4 with or without
// fragments, UDP, ICMP and ARP.
extension EthernetInterface {
    /// UDP datagrams kept while their next hop is resolved, at most.
    public static let unresolvedCapacity = 16

    /// The next hop of a datagram for `destination`: itself on the link,
    /// the gateway off it; the broadcast address for broadcasts; nil when
    /// there is no route.
    public func nextHop(for destination: IPv4Address) -> IPv4Address? {
        if destination.isBroadcast || destination == address.broadcast { return .broadcast }
        if isConfigured && address.contains(destination) { return destination }
        return gateway
    }

    /// The link address to send a datagram for `destination` to, or why
    /// there is none yet (asking for it with ARP when a request is due).
    mutating func linkAddress(for destination: IPv4Address, now: UInt64, transmit: FrameTransmit)
        -> Result<MACAddress, SendFailure>
    {
        guard let hop = nextHop(for: destination) else { return .failure(SendFailure(.unreachable)) }
        if hop.isBroadcast { return .success(.broadcast) }
        if let mac = neighbours.lookup(hop, now: now) { return .success(mac) }
        switch neighbours.resolve(hop, now: now) {
        case .ask:
            sendARPRequest(for: hop, transmit: transmit)
            return .failure(SendFailure(.resolving))
        case .wait: return .failure(SendFailure(.resolving))
        case .unreachable: return .failure(SendFailure(.unreachable))
        }
    }

    /// Sends an IPv4 datagram of `payloadLength` bytes to `destination`,
    /// its payload written in place by `fill` (TCP's way: one copy, from
    /// the send buffer into the device's). It must fit the MTU unfragmented.
    public mutating func sendIPv4(
        to destination: IPv4Address, protocol: IPProtocol, payloadLength: Int, now: UInt64,
        transmit: FrameTransmit, fill: (UnsafeMutableRawBufferPointer) -> Void
    ) -> SendOutcome {
        let frame: IPv4Frame
        switch prepareIPv4(
            to: destination, protocol: `protocol`, payloadLength: payloadLength, now: now, transmit: transmit)
        {
        case .success(let prepared): frame = prepared
        case .failure(let failure): return failure.outcome
        }
        // The two closures are called one inside the other, never stored.
        let sent = withoutActuallyEscaping(fill) { fill in
            transmit(frame.length) { buffer in frame.write(into: buffer, payload: fill) }
        }
        return recordSent(frame, sent: sent)
    }

    /// The first half of sending an IPv4 datagram whose payload is written
    /// in place: routing, the next hop's link address (asking ARP when a
    /// request is due), the identification. The caller then has the device
    /// lend a buffer of `frame.length` bytes, calls `frame.write`, and
    /// reports with `recordSent`. (Split so that a stack can hand the
    /// device's buffer straight to TCP's writer, without wrapping closures
    /// inside closures, which costs an allocation per frame.)
    public mutating func prepareIPv4(
        to destination: IPv4Address, protocol: IPProtocol, payloadLength: Int, now: UInt64,
        transmit: FrameTransmit
    ) -> Result<IPv4Frame, SendFailure> {
        let largest = segmentationOffload && `protocol` == .tcp ? 65535 : mtu
        guard IPv4Repr.headerLength + payloadLength <= largest else {
            return .failure(SendFailure(.tooBig))
        }
        let mac: MACAddress
        switch linkAddress(for: destination, now: now, transmit: transmit) {
        case .success(let found): mac = found
        case .failure(let failure): return .failure(SendFailure(failed(failure.outcome)))
        }
        var ip = IPv4Repr(
            source: address.address, destination: destination, protocol: `protocol`,
            payloadLength: payloadLength, dontFragment: true)
        ip.identification = nextIdentification
        nextIdentification &+= 1
        return .success(
            IPv4Frame(ethernet: EthernetRepr(source: self.mac, destination: mac, etherType: .ipv4), ip: ip))
    }

    /// Counts a frame from `prepareIPv4` as sent, or the device's refusal.
    public mutating func recordSent(_ frame: IPv4Frame, sent: Bool) -> SendOutcome {
        sentFrame(sent, length: frame.unpaddedLength)
    }

    /// Sends a UDP datagram from local `sourcePort`. Datagrams larger than
    /// the MTU go in fragments. One whose next hop is being resolved is
    /// kept (a few are) and sent when the answer comes: `.resolving`.
    public mutating func sendUDP(
        _ payload: UnsafeRawBufferPointer, from sourcePort: UInt16, to destination: SocketAddress,
        now: UInt64, transmit: FrameTransmit
    ) -> SendOutcome {
        guard payload.count <= 65535 - IPv4Repr.headerLength - UDPRepr.headerLength else { return .tooBig }
        let mac: MACAddress
        switch linkAddress(for: destination.address, now: now, transmit: transmit) {
        case .success(let found): mac = found
        case .failure(let failure):
            guard failure.outcome == .resolving, let hop = nextHop(for: destination.address) else {
                return failed(failure.outcome)
            }
            if unresolved.count >= Self.unresolvedCapacity { unresolved.removeFirst() }
            unresolved.append(
                PendingDatagram(
                    nextHop: hop, destination: destination, sourcePort: sourcePort, payload: Array(payload)))
            return .resolving
        }
        let header = UDPRepr(
            sourcePort: sourcePort, destinationPort: destination.port, payloadLength: payload.count)
        // The checksum covers the data, which may go in several fragments:
        // sum it where it is, then write the header with it.
        var headerBytes: UInt64 = 0
        withUnsafeMutableBytes(of: &headerBytes) { bytes in
            // The header alone: `UDPRepr.emit` wants the data after it.
            for (index, word) in [header.sourcePort, header.destinationPort, UInt16(header.bufferLength)]
                .enumerated()
            {
                bytes[2 * index] = UInt8(word >> 8)
                bytes[2 * index + 1] = UInt8(word & 0xff)
            }
            var checksum = pseudoHeaderChecksum(
                source: address.address, destination: destination.address, protocol: .udp,
                length: UInt16(header.bufferLength))
            checksum.add(UnsafeRawBufferPointer(bytes))
            checksum.add(payload)
            // RFC 768: a computed 0 is sent as all ones.
            let value = checksum.value == 0 ? 0xffff : checksum.value
            bytes[6] = UInt8(value >> 8)
            bytes[7] = UInt8(value & 0xff)
        }
        let ip = IPv4Repr(
            source: address.address, destination: destination.address, protocol: .udp,
            payloadLength: header.bufferLength)
        let outcome = withUnsafeBytes(of: headerBytes) { header in
            sendFragmented(ip, to: mac, header: header, data: payload, transmit: transmit)
        }
        if outcome == .sent { counters.udpDatagramsSent &+= 1 }
        return outcome
    }

    /// Sends an ICMP message whose data follows its header (and, for
    /// errors, the quoted header) and may be larger than the MTU.
    mutating func sendICMP(
        _ message: ICMPv4Repr, data: UnsafeRawBufferPointer, to destination: IPv4Address, now: UInt64,
        transmit: FrameTransmit
    ) -> SendOutcome {
        let mac: MACAddress
        switch linkAddress(for: destination, now: now, transmit: transmit) {
        case .success(let found): mac = found
        case .failure(let failure): return failed(failure.outcome)
        }
        // The header (8 bytes, and 20 of quoted header for an error) is
        // built apart and its checksum summed over the data where it is.
        var header = (UInt64(0), UInt64(0), UInt64(0), UInt32(0))
        let headerLength = message.dataOffset
        let outcome = withUnsafeMutableBytes(of: &header) { space in
            let bytes = UnsafeMutableRawBufferPointer(rebasing: space[..<headerLength])
            ICMPv4Repr(message: message.message, dataLength: 0).emit(into: bytes, computeChecksum: false)
            var checksum = InternetChecksum()
            checksum.add(UnsafeRawBufferPointer(bytes))
            checksum.add(data)
            bytes[2] = UInt8(checksum.value >> 8)
            bytes[3] = UInt8(checksum.value & 0xff)
            let ip = IPv4Repr(
                source: address.address, destination: destination, protocol: .icmp,
                payloadLength: message.bufferLength)
            return sendFragmented(
                ip, to: mac, header: UnsafeRawBufferPointer(bytes), data: data, transmit: transmit)
        }
        return outcome
    }

    /// Sends `datagram` to link address `destination`, in fragments if it
    /// is larger than the MTU, with the next identification. Its payload is
    /// `header` then `data`.
    mutating func sendFragmented(
        _ datagram: IPv4Repr, to destination: MACAddress, header: UnsafeRawBufferPointer,
        data: UnsafeRawBufferPointer, transmit: FrameTransmit
    ) -> SendOutcome {
        var datagram = datagram
        datagram.identification = nextIdentification
        nextIdentification &+= 1
        guard let fragments = IPv4Fragments(datagram, mtu: mtu) else {
            counters.datagramsTooBig &+= 1
            return .tooBig
        }
        let ethernet = EthernetRepr(source: mac, destination: destination, etherType: .ipv4)
        for (ip, range) in fragments {
            let length = EthernetRepr.headerLength + ip.bufferLength
            let sent = transmit(Self.paddedLength(length)) { frame in
                ethernet.emit(into: frame)
                let ipBytes = UnsafeMutableRawBufferPointer(
                    rebasing: frame[EthernetRepr.headerLength..<length])
                let payload = UnsafeMutableRawBufferPointer(rebasing: ipBytes[IPv4Repr.headerLength...])
                Self.copy(header, at: 0, into: payload, window: range)
                Self.copy(data, at: header.count, into: payload, window: range)
                ip.emit(into: ipBytes)
                Self.pad(frame, after: length)
            }
            guard sentFrame(sent, length: length) == .sent else { return .deviceBusy }
            if ip.isFragment { counters.fragmentsSent &+= 1 }
        }
        return .sent
    }

    /// Announces the host's address with a gratuitous ARP request (RFC
    /// 5227 section 2.3: sender and target are both our address), so that
    /// neighbours update their caches; sent on start and on a new address.
    public mutating func announce(transmit: FrameTransmit) {
        guard isConfigured else { return }
        let request = ARPRepr(
            operation: .request, senderHardwareAddress: mac, senderProtocolAddress: address.address,
            targetHardwareAddress: MACAddress(rawValue: 0), targetProtocolAddress: address.address)
        if sendARP(request, to: .broadcast, transmit: transmit) { counters.arpRequestsSent &+= 1 }
    }

    /// Asks again for the next hops of kept datagrams, and drops those
    /// whose next hop did not answer. Call at `nextDeadline`.
    public mutating func poll(now: UInt64, transmit: FrameTransmit) {
        guard !unresolved.isEmpty else { return }
        var hops: [IPv4Address] = []
        for datagram in unresolved where !hops.contains(datagram.nextHop) { hops.append(datagram.nextHop) }
        for hop in hops {
            if neighbours.lookup(hop, now: now) != nil {
                flushUnresolved(to: hop, now: now, transmit: transmit)
                continue
            }
            switch neighbours.resolve(hop, now: now) {
            case .ask: sendARPRequest(for: hop, transmit: transmit)
            case .wait: break
            case .unreachable:
                let before = unresolved.count
                unresolved.removeAll { $0.nextHop == hop }
                counters.datagramsUnreachable &+= UInt64(before - unresolved.count)
            }
        }
    }

    /// When `poll` must run next: the next ARP request for a kept datagram.
    public var nextDeadline: UInt64? {
        unresolved.isEmpty ? nil : neighbours.nextRequest
    }

    /// Sends the datagrams kept for `hop`, now that its address is known.
    mutating func flushUnresolved(to hop: IPv4Address, now: UInt64, transmit: FrameTransmit) {
        guard unresolved.contains(where: { $0.nextHop == hop }) else { return }
        let ready = unresolved.filter { $0.nextHop == hop }
        unresolved.removeAll { $0.nextHop == hop }
        for datagram in ready {
            _ = datagram.payload.withUnsafeBytes { payload in
                sendUDP(
                    payload, from: datagram.sourcePort, to: datagram.destination, now: now, transmit: transmit
                )
            }
        }
    }

    private mutating func sendARPRequest(for address: IPv4Address, transmit: FrameTransmit) {
        let request = ARPRepr(
            operation: .request, senderHardwareAddress: mac, senderProtocolAddress: self.address.address,
            targetHardwareAddress: MACAddress(rawValue: 0), targetProtocolAddress: address)
        if sendARP(request, to: .broadcast, transmit: transmit) { counters.arpRequestsSent &+= 1 }
    }

    mutating func sendARP(_ arp: ARPRepr, to destination: MACAddress, transmit: FrameTransmit) -> Bool {
        let ethernet = EthernetRepr(source: mac, destination: destination, etherType: .arp)
        let length = EthernetRepr.headerLength + ARPRepr.bufferLength
        let sent = transmit(Self.paddedLength(length)) { frame in
            ethernet.emit(into: frame)
            arp.emit(into: UnsafeMutableRawBufferPointer(rebasing: frame[EthernetRepr.headerLength...]))
            Self.pad(frame, after: length)
        }
        return sentFrame(sent, length: Self.paddedLength(length)) == .sent
    }

    private mutating func sentFrame(_ sent: Bool, length: Int) -> SendOutcome {
        guard sent else {
            counters.transmitFailures &+= 1
            return .deviceBusy
        }
        counters.framesSent &+= 1
        counters.bytesSent &+= UInt64(length)
        return .sent
    }

    private mutating func failed(_ outcome: SendOutcome) -> SendOutcome {
        if outcome == .unreachable { counters.datagramsUnreachable &+= 1 }
        return outcome
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
}

/// Why a datagram could not go (an `Error` so that `Result` can carry it).
public struct SendFailure: Error {
    public let outcome: SendOutcome
    init(_ outcome: SendOutcome) { self.outcome = outcome }
}

/// An IPv4 datagram ready to be written into a frame: its Ethernet and
/// IPv4 headers, from `EthernetInterface.prepareIPv4`.
public struct IPv4Frame {
    let ethernet: EthernetRepr
    let ip: IPv4Repr

    /// The frame's length, padded to Ethernet's minimum.
    public var length: Int { EthernetInterface.paddedLength(unpaddedLength) }
    var unpaddedLength: Int { EthernetRepr.headerLength + ip.bufferLength }

    /// Writes the frame into `buffer` (`length` bytes): the headers, the
    /// payload by `payload`, the padding.
    public func write(
        into buffer: UnsafeMutableRawBufferPointer, payload: (UnsafeMutableRawBufferPointer) -> Void
    ) {
        let end = unpaddedLength
        ethernet.emit(into: buffer)
        let ipBytes = UnsafeMutableRawBufferPointer(rebasing: buffer[EthernetRepr.headerLength..<end])
        payload(UnsafeMutableRawBufferPointer(rebasing: ipBytes[IPv4Repr.headerLength...]))
        ip.emit(into: ipBytes)
        EthernetInterface.pad(buffer, after: end)
    }
}
