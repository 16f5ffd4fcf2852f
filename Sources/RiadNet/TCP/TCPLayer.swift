import Riad

// The TCP engine of one IPv4 host (RFC 9293), sans-I/O: it is handed
// received segments and the time, and asked to emit what is due; it reads
// no clock and touches no device, so every test is deterministic.
//
// This file: the layer's state and the application's calls (RFC 9293
// section 3.10.1 to 3.10.6: OPEN, SEND, RECEIVE, CLOSE, ABORT, STATUS).
// TCPLayer+Input.swift takes segments in, TCPLayer+Output.swift sends and
// runs timers, TCPLayer+Table.swift keeps the connection slots.
//
// Memory: everything is allocated up front or once per connection. The
// layer reserves its slot table, index buckets and reset queue when it is
// made. A connection allocates its send and receive rings, its reassembly
// ranges and its SACK scoreboard once: at `connect`, or when a passive
// open completes its handshake (so a SYN flood costs no buffers), and
// gives them back when it is freed, or when it enters TIME-WAIT after the
// application let go of it. Between those, segments in and out copy bytes
// between the rings and the caller's buffers and allocate nothing: no
// per-segment arrays, no closures that escape, no existentials.

/// TCP for one IPv4 host: listeners and connections.
///
/// ```swift
/// var tcp = TCPLayer(seed: entropy)
/// let listener = try tcp.listen(port: 80, backlog: 16)
/// // for every TCP segment received:
/// tcp.receive(segment: bytes, source: ip.source, destination: ip.destination, now: now)
/// // then, and whenever nextDeadline() comes:
/// tcp.poll(now: now) { source, destination, length, fill in
///     ip.send(from: source, to: destination, length: length, fill: fill)  // false: device full
/// }
/// if let id = tcp.accept(listener) { ... tcp.receive(id, into: buffer) ... }
/// ```
public struct TCPLayer {
    public let configuration: TCPConfiguration
    public internal(set) var counters = TCPCounters()

    /// Connection slots, reused; at most `maximumConnections`.
    var connections: [TCPConnection] = []
    var freeSlots: [Int] = []
    /// Heads of the 4-tuple hash chains (slot numbers, -1 for none).
    var buckets: [Int] = []
    var listeners: [TCPListenerSlot] = []
    var resets = TCPResetQueue()
    var generator: TCPSequenceGenerator
    /// The latest `now` the layer was given.
    var clock: UInt64 = 0
    /// Connections that reached ESTABLISHED so far: accept order.
    var establishedCount: UInt64 = 0
    /// Where the next poll starts sending, so that a device that fills up
    /// does not always starve the same connections.
    var pollCursor = 0

    /// - Parameters:
    ///   - configuration: The layer's tunables.
    ///   - seed: Secret randomness (the platform's entropy) for initial
    ///     sequence numbers (RFC 6528), timestamp offsets and ephemeral
    ///     ports (RFC 6056). The same seed replays the same numbers.
    public init(configuration: TCPConfiguration = .init(), seed: UInt64) {
        self.configuration = configuration
        generator = TCPSequenceGenerator(seed: seed)
        let slots = Swift.max(1, configuration.maximumConnections)
        connections.reserveCapacity(slots)
        freeSlots.reserveCapacity(slots)
        var bucketCount = 16
        while bucketCount < slots { bucketCount *= 2 }
        buckets = [Int](repeating: -1, count: bucketCount)
    }

    // MARK: Listeners

