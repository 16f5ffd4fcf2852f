import Riad

// One connection's transmission control block: RFC 9293 section 3.3.1's
// variables (SND.UNA, SND.NXT, SND.WND, SND.WL1, SND.WL2, ISS, RCV.NXT,
// RCV.WND, IRS), the buffers, and the state of every algorithm that runs
// per connection. The behaviour is split by aspect:
// TCPConnection+Input.swift (segment arrival, RFC 9293 section 3.10.7),
// +Acknowledgment.swift (the ACK field: RTT, cwnd, loss recovery),
// +Output.swift (what to send), +Timers.swift, +Application.swift.
//
// Sequence variables, and how they differ from the RFC's:
// - `sendMax` is the RFC's SND.NXT: the highest sequence number sent. ACKs
//   are judged against it.
// - `sendNext` is where the next segment starts. It equals `sendMax`
//   except after a retransmission timeout (go-back-N from SND.UNA, RFC 5681
//   section 3.1 / RFC 6298 section 5.4) and while a zero-window probe is
//   out.
// - `sendBase` is the sequence number of the send buffer's first byte:
//   ISS + 1 plus the data acknowledged.

/// A connection slot: the TCB while one is open, an empty shell otherwise.
struct TCPConnection {
    // MARK: Slot

    /// Counts the connections this slot has held (TCPConnectionID.generation).
    var generation: UInt32 = 0
    var inUse = false
    /// Whether the connection table's index finds it by its 4-tuple.
    var indexed = false
    /// The next slot in the same index bucket, or -1.
    var nextInBucket = -1
    /// The listener slot it came from, while the application has not
    /// accepted it; nil for active opens and accepted connections.
    var listener: Int?
    /// The application holds the ID: an active open, or an accepted one.
    /// A closed connection nobody holds is freed.
    var owned = false
    /// When it reached ESTABLISHED, in order: `accept` takes the oldest.
    var establishedOrder: UInt64 = 0

    // MARK: State

    var state = TCPState.closed
    var local = SocketAddress(.unspecified, 0)
    var remote = SocketAddress(.unspecified, 0)
    /// Opened by a listener (RFC 9293 section 3.10.7.4: a reset in
    /// SYN-RECEIVED goes back to LISTEN for those).
    var passive = false
    var wasEstablished = false
    /// Why the connection failed, once it has.
    var error: RiadError.Kind?
    /// The application called `close`: it reads and sends no more.
    var applicationClosed = false
    /// A FIN follows the data queued (shutdown or close).
    var finQueued = false
    /// Send short segments at once (Nagle off).
    var noDelay = false

    // MARK: Send side

    var initialSendSequence = TCPSeqNumber(rawValue: 0)
    var sendUnacknowledged = TCPSeqNumber(rawValue: 0)
    var sendNext = TCPSeqNumber(rawValue: 0)
    var sendMax = TCPSeqNumber(rawValue: 0)
    var sendBase = TCPSeqNumber(rawValue: 0)
    /// SND.WND, scaled: bytes.
    var sendWindow = 0
    /// The largest window the peer has offered (RFC 5961 section 5.2's
    /// MAX.SND.WND; RFC 9293 section 3.8.6.2.1's "maximum window").
    var maximumSendWindow = 0
    var sendWindowUpdateSequence = TCPSeqNumber(rawValue: 0)
    var sendWindowUpdateAcknowledgment = TCPSeqNumber(rawValue: 0)
    /// The peer's window scale: windows it sends are shifted by this.
    var sendScale: UInt8 = 0
    /// The MSS the peer accepts, clamped to ours: data plus options per segment.
    var sendMSS = 536
    var sendBuffer = TCPRingBuffer.empty

    // MARK: Receive side

    var initialReceiveSequence = TCPSeqNumber(rawValue: 0)
    var receiveNext = TCPSeqNumber(rawValue: 0)
    /// RCV.NXT + RCV.WND as last advertised: the right edge the peer knows.
    var receiveAdvertisedEdge = TCPSeqNumber(rawValue: 0)
    /// Our window scale: windows we send are shifted right by this.
    var receiveScale: UInt8 = 0
    var receiveBuffer = TCPRingBuffer.empty
    var reassembly = TCPReassembly()
    /// Where the peer's FIN is, when it arrived ahead of data still missing.
    var pendingFIN: TCPSeqNumber?
    var finReceived = false
    /// In-order bytes received since the last ACK sent (delayed ACKs).
    var bytesSinceACK = 0
    /// The largest payload received: what a "full-sized segment" is here.
    var largestSegmentReceived = 0

    // MARK: Options (RFC 7323, RFC 2018)

    var sackPermitted = false
    var timestampsEnabled = false
    var timestampOffset: UInt32 = 0
    /// TS.Recent (RFC 7323 section 4.3).
    var timestampRecent: UInt32 = 0
    /// Last.ACK.sent (RFC 7323 section 4.3).
    var lastACKSent = TCPSeqNumber(rawValue: 0)

