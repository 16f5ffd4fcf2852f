// Random numbers for the protocol engines: DHCP transaction IDs and
// retransmission jitter (RFC 2131 section 4.1), DNS query IDs (RFC 5452
// section 9.2). The engines are sans-I/O and read no device, so they draw
// from a generator seeded by their caller.

/// SplitMix64 (Steele, Lea and Flood, 2014): small, fast, and the same seed
/// gives the same numbers, so tests can replay an exchange.
///
/// It is NOT cryptographic: anyone who sees one output can compute the
/// rest. A kernel seeds each engine from the platform's `Entropy`; an
/// off-path attacker then cannot guess IDs, which is the protection RFC
/// 5452 asks of them. An on-path attacker sees the messages anyway.
struct ProtocolRandom: RandomNumberGenerator {
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

    /// A number in `-spread...spread`, uniform (to within 2^-64).
    mutating func jitter(_ spread: UInt64) -> Int64 {
        guard spread > 0 else { return 0 }
        let span = 2 * spread + 1
        return Int64(next() % span) - Int64(spread)
    }
}
