/// Reproducible random buffers for "parse or throw, never crash" tests:
/// SplitMix64 (Steele, Lea and Flood, 2014), so that a failure names its
/// seed and buffer number and can be replayed.
struct SeededRandomBuffers {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    /// A number in 0...upper.
    mutating func next(upTo upper: Int) -> Int {
        Int(next() % UInt64(upper + 1))
    }

    /// A buffer of 0...maximumLength random bytes.
    mutating func buffer(maximumLength: Int) -> [UInt8] {
        let count = next(upTo: maximumLength)
        var bytes = [UInt8](repeating: 0, count: count)
        for index in 0..<count { bytes[index] = UInt8(truncatingIfNeeded: next()) }
        return bytes
    }

    /// `template` with 1...4 random bytes overwritten: deeper into a parser
    /// than noise gets, since most of the structure survives.
    mutating func mutation(of template: [UInt8]) -> [UInt8] {
        var bytes = template
        guard !bytes.isEmpty else { return bytes }
        for _ in 0...next(upTo: 3) {
            bytes[next(upTo: bytes.count - 1)] = UInt8(truncatingIfNeeded: next())
        }
        return bytes
    }
}