    // MARK: Output requests

    /// Send an ACK (or any segment, which carries one) at the next poll.
    var ackNow = false
    /// Retransmit the first unacknowledged segment, outside cwnd.
    var fastRetransmit = false
    /// Send one byte past a zero window (RFC 9293 section 3.8.6.1).
    var probeNow = false
    /// Send what the window allows now, small as it is (persist timer).
    var forceSend = false
    /// Send a keepalive probe (RFC 1122 section 4.2.3.6).
    var keepaliveProbeNow = false

    // MARK: Timers (monotonic nanoseconds)

    var retransmitDeadline: UInt64?
    /// Timeouts of the same data in a row (or of the SYN).
    var retransmissions = 0
    var delayedACKDeadline: UInt64?
    var persistDeadline: UInt64?
    var persistInterval: UInt64 = 0
    var probesUnanswered = 0
    var keepaliveProbes = 0
    /// TIME-WAIT's end, or when an orphaned FIN-WAIT-2 gives up.
    var closeDeadline: UInt64?
    var lastReceived: UInt64 = 0
    var lastSent: UInt64 = 0
    var challengeWindowStart: UInt64 = 0
    var challengeACKsInWindow = 0

    // MARK: Algorithms

    var rto = TCPRetransmissionTimer(initial: 1_000_000_000, minimum: 200_000_000, maximum: 60_000_000_000)
    /// The segment being timed when timestamps are off (Karn's rule: never
    /// a retransmitted one): an RTT sample when an ACK passes it.
    var timedSequence: TCPSeqNumber?
    var timedAt: UInt64 = 0
    var congestion = TCPCongestionControl(mss: 536, initialSequence: TCPSeqNumber(rawValue: 0))
    /// What the peer has SACKed (used only when SACK was negotiated).
    var scoreboard = TCPSACKScoreboard()
    /// Where the next retransmission in fast recovery starts (RFC 6675's
    /// NextSeg): SND.UNA, or a hole below the highest SACKed byte.
    var retransmitFrom = TCPSeqNumber(rawValue: 0)
    /// The end of the highest retransmission in this recovery (RFC 6675's
    /// HighRxt): holes below it were sent again already.
    var recoveryPoint = TCPSeqNumber(rawValue: 0)

    /// An empty slot.
    init(generation: UInt32) {
        self.generation = generation
    }

    /// A new connection between `local` and `remote`. Its buffers are
    /// allocated now for an active open (the application may queue data in
    /// SYN-SENT), when the handshake completes for a passive one, so that a
    /// flood of SYNs costs no buffer memory.
    init(
        generation: UInt32, local: SocketAddress, remote: SocketAddress, state: TCPState,
        initialSequence: TCPSeqNumber, timestampOffset: UInt32, configuration: TCPConfiguration,
        now: UInt64
    ) {
        self.generation = generation
        inUse = true
        self.local = local
        self.remote = remote
        self.state = state
        initialSendSequence = initialSequence
        sendUnacknowledged = initialSequence
        sendNext = initialSequence
        sendMax = initialSequence
        sendBase = initialSequence + 1
        self.timestampOffset = timestampOffset
        noDelay = !configuration.nagle
        sendMSS = Swift.max(Self.minimumMSS, Swift.min(536, configuration.mss))
        if state == .synSent { allocateBuffers(configuration) }
        receiveScale =
            configuration.windowScaling ? Self.windowShift(for: Self.receiveBufferSize(configuration)) : 0
        rto = TCPRetransmissionTimer(
            initial: configuration.initialRTO, minimum: configuration.minimumRTO,
            maximum: configuration.maximumRTO)
        congestion = TCPCongestionControl(mss: sendMSS, initialSequence: initialSequence)
        lastReceived = now
        lastSent = now
        challengeWindowStart = now
    }

    static func receiveBufferSize(_ configuration: TCPConfiguration) -> Int {
        Swift.max(1, configuration.receiveBufferSize)
    }

    /// Allocates the send and receive rings and the reassembly ranges, once.
    mutating func allocateBuffers(_ configuration: TCPConfiguration) {
        guard receiveBuffer.capacity == 0 else { return }
        sendBuffer = TCPRingBuffer(capacity: Swift.max(1, configuration.sendBufferSize))
        receiveBuffer = TCPRingBuffer(capacity: Self.receiveBufferSize(configuration))
        reassembly.reserve()
        scoreboard.reserve()
    }

    /// Gives the buffers back: for a connection in TIME-WAIT that the
    /// application has let go of, which will never send or read data again.
    mutating func releaseBuffers() {
        sendBuffer = .empty
        receiveBuffer = .empty
        reassembly.release()
        scoreboard.release()
    }

    /// Free receive space; in SYN-RECEIVED, before the buffers exist, what
    /// they will have.
    func receiveSpace(_ configuration: TCPConfiguration) -> Int {
        receiveBuffer.capacity == 0 && state == .synReceived
            ? Self.receiveBufferSize(configuration) : receiveBuffer.freeSpace
    }

