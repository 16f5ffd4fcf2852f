// The sender's view of the peer's SACK blocks: RFC 2018 section 5 (the
// sender remembers what was SACKed and does not send it again), section 8
// (SACKed data stays in the buffer, since the receiver may renege, and the
// scoreboard is forgotten after a retransmission timeout), and the idea of
// RFC 6675's NextSeg: retransmit the holes below the highest SACKed byte.
//
// Like the receiver's ranges, a small fixed set reserved once per
// connection; blocks that would need more ranges are ignored, which only
// costs a retransmission.

/// Sequence ranges the peer has reported holding beyond SND.UNA, sorted
/// and disjoint.
struct TCPSACKScoreboard {
    static let capacity = 8
    private var ranges: [TCPSACKBlock] = []

    init() {}

    mutating func reserve() {
        ranges.reserveCapacity(Self.capacity)
    }

    mutating func release() {
        ranges = []
    }

    var isEmpty: Bool { ranges.isEmpty }

    /// The end of the highest SACKed range.
    var highest: TCPSeqNumber? { ranges.last?.right }

    /// Takes the blocks of one ACK. Blocks not within (SND.UNA, SND.NXT]
    /// are ignored: stale, or made up.
    mutating func record(_ blocks: TCPSACKBlocks, unacknowledged: TCPSeqNumber, sent: TCPSeqNumber) {
        for block in blocks {
            guard unacknowledged < block.right, block.left < block.right, !(sent < block.right) else {
                continue
            }
            insert(TCPSACKBlock(left: TCPSeqNumber.max(block.left, unacknowledged), right: block.right))
        }
    }

    private mutating func insert(_ block: TCPSACKBlock) {
        var lower = block.left
        var upper = block.right
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
            lower = TCPSeqNumber.min(lower, range.left)
            upper = TCPSeqNumber.max(upper, range.right)
            if first == nil { first = index }
            last = index
        }
        if let first {
            ranges[first] = TCPSACKBlock(left: lower, right: upper)
            if last > first { ranges.removeSubrange((first + 1)...last) }
        } else if ranges.count < Self.capacity {
            ranges.insert(TCPSACKBlock(left: lower, right: upper), at: position)
        }
    }

    /// Forgets what SND.UNA has passed.
    mutating func acknowledge(_ unacknowledged: TCPSeqNumber) {
        var passed = 0
        for index in ranges.indices {
            if !(unacknowledged < ranges[index].right) {
                passed += 1
            } else {
                if ranges[index].left < unacknowledged { ranges[index].left = unacknowledged }
                break
            }
        }
        if passed > 0 { ranges.removeSubrange(0..<passed) }
    }

    mutating func removeAll() {
        ranges.removeAll(keepingCapacity: true)
    }

    /// The first sequence number at or after `start` that is not SACKed,
    /// and where the next SACKed range begins after it (nil: none).
    func nextUnsacked(from start: TCPSeqNumber) -> (start: TCPSeqNumber, limit: TCPSeqNumber?) {
        var position = start
        for range in ranges {
            if !(position < range.left) {
                if position < range.right { position = range.right }
                continue
            }
            return (position, range.left)
        }
        return (position, nil)
    }

    /// SACKed bytes between `lower` and `upper`.
    func sackedBytes(from lower: TCPSeqNumber, to upper: TCPSeqNumber) -> Int {
        var total = 0
        for range in ranges {
            let left = TCPSeqNumber.max(range.left, lower)
            let right = TCPSeqNumber.min(range.right, upper)
            if left < right { total += right - left }
        }
        return total
    }
}
