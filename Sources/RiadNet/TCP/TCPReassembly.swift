// Out-of-order data: RFC 9293 section 3.10.7.4 ("segments with higher
// beginning sequence numbers may be held for later processing"), RFC 5681
// section 4.2 (immediate ACKs for out-of-order data and for data that fills
// a hole) and RFC 2018 section 4 (what the SACK blocks report).
//
// The bytes themselves wait in the receive ring, after the in-order data at
// their offset from RCV.NXT (the window is the ring's free space, so every
// acceptable byte has a place). This type only remembers which ranges of
// sequence numbers are there: a small fixed set, reserved once per
// connection. A segment that would need one range more than the set holds
// is dropped and will be retransmitted; nothing is ever allocated per
// segment.

/// The ranges of sequence numbers received beyond RCV.NXT, sorted and
/// disjoint (adjacent ranges are merged).
struct TCPReassembly {
    /// Ranges remembered at most. Enough for the holes of a lossy window;
    /// a fifth SACK block would not fit in a segment anyway.
    static let capacity = 8

    private var ranges: [TCPSACKBlock] = []
    /// The start of the range that holds the segment received last: its
    /// block is reported first (RFC 2018 section 4).
    private var latest: TCPSeqNumber?

    /// No storage: the state of a free connection slot.
    init() {}

    /// Reserves the fixed storage; called once per connection.
    mutating func reserve() {
        ranges.reserveCapacity(Self.capacity)
    }

    var isEmpty: Bool { ranges.isEmpty }
    var count: Int { ranges.count }

    /// The end of the highest range, if any.
    var highestEnd: TCPSeqNumber? { ranges.last?.right }

    /// Remembers that `left..<right` arrived (both beyond the in-order
    /// data). Returns false when that would need more ranges than the set
    /// holds: the caller then drops the data.
    mutating func insert(from left: TCPSeqNumber, to right: TCPSeqNumber) -> Bool {
        guard left < right else { return true }
        var lower = left
        var upper = right
        var first: Int?
        var last = 0
        var position = ranges.count
        for index in ranges.indices {
            let range = ranges[index]
            if range.right < lower { continue }
            if upper < range.left {
                position = index
                break
            }
            // Overlapping or adjacent: merge.
            lower = TCPSeqNumber.min(lower, range.left)
            upper = TCPSeqNumber.max(upper, range.right)
            if first == nil { first = index }
            last = index
        }
        if let first {
            ranges[first] = TCPSACKBlock(left: lower, right: upper)
            if last > first { ranges.removeSubrange((first + 1)...last) }
        } else {
            guard ranges.count < Self.capacity else { return false }
            ranges.insert(TCPSACKBlock(left: lower, right: upper), at: position)
        }
        latest = lower
        return true
    }

    /// Takes the ranges that `next` (RCV.NXT) has reached out of the set
    /// and returns the new RCV.NXT: the end of the in-order data now.
    mutating func advance(_ next: TCPSeqNumber) -> TCPSeqNumber {
        var next = next
        var taken = 0
        for range in ranges {
            guard !(next < range.left) else { break }
            next = TCPSeqNumber.max(next, range.right)
            taken += 1
        }
        if taken > 0 { ranges.removeSubrange(0..<taken) }
        return next
    }

    /// Up to four SACK blocks: the range of the latest segment first, then
    /// the others in sequence order (RFC 2018 section 4). The options emit
    /// as many as fit.
    var sackBlocks: TCPSACKBlocks {
        var blocks = TCPSACKBlocks()
        var latestIndex: Int?
        if let latest {
            latestIndex = ranges.firstIndex { !(latest < $0.left) && latest < $0.right }
        }
        if let latestIndex { blocks.append(ranges[latestIndex]) }
        for index in ranges.indices where index != latestIndex {
            guard blocks.append(ranges[index]) else { break }
        }
        return blocks
    }

    /// Forgets every range; the storage stays.
    mutating func removeAll() {
        ranges.removeAll(keepingCapacity: true)
        latest = nil
    }

    /// Releases the storage (a freed slot).
    mutating func release() {
        ranges = []
        latest = nil
    }
}
