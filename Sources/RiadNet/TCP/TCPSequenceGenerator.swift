// Initial sequence numbers after RFC 6528 section 3:
//
//     ISN = M + F(localip, localport, remoteip, remoteport, secretkey)
//
// "where M is the 4 microsecond timer" and F a keyed hash; F here is
// SipHash-2-4 (Aumasson and Bernstein, 2012) keyed from the layer's seed.
// The same secret also offsets each connection's timestamp clock (RFC 7323
// section 7.1 suggests a random offset per connection) and picks ephemeral
// ports (RFC 6056 section 3.3.1, the simple random selection).

/// The layer's secrets and its source of ephemeral-port choices, all from
/// one seed.
struct TCPSequenceGenerator {
    private let key0: UInt64
    private let key1: UInt64
    private var state: UInt64

    init(seed: UInt64) {
        var keys = SplitMix64(state: seed)
        key0 = keys.next()
        key1 = keys.next()
        state = keys.next()
    }

    /// The next number of a SplitMix64 sequence (Steele, Lea and Flood, 2014).
    mutating func next() -> UInt64 {
        var random = SplitMix64(state: state)
        let value = random.next()
        state = random.state
        return value
    }

    /// The ISS for a connection between `local` and `remote` at `now`
    /// (nanoseconds): a keyed hash of the 4-tuple plus a clock that ticks
    /// every 4 microseconds (RFC 6528 section 3).
    func initialSequence(local: SocketAddress, remote: SocketAddress, now: UInt64) -> TCPSeqNumber {
        let hash = tupleHash(local: local, remote: remote, domain: 0)
        let clock = UInt32(truncatingIfNeeded: now / 4000)
        return TCPSeqNumber(rawValue: UInt32(truncatingIfNeeded: hash) &+ clock)
    }

    /// A per-connection offset for the timestamp clock (RFC 7323 section 7.1).
    func timestampOffset(local: SocketAddress, remote: SocketAddress) -> UInt32 {
        UInt32(truncatingIfNeeded: tupleHash(local: local, remote: remote, domain: 1))
    }

    /// A hash of the 4-tuple for the connection table's buckets.
    func bucketHash(local: SocketAddress, remote: SocketAddress) -> UInt64 {
        tupleHash(local: local, remote: remote, domain: 2)
    }

    private func tupleHash(local: SocketAddress, remote: SocketAddress, domain: UInt64) -> UInt64 {
        let addresses = UInt64(local.address.rawValue) << 32 | UInt64(remote.address.rawValue)
        let ports = UInt64(local.port) << 48 | UInt64(remote.port) << 32 | domain
        return Self.sipHash(key0: key0, key1: key1, addresses, ports)
    }

    /// SipHash-2-4 of two 64-bit words (16 bytes of message).
    static func sipHash(key0: UInt64, key1: UInt64, _ word0: UInt64, _ word1: UInt64) -> UInt64 {
        var v0 = key0 ^ 0x736f_6d65_7073_6575
        var v1 = key1 ^ 0x646f_7261_6e64_6f6d
        var v2 = key0 ^ 0x6c79_6765_6e65_7261
        var v3 = key1 ^ 0x7465_6462_7974_6573
        func round() {
            v0 &+= v1
            v1 = v1.rotatedLeft(13) ^ v0
            v0 = v0.rotatedLeft(32)
            v2 &+= v3
            v3 = v3.rotatedLeft(16) ^ v2
            v0 &+= v3
            v3 = v3.rotatedLeft(21) ^ v0
            v2 &+= v1
            v1 = v1.rotatedLeft(17) ^ v2
            v2 = v2.rotatedLeft(32)
        }
        func compress(_ word: UInt64) {
            v3 ^= word
            round()
            round()
            v0 ^= word
        }
        compress(word0)
        compress(word1)
        // The final block holds the message length (16) in its top byte.
        compress(UInt64(16) << 56)
        v2 ^= 0xff
        round()
        round()
        round()
        round()
        return v0 ^ v1 ^ v2 ^ v3
    }
}

/// SplitMix64 (Steele, Lea and Flood, 2014): a small, fast generator for
/// numbers that need to be unpredictable only to someone without the seed.
struct SplitMix64 {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

extension UInt64 {
    fileprivate func rotatedLeft(_ count: UInt64) -> UInt64 {
        (self << count) | (self >> (64 - count))
    }
}
