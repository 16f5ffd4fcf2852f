import Riad

// The connection table: slots named by index and generation, a free list,
// and a hash index from the 4-tuple to the slot (chains threaded through
// the slots, so inserting and removing allocate nothing). RFC 9293 section
// 3.3.1 calls a connection's entry its TCB; the 4-tuple is what section
// 3.10.7 demultiplexes segments by.

/// A listening port.
struct TCPListenerSlot {
    var generation: UInt32 = 0
    var inUse = false
    var port: UInt16 = 0
    var backlog = 0
}

extension TCPLayer {
    /// The slot `id` names, if its connection is still there.
    func slot(of id: TCPConnectionID) -> Int? {
        let index = Int(id.slot)
        guard index < connections.count, connections[index].inUse,
            connections[index].generation == id.generation
        else { return nil }
        return index
    }

    func id(ofSlot index: Int) -> TCPConnectionID {
        TCPConnectionID(slot: UInt32(index), generation: connections[index].generation)
    }

    /// The slot `id` names, if the listener is still there.
    func listenerSlot(of id: TCPListenerID) -> Int? {
        let index = Int(id.slot)
        guard index < listeners.count, listeners[index].inUse, listeners[index].generation == id.generation
        else { return nil }
        return index
    }

    /// The listener on `port`, if any.
    func listenerSlot(port: UInt16) -> Int? {
        listeners.firstIndex { $0.inUse && $0.port == port }
    }

    /// Whether a connection uses `port` locally.
    func portUsedByConnection(_ port: UInt16) -> Bool {
        connections.contains { $0.inUse && $0.local.port == port }
    }

    /// The un-accepted, established connection of `listener` that got
    /// there first.
    func nextAcceptable(_ listener: Int) -> Int? {
        var best: Int?
        for index in connections.indices {
            let connection = connections[index]
            guard connection.inUse, !connection.owned, connection.listener == listener,
                connection.state == .established || connection.state == .closeWait
            else { continue }
            if let current = best, connections[current].establishedOrder < connection.establishedOrder {
                continue
            }
            best = index
        }
        return best
    }

    /// Connections of `listener` the application has not accepted yet,
    /// handshake done or not: what its backlog limits.
    func pendingCount(_ listener: Int) -> Int {
        var count = 0
        for index in connections.indices
        where connections[index].inUse && !connections[index].owned && connections[index].listener == listener
        {
            count += 1
        }
        return count
    }

    // MARK: Slots

    /// A free slot, or nil when the table is full. A full table gives up
    /// the oldest TIME-WAIT connection the application has let go of (and
    /// that has no ACK waiting to go):
    /// TIME-WAIT guards against old duplicates (RFC 9293 section 3.4.2),
    /// which clock-based ISSs (RFC 6528) also guard against, and a server
    /// that closes first would otherwise fill its table with them.
    mutating func allocateSlot() -> Int? {
        if let free = freeSlots.popLast() { return free }
        if connections.count < configuration.maximumConnections {
            connections.append(TCPConnection(generation: 0))
            return connections.count - 1
        }
        var oldest: Int?
        for index in connections.indices
        where connections[index].state == .timeWait && !connections[index].owned && !connections[index].ackNow
        {
            if let current = oldest,
                connections[current].closeDeadline ?? 0 <= connections[index].closeDeadline ?? 0
            {
                continue
            }
            oldest = index
        }
        guard let oldest else { return nil }
        freeSlot(oldest)
        return freeSlots.popLast()
    }

    /// Makes `slot` a new connection and indexes it.
    mutating func openSlot(
        _ slot: Int, local: SocketAddress, remote: SocketAddress, state: TCPState, now: UInt64
    ) {
        connections[slot] = TCPConnection(
            generation: connections[slot].generation, local: local, remote: remote, state: state,
            initialSequence: generator.initialSequence(local: local, remote: remote, now: now),
            timestampOffset: generator.timestampOffset(local: local, remote: remote),
            configuration: configuration, now: now)
        index(slot)
    }

