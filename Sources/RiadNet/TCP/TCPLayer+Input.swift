import Riad

// Segments in: parsing, demultiplexing by 4-tuple (RFC 9293 section
// 3.10.7), and the two states without a connection of their own: LISTEN
// (section 3.10.7.2) and CLOSED (section 3.10.7.1).

extension TCPLayer {
    /// Handles one received TCP segment: the IPv4 payload, from `source`
    /// to `destination`. Anything that does not parse (truncated,
    /// malformed, bad checksum) or comes from or goes to an address no
    /// connection can have is counted and dropped; no bytes make it trap.
    ///
    /// - Parameter checksumVerified: The device checked the checksum already.
    public mutating func receive(
        segment bytes: UnsafeRawBufferPointer, source: IPv4Address, destination: IPv4Address, now: UInt64,
        checksumVerified: Bool = false
    ) {
        if clock < now { clock = now }
        counters.segmentsReceived &+= 1
        guard
            let segment = try? TCPRepr.parse(
                bytes, source: source, destination: destination, verifyChecksum: !checksumVerified)
        else {
            counters.badSegments &+= 1
            return
        }
        // RFC 1122 section 4.2.3.10: a SYN to a broadcast or multicast
        // address is discarded; no segment of a connection can use one.
        guard source.isUnicast, !source.isUnspecified, destination.isUnicast, !destination.isUnspecified
        else {
            counters.badSegments &+= 1
            return
        }
        let payload = UnsafeRawBufferPointer(rebasing: bytes[segment.payload])
        let local = SocketAddress(destination, segment.destinationPort)
        let remote = SocketAddress(source, segment.sourcePort)
        if let slot = lookup(local: local, remote: remote) {
            let wasEstablished = connections[slot].wasEstablished
            let result = connections[slot].receive(
                segment, payload: payload, now: now, configuration, &counters)
            if !wasEstablished && connections[slot].wasEstablished { established(slot) }
            switch result {
            case .done:
                break
            case .reset(let sequence):
                queueReset(local: local, remote: remote, sequence: sequence, acknowledgment: nil)
            case .abort:
                queueReset(
                    local: local, remote: remote, sequence: connections[slot].sendMax, acknowledgment: nil)
            }
            settle(slot)
        } else if let listener = listenerSlot(port: segment.destinationPort) {
            receiveInListen(segment, listener: listener, local: local, remote: remote, now: now)
        } else {
            receiveInClosed(segment, local: local, remote: remote)
        }
    }

    /// Counts a connection that completed its handshake and records its
    /// place in the accept order.
    private mutating func established(_ slot: Int) {
        if connections[slot].passive {
            counters.passiveOpens &+= 1
        } else {
            counters.activeOpens &+= 1
        }
        establishedCount &+= 1
        connections[slot].establishedOrder = establishedCount
    }

    /// RFC 9293 section 3.10.7.2: a reset is ignored, an ACK is answered
    /// with a reset, a SYN opens a connection in SYN-RECEIVED if the backlog
    /// has room (otherwise it is dropped, and the peer will try again).
    private mutating func receiveInListen(
        _ segment: TCPRepr, listener: Int, local: SocketAddress, remote: SocketAddress, now: UInt64
    ) {
        if segment.flags.contains(.rst) {
            counters.resetsReceived &+= 1
            return
        }
        if let ack = segment.acknowledgmentNumber {
            counters.droppedNoConnection &+= 1
            queueReset(local: local, remote: remote, sequence: ack, acknowledgment: nil)
            return
        }
        guard segment.flags.contains(.syn) else {
            counters.droppedNoConnection &+= 1
            return
        }
        guard pendingCount(listener) < listeners[listener].backlog, let slot = allocateSlot() else {
            counters.backlogOverflows &+= 1
            return
        }
        openSlot(slot, local: local, remote: remote, state: .synReceived, now: now)
        connections[slot].listener = listener
        connections[slot].acceptSYN(segment, configuration)
    }

    /// RFC 9293 section 3.10.7.1: every segment but a reset is answered
    /// with a reset that the sender will find acceptable.
    private mutating func receiveInClosed(_ segment: TCPRepr, local: SocketAddress, remote: SocketAddress) {
        counters.droppedNoConnection &+= 1
        if segment.flags.contains(.rst) {
            counters.resetsReceived &+= 1
            return
        }
        if let ack = segment.acknowledgmentNumber {
            // <SEQ=SEG.ACK><CTL=RST>
            queueReset(local: local, remote: remote, sequence: ack, acknowledgment: nil)
        } else {
            // <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>
            queueReset(
                local: local, remote: remote, sequence: TCPSeqNumber(rawValue: 0),
                acknowledgment: segment.sequenceNumber + segment.segmentLength)
        }
    }
}