    /// Listens on `port` of every local address (RFC 9293 section 3.10.1,
    /// a passive OPEN).
    ///
    /// - Parameter backlog: Connections that may wait for `accept`, in
    ///   SYN-RECEIVED or established; capped at `maximumBacklog`.
    /// - Throws: `.invalidArgument` for port 0 or a backlog under 1,
    ///   `.addressInUse` if the port is taken.
    public mutating func listen(port: UInt16, backlog: Int) throws(RiadError) -> TCPListenerID {
        guard port != 0 else { throw RiadError(.invalidArgument, "port 0") }
        guard backlog >= 1 else { throw RiadError(.invalidArgument, "backlog under 1") }
        guard listenerSlot(port: port) == nil, !portUsedByConnection(port) else {
            throw RiadError(.addressInUse, "port already in use")
        }
        let listener = TCPListenerSlot(
            inUse: true, port: port, backlog: Swift.min(backlog, Swift.max(1, configuration.maximumBacklog)))
        if let free = listeners.firstIndex(where: { !$0.inUse }) {
            listeners[free].inUse = true
            listeners[free].port = listener.port
            listeners[free].backlog = listener.backlog
            return TCPListenerID(slot: UInt32(free), generation: listeners[free].generation)
        }
        listeners.append(listener)
        return TCPListenerID(slot: UInt32(listeners.count - 1), generation: 0)
    }

    /// The oldest connection of `listener` that completed its handshake
    /// (ESTABLISHED, or CLOSE-WAIT if the peer already closed), now the
    /// application's; nil if there is none.
    public mutating func accept(_ listener: TCPListenerID) -> TCPConnectionID? {
        guard let slot = listenerSlot(of: listener), let index = nextAcceptable(slot) else { return nil }
        connections[index].owned = true
        connections[index].listener = nil
        return id(ofSlot: index)
    }

    /// Whether `accept` would return a connection.
    public func hasPendingConnection(_ listener: TCPListenerID) -> Bool {
        guard let slot = listenerSlot(of: listener) else { return false }
        return nextAcceptable(slot) != nil
    }

    /// Stops listening. Connections not accepted yet are reset.
    public mutating func closeListener(_ listener: TCPListenerID) {
        guard let slot = listenerSlot(of: listener) else { return }
        for index in connections.indices
        where connections[index].inUse && connections[index].listener == slot && !connections[index].owned {
            abortSlot(index)
        }
        listeners[slot].inUse = false
        listeners[slot].generation &+= 1
    }

    // MARK: Connections

    /// Opens a connection from `local` (an ephemeral port) to `remote`
    /// (RFC 9293 section 3.10.1, an active OPEN): SYN-SENT, the SYN at the
    /// next poll.
    ///
    /// - Throws: `.invalidArgument` for port 0 or an address that is not
    ///   unicast; `.exhausted` when no port or slot is free.
    public mutating func connect(from local: IPv4Address, to remote: SocketAddress, now: UInt64)
        throws(RiadError) -> TCPConnectionID
    {
        guard remote.port != 0, remote.address.isUnicast, !remote.address.isUnspecified,
            local.isUnicast, !local.isUnspecified
        else { throw RiadError(.invalidArgument, "not a unicast address and port") }
        if clock < now { clock = now }
        guard let port = ephemeralPort(local: local, remote: remote) else {
            throw RiadError(.exhausted, "no ephemeral port free")
        }
        guard let slot = allocateSlot() else { throw RiadError(.exhausted, "connection table full") }
        let localAddress = SocketAddress(local, port)
        openSlot(slot, local: localAddress, remote: remote, state: .synSent, now: now)
        connections[slot].owned = true
        return id(ofSlot: slot)
    }

    /// Queues bytes to send (RFC 9293 section 3.10.2): copies as many as
    /// the send buffer has room for and returns how many (0 when full).
    /// Bytes queued before the handshake completes wait for it.
    ///
    /// - Throws: `.closed` after `shutdown` or `close` (or for an unknown
    ///   ID); `.refused`, `.reset`, `.timedOut` once the connection failed.
    public mutating func send(_ id: TCPConnectionID, _ bytes: UnsafeRawBufferPointer) throws(RiadError) -> Int
    {
        guard let slot = slot(of: id) else { throw RiadError(.closed, "unknown connection") }
        return try connections[slot].applicationSend(bytes)
    }

