import Riad

// The names an application and a network layer use to talk about TCP
// connections: identifiers, states (RFC 9293 section 3.3.2), status and
// counters.

/// One connection of a `TCPLayer`: a slot in its table and the slot's
/// generation, which counts the connections the slot has held. An ID kept
/// after its connection was freed names nothing, even once the slot holds
/// another connection.
public struct TCPConnectionID: Hashable, Sendable {
    /// The slot in the layer's connection table.
    public let slot: UInt32
    /// Which of the slot's connections this is.
    public let generation: UInt32

    public init(slot: UInt32, generation: UInt32) {
        self.slot = slot
        self.generation = generation
    }
}

/// One listening port of a `TCPLayer`, named as connections are.
public struct TCPListenerID: Hashable, Sendable {
    public let slot: UInt32
    public let generation: UInt32

    public init(slot: UInt32, generation: UInt32) {
        self.slot = slot
        self.generation = generation
    }
}

/// The states of RFC 9293 section 3.3.2 (figure 5).
public enum TCPState: Sendable, Hashable, CustomStringConvertible {
    case closed
    case listen
    case synSent
    case synReceived
    case established
    case finWait1
    case finWait2
    case closeWait
    case closing
    case lastAck
    case timeWait

    /// The RFC's name: "SYN-SENT", "TIME-WAIT".
    public var description: String {
        switch self {
        case .closed: return "CLOSED"
        case .listen: return "LISTEN"
        case .synSent: return "SYN-SENT"
        case .synReceived: return "SYN-RECEIVED"
        case .established: return "ESTABLISHED"
        case .finWait1: return "FIN-WAIT-1"
        case .finWait2: return "FIN-WAIT-2"
        case .closeWait: return "CLOSE-WAIT"
        case .closing: return "CLOSING"
        case .lastAck: return "LAST-ACK"
        case .timeWait: return "TIME-WAIT"
        }
    }

    /// Whether the handshake is over: every state after SYN-RECEIVED
    /// (RFC 9293 section 3.10.7.4's "synchronized" states).
    public var isSynchronized: Bool {
        switch self {
        case .closed, .listen, .synSent, .synReceived: return false
        default: return true
        }
    }
}

/// What an application may do with a connection now, for a socket layer
/// deciding whom to wake.
public struct TCPConnectionStatus: Sendable, Hashable {
    /// `receive` would not return nil: data, end of stream or an error waits.
    public var readable: Bool
    /// `send` would take bytes (there is room) or throw (an error waits).
    public var writable: Bool
    /// Free bytes in the send buffer.
    public var sendSpace: Int
    /// The handshake completed at some point.
    public var established: Bool
    /// Why the connection failed: `.refused`, `.reset` or `.timedOut`; nil
    /// while it has not. `.closed` for an ID the layer does not know.
    public var error: RiadError.Kind?

    public init(
        readable: Bool = false, writable: Bool = false, sendSpace: Int = 0, established: Bool = false,
        error: RiadError.Kind? = nil
    ) {
        self.readable = readable
        self.writable = writable
        self.sendSpace = sendSpace
        self.established = established
        self.error = error
    }
}

/// What happened to segments and connections, for monitoring. Counters
/// wrap rather than trap.
public struct TCPCounters: Sendable, Hashable {
    public var segmentsReceived: UInt64 = 0
    public var segmentsSent: UInt64 = 0
    /// Received and not parsed: truncated, malformed, bad checksum, or to
    /// or from an address no connection can have (broadcast, multicast).
    public var badSegments: UInt64 = 0
    /// Segments sent again: after a timeout, a fast retransmit, or a
    /// partial ACK in fast recovery.
    public var retransmissions: UInt64 = 0
    /// Retransmission timer expiries (RFC 6298 section 5.4).
    public var timeouts: UInt64 = 0
    /// Fast retransmits on three duplicate ACKs (RFC 5681 section 3.2).
    public var fastRetransmits: UInt64 = 0
    public var resetsSent: UInt64 = 0
    public var resetsReceived: UInt64 = 0
    /// RFC 5961 challenge ACKs sent.
    public var challengeACKs: UInt64 = 0
    /// Challenge ACKs not sent for the rate limit (RFC 5961 section 7).
    public var challengeACKsSuppressed: UInt64 = 0
    /// Segments for no connection and no listener (answered with RST
    /// unless they were RSTs).
    public var droppedNoConnection: UInt64 = 0
    /// Segments of a connection that were not acceptable: outside the
    /// window, an ACK for data not sent, old timestamps (PAWS).
    public var droppedUnacceptable: UInt64 = 0
    /// Segments whose data arrived ahead of a hole.
    public var outOfOrderSegments: UInt64 = 0
    /// Connections opened by `connect` that reached ESTABLISHED.
    public var activeOpens: UInt64 = 0
    /// Connections from a listener that reached ESTABLISHED.
    public var passiveOpens: UInt64 = 0
    /// Connections given up for unanswered retransmissions, SYNs or
    /// keepalive probes.
    public var connectionFailures: UInt64 = 0
    /// SYNs dropped because their listener's backlog or the table was full.
    public var backlogOverflows: UInt64 = 0
    /// RSTs not sent because the queue of RSTs to send was full.
    public var resetsDropped: UInt64 = 0

    public init() {}
}