    /// The receive buffer's size, as `receiveSpace` counts it.
    func receiveCapacity(_ configuration: TCPConfiguration) -> Int {
        receiveBuffer.capacity == 0 && state == .synReceived
            ? Self.receiveBufferSize(configuration) : receiveBuffer.capacity
    }

    /// The smallest MSS taken from a peer: smaller ones (down to 0, which
    /// would send nothing) are raised to it, as Linux raises them to 88.
    static let minimumMSS = 88

    /// The smallest shift that fits `buffer` bytes in 16 bits (RFC 7323
    /// section 2.3), at most 14.
    static func windowShift(for buffer: Int) -> UInt8 {
        var shift: UInt8 = 0
        while shift < TCPOptions.maximumWindowScale && buffer >> Int(shift) > Int(UInt16.max) {
            shift += 1
        }
        return shift
    }

    // MARK: Derived values

    /// Where the FIN goes (or went): after the last byte queued.
    var finSequence: TCPSeqNumber { sendBase + sendBuffer.count }

    /// The FIN has been sent at least once.
    var finSent: Bool { finQueued && finSequence < sendMax }

    /// The FIN has been acknowledged.
    var finAcknowledged: Bool { finQueued && finSequence < sendUnacknowledged }

    /// Bytes sent and not acknowledged, SYN and FIN included: FlightSize.
    var flightSize: Int { Swift.max(0, sendMax - sendUnacknowledged) }

    /// The application may still queue data.
    var acceptsData: Bool {
        !finQueued && !applicationClosed && error == nil
            && (state == .synSent || state == .synReceived || state == .established || state == .closeWait)
    }

    /// Data from the peer is still welcome (RFC 9293 section 3.10.7.4,
    /// "seventh, process the segment text").
    var receivesData: Bool {
        state == .established || state == .finWait1 || state == .finWait2
    }

    /// The timestamp clock: milliseconds, offset per connection.
    func timestampClock(_ now: UInt64) -> UInt32 {
        UInt32(truncatingIfNeeded: now / 1_000_000) &+ timestampOffset
    }

    /// When a keepalive probe is due, if keepalives apply.
    func keepaliveDeadline(_ configuration: TCPConfiguration) -> UInt64? {
        guard configuration.keepalive, state == .established || state == .closeWait else { return nil }
        let waited =
            configuration.keepaliveIdle &+ UInt64(keepaliveProbes) &* configuration.keepaliveInterval
        return lastReceived &+ waited
    }

    /// The earliest of the connection's timers.
    func nextTimer(_ configuration: TCPConfiguration) -> UInt64? {
        var earliest = Self.earlier(retransmitDeadline, delayedACKDeadline)
        earliest = Self.earlier(earliest, persistDeadline)
        earliest = Self.earlier(earliest, closeDeadline)
        return Self.earlier(earliest, keepaliveDeadline(configuration))
    }

    /// The earlier of two optional times; nil only if both are.
    static func earlier(_ a: UInt64?, _ b: UInt64?) -> UInt64? {
        guard let a else { return b }
        guard let b else { return a }
        return Swift.min(a, b)
    }

    // MARK: Transitions

    /// Enters CLOSED: every timer stops, the buffers are emptied (RFC 9293
    /// section 3.10.7.4 "all segment queues should be flushed" on a reset),
    /// and `error` is kept for the application.
    mutating func enterClosed(error: RiadError.Kind?) {
        state = .closed
        if let error {
            self.error = error
            receiveBuffer.removeAll()
            sendBuffer.removeAll()
        }
        reassembly.removeAll()
        scoreboard.removeAll()
        retransmitDeadline = nil
        delayedACKDeadline = nil
        persistDeadline = nil
        closeDeadline = nil
        ackNow = false
        fastRetransmit = false
        probeNow = false
        forceSend = false
        keepaliveProbeNow = false
    }

    /// Enters TIME-WAIT for 2 × MSL (RFC 9293 section 3.4.2), or restarts it.
    mutating func enterTimeWait(now: UInt64, _ configuration: TCPConfiguration) {
        state = .timeWait
        closeDeadline = now &+ configuration.timeWaitDuration
        retransmitDeadline = nil
        persistDeadline = nil
    }

    /// A challenge ACK (RFC 5961 sections 3.2, 4.2 and 5.2), at most
    /// `challengeACKsPerSecond` a second (section 7).
    mutating func challengeACK(now: UInt64, _ configuration: TCPConfiguration, _ counters: inout TCPCounters)
    {
        if now &- challengeWindowStart >= 1_000_000_000 {
            challengeWindowStart = now
            challengeACKsInWindow = 0
        }
        guard challengeACKsInWindow < configuration.challengeACKsPerSecond else {
            counters.challengeACKsSuppressed &+= 1
            return
        }
        challengeACKsInWindow += 1
        counters.challengeACKs &+= 1
        ackNow = true
    }
}