    /// Reads received bytes (RFC 9293 section 3.10.3).
    ///
    /// - Returns: nil when nothing has arrived yet (wait for
    ///   `status(id).readable`); 0 at the end of the stream (the peer's FIN
    ///   and everything before it read); otherwise the bytes copied. An
    ///   empty `buffer` reads nothing.
    /// - Throws: `.closed` after `close` (or for an unknown ID); `.refused`,
    ///   `.reset`, `.timedOut` once the connection failed (unread data is
    ///   dropped then, RFC 9293 section 3.10.7.4).
    public mutating func receive(_ id: TCPConnectionID, into buffer: UnsafeMutableRawBufferPointer)
        throws(RiadError) -> Int?
    {
        guard let slot = slot(of: id) else { throw RiadError(.closed, "unknown connection") }
        return try connections[slot].applicationReceive(into: buffer, configuration)
    }

    /// Closes the sending direction: a FIN follows the data queued
    /// (RFC 9293 section 3.10.4). Receiving goes on. Calling it again does
    /// nothing.
    ///
    /// - Throws: `.closed` after `close`; the failure of a failed connection.
    public mutating func shutdown(_ id: TCPConnectionID) throws(RiadError) {
        guard let slot = slot(of: id) else { throw RiadError(.closed, "unknown connection") }
        try connections[slot].applicationShutdown()
    }

    /// Lets go of the connection: a FIN after the queued data, or a reset
    /// if received data was left unread (RFC 9293 section 3.10.4; RFC 2525
    /// section 2.17). The layer keeps the connection through FIN-WAIT,
    /// CLOSING, LAST-ACK and TIME-WAIT and frees its slot after; data that
    /// arrives meanwhile is answered with a reset. The ID stays valid for
    /// `state` until then; every other call throws `.closed`.
    public mutating func close(_ id: TCPConnectionID) {
        guard let slot = slot(of: id), !connections[slot].applicationClosed else { return }
        connections[slot].applicationClosed = true
        connections[slot].owned = false
        let state = connections[slot].state
        if state == .synSent {
            freeSlot(slot)
            return
        }
        if !connections[slot].receiveBuffer.isEmpty && state != .closed {
            abortSlot(slot)
            return
        }
        switch state {
        case .synReceived, .established, .closeWait:
            connections[slot].queueFIN()
        case .finWait2:
            connections[slot].closeDeadline = clock &+ configuration.finWait2Timeout
        default:
            break
        }
        settle(slot)
    }

    /// Resets the connection and frees it at once (RFC 9293 section
    /// 3.10.5, ABORT).
    public mutating func abort(_ id: TCPConnectionID) {
        guard let slot = slot(of: id) else { return }
        abortSlot(slot)
    }

    /// Turns Nagle's algorithm off (`on` true: send short segments at once)
    /// or back on.
    public mutating func setNoDelay(_ id: TCPConnectionID, _ on: Bool) {
        guard let slot = slot(of: id) else { return }
        connections[slot].noDelay = on
    }

    // MARK: Status

    /// The connection's state; nil for an ID the layer does not know (never
    /// given out, or freed).
    public func state(_ id: TCPConnectionID) -> TCPState? {
        slot(of: id).map { connections[$0].state }
    }

    /// What the application may do now. An unknown ID reads as failed with
    /// `.closed` (every call on it would throw that).
    public func status(_ id: TCPConnectionID) -> TCPConnectionStatus {
        guard let slot = slot(of: id) else {
            return TCPConnectionStatus(readable: true, writable: true, error: .closed)
        }
        return connections[slot].status
    }

    public func local(_ id: TCPConnectionID) -> SocketAddress? {
        slot(of: id).map { connections[$0].local }
    }

    public func remote(_ id: TCPConnectionID) -> SocketAddress? {
        slot(of: id).map { connections[$0].remote }
    }

    /// Connections in `state` (listeners for `.listen`), for monitoring.
    public func connectionCount(in state: TCPState) -> Int {
        if state == .listen { return listeners.reduce(0) { $0 + ($1.inUse ? 1 : 0) } }
        var count = 0
        for connection in connections where connection.inUse && connection.state == state { count += 1 }
        return count
    }
}

extension TCPConnection {
    /// A FIN after the queued data, with the state change RFC 9293 section
    /// 3.10.4 gives for CLOSE.
    mutating func queueFIN() {
        guard !finQueued else { return }
        finQueued = true
        switch state {
        case .established: state = .finWait1
        case .closeWait: state = .lastAck
        default: break
        }
    }
}