    /// Frees `slot`: its buffers go, its generation moves on so that old
    /// IDs name nothing.
    mutating func freeSlot(_ slot: Int) {
        if connections[slot].indexed { unindex(slot) }
        connections[slot] = TCPConnection(generation: connections[slot].generation &+ 1)
        freeSlots.append(slot)
    }

    /// After anything that may have closed the connection in `slot`: a
    /// closed connection leaves the index, and is freed unless the
    /// application still holds its ID (to read its error or end of stream).
    mutating func settle(_ slot: Int) {
        guard connections[slot].inUse else { return }
        if connections[slot].state == .timeWait && !connections[slot].owned
            && connections[slot].receiveBuffer.capacity > 0
        {
            connections[slot].releaseBuffers()
        }
        guard connections[slot].state == .closed else { return }
        if connections[slot].indexed { unindex(slot) }
        if !connections[slot].owned { freeSlot(slot) }
    }

    /// Resets the connection in `slot` if its state calls for a reset
    /// (RFC 9293 section 3.10.5) and frees it.
    mutating func abortSlot(_ slot: Int) {
        switch connections[slot].state {
        case .synReceived, .established, .finWait1, .finWait2, .closeWait:
            queueReset(
                local: connections[slot].local, remote: connections[slot].remote,
                sequence: connections[slot].sendMax, acknowledgment: nil)
        default:
            break
        }
        freeSlot(slot)
    }

    /// Queues a reset for the next poll, or counts it dropped.
    mutating func queueReset(
        local: SocketAddress, remote: SocketAddress, sequence: TCPSeqNumber, acknowledgment: TCPSeqNumber?
    ) {
        let reset = TCPPendingReset(
            local: local, remote: remote, sequence: sequence, acknowledgment: acknowledgment)
        if !resets.append(reset) { counters.resetsDropped &+= 1 }
    }

    /// An ephemeral port (49152...65535, RFC 6335 section 6) that makes a
    /// new 4-tuple with `remote`, tried from a random start (RFC 6056
    /// section 3.3.1); nil if all are taken.
    mutating func ephemeralPort(local: IPv4Address, remote: SocketAddress) -> UInt16? {
        let first = 49152
        let count = 65536 - first
        let start = Int(generator.next() % UInt64(count))
        for step in 0..<count {
            let port = UInt16(first + (start + step) % count)
            if listenerSlot(port: port) == nil
                && lookup(local: SocketAddress(local, port), remote: remote) == nil
            {
                return port
            }
        }
        return nil
    }

    // MARK: Index

    private func bucket(local: SocketAddress, remote: SocketAddress) -> Int {
        Int(
            truncatingIfNeeded: generator.bucketHash(local: local, remote: remote) & UInt64(buckets.count - 1)
        )
    }

    /// The slot of the connection between `local` and `remote`.
    func lookup(local: SocketAddress, remote: SocketAddress) -> Int? {
        var slot = buckets[bucket(local: local, remote: remote)]
        while slot >= 0 {
            if connections[slot].local == local && connections[slot].remote == remote { return slot }
            slot = connections[slot].nextInBucket
        }
        return nil
    }

    private mutating func index(_ slot: Int) {
        let bucket = bucket(local: connections[slot].local, remote: connections[slot].remote)
        connections[slot].nextInBucket = buckets[bucket]
        connections[slot].indexed = true
        buckets[bucket] = slot
    }

    private mutating func unindex(_ slot: Int) {
        let bucket = bucket(local: connections[slot].local, remote: connections[slot].remote)
        connections[slot].indexed = false
        let next = connections[slot].nextInBucket
        connections[slot].nextInBucket = -1
        if buckets[bucket] == slot {
            buckets[bucket] = next
            return
        }
        var previous = buckets[bucket]
        while previous >= 0 {
            if connections[previous].nextInBucket == slot {
                connections[previous].nextInBucket = next
                return
            }
            previous = connections[previous].nextInBucket
        }
    }
}
