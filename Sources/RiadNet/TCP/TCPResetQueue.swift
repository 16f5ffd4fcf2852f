// Resets waiting for the next poll: answers to segments for no connection
// (RFC 9293 section 3.10.7.1), to unacceptable ACKs in SYN-SENT and
// SYN-RECEIVED, and aborted connections (section 3.10.5). They belong to no
// connection slot (the slot may be free already), so they queue here, in
// storage reserved once. When the queue is full, further resets are
// dropped and counted: a flood of stray segments cannot make the layer
// allocate, and a peer that gets no reset sends again.

/// One reset to send.
struct TCPPendingReset {
    var local: SocketAddress
    var remote: SocketAddress
    var sequence: TCPSeqNumber
    /// Set for the <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK> form.
    var acknowledgment: TCPSeqNumber?

    /// The segment: no options, no window.
    var repr: TCPRepr {
        TCPRepr(
            sourcePort: local.port, destinationPort: remote.port, sequenceNumber: sequence,
            acknowledgmentNumber: acknowledgment, flags: .rst, window: 0)
    }
}

/// A bounded FIFO of resets.
struct TCPResetQueue {
    static let capacity = 32
    private var entries: [TCPPendingReset] = []

    init() {
        entries.reserveCapacity(Self.capacity)
    }

    var isEmpty: Bool { entries.isEmpty }
    var first: TCPPendingReset? { entries.first }

    /// Queues `reset`; returns false (and queues nothing) when full.
    mutating func append(_ reset: TCPPendingReset) -> Bool {
        guard entries.count < Self.capacity else { return false }
        entries.append(reset)
        return true
    }

    mutating func removeFirst() {
        entries.removeFirst()
    }
}
