// Segments out and timers: `poll` emits what is due, `nextDeadline` says
// when to poll next. The device lends its buffer (`transmit` calls `fill`
// with exactly the segment's length), so a segment is written once, in
// place, and nothing is allocated.

extension TCPLayer {
    /// The most segments one connection sends in one poll: a window of
    /// 128 KiB is about 90 full segments. More waits for the next poll
    /// (`nextDeadline` then says "now"), so one connection cannot hold the
    /// loop for long.
    static let segmentsPerPoll = 128

    /// Runs the timers that expired by `now` and emits every segment that
    /// is due: resets, SYNs, data, retransmissions, FINs, ACKs, window
    /// updates and probes.
    ///
    /// - Parameter transmit: Called once per segment with its IPv4 source,
    ///   destination, length (header and payload) and a closure that
    ///   writes the segment, checksum included, into a buffer of exactly
    ///   that length. Returns false if the device cannot take a frame now:
    ///   the poll then stops and the segment goes at a later poll; nothing
    ///   is lost.
    public mutating func poll(
        now: UInt64,
        transmit: (IPv4Address, IPv4Address, Int, (UnsafeMutableRawBufferPointer) -> Void) -> Bool
    ) {
        // For callers without offload (tests, the fuzzer): the escape is a
        // formality that costs an allocation, so the stack uses the other.
        poll(now: now) { source, destination, length, _, fill in
            withoutActuallyEscaping(fill) { fill in transmit(source, destination, length, fill) }
        }
    }

    /// As `poll(now:transmit:)`, for a device that cuts segments
    /// (`TCPConfiguration.segmentationOffload`): `transmit` is also given
    /// the payload per wire segment of a segment the device is to cut (0
    /// for one that goes as it is). Such a segment's checksum field holds
    /// only the pseudo-header's sum, for the device to complete.
    public mutating func poll(
        now: UInt64,
        transmit: (IPv4Address, IPv4Address, Int, Int, (UnsafeMutableRawBufferPointer) -> Void) -> Bool
    ) {
        if clock < now { clock = now }
        while let reset = resets.first {
            let repr = reset.repr
            let sent = transmit(reset.local.address, reset.remote.address, repr.bufferLength, 0) { bytes in
                repr.emit(into: bytes, source: reset.local.address, destination: reset.remote.address)
            }
            guard sent else { return }
            resets.removeFirst()
            counters.resetsSent &+= 1
            counters.segmentsSent &+= 1
        }
        for slot in connections.indices where connections[slot].inUse {
            connections[slot].runTimers(now: now, configuration, &counters)
            settle(slot)
        }
        let count = connections.count
        guard count > 0 else { return }
        let start = pollCursor % count
        for step in 0..<count {
            let slot = (start + step) % count
            guard connections[slot].inUse else { continue }
            var budget = Self.segmentsPerPoll
            while budget > 0, let segment = connections[slot].nextSegment(now: now, configuration) {
                let sent = transmit(
                    connections[slot].local.address, connections[slot].remote.address,
                    segment.repr.bufferLength, segment.segmentSize
                ) { bytes in
                    connections[slot].fill(bytes, with: segment)
                }
                guard sent else {
                    pollCursor = slot
                    return
                }
                connections[slot].didSend(segment, now: now, &counters)
                budget -= 1
            }
            connections[slot].updatePersistTimer(now: now, configuration)
        }
        pollCursor = start + 1
    }

    /// When `poll` must run next: the earliest timer, or the latest time
    /// the layer was given if a segment is ready now (poll again at once);
    /// nil if nothing is pending.
    public func nextDeadline() -> UInt64? {
        if !resets.isEmpty { return clock }
        var earliest: UInt64?
        for slot in connections.indices where connections[slot].inUse {
            if connections[slot].nextSegment(now: clock, configuration) != nil { return clock }
            earliest = TCPConnection.earlier(earliest, connections[slot].nextTimer(configuration))
        }
        return earliest
    }
}
