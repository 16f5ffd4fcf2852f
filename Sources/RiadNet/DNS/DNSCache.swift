// The stub resolver's answers, kept for their time to live: RFC 1035
// section 3.2.1 and 7.4 (TTL: how long a record may be cached), RFC 2181
// section 8 (TTLs are unsigned 31 bits), RFC 8767 section 4 (cap them: one
// day here). Only positive answers are kept; negative caching (RFC 2308) is
// not implemented.

/// A small table from host names to one IPv4 address each, with expiry.
///
/// Bounded: when it is full, an expired entry or else the one closest to
/// expiry makes room. A linear search of a few dozen entries is what a
/// unikernel that talks to a handful of hosts needs.
public struct DNSCache: Sendable {
    public struct Entry: Sendable, Hashable {
        /// The name asked for, lower case, no trailing dot.
        public let name: String
        public var address: IPv4Address
        /// Monotonic nanoseconds after which the answer is stale.
        public var expiresAt: UInt64
    }

    public let capacity: Int
    /// TTLs are cut to this, in seconds.
    public let maximumTTL: UInt32
    public private(set) var entries: [Entry] = []

    public init(capacity: Int = 32, maximumTTL: UInt32 = 86_400) {
        self.capacity = Swift.max(capacity, 0)
        self.maximumTTL = maximumTTL
    }

    /// The address of `name` (as `DNSQuery` keeps it) and the seconds it
    /// is still good for; nil if absent or stale.
    public func lookup(_ name: String, now: UInt64) -> (address: IPv4Address, ttl: UInt32)? {
        guard let index = find(name), entries[index].expiresAt > now else { return nil }
        let entry = entries[index]
        let seconds = (entry.expiresAt - now) / DNSCache.nanosecondsPerSecond
        return (entry.address, UInt32(clamping: seconds))
    }

    /// Remembers `address` for `name` for `ttl` seconds (at most
    /// `maximumTTL`); a TTL of 0 means "do not cache" (RFC 1035 section 3.2.1).
    public mutating func insert(_ name: String, _ address: IPv4Address, ttl: UInt32, now: UInt64) {
        let seconds = Swift.min(ttl, maximumTTL)
        guard seconds > 0, capacity > 0 else { return }
        let expiresAt = DHCPLease.add(now, UInt64(seconds) * DNSCache.nanosecondsPerSecond)
        if let index = find(name) {
            entries[index].address = address
            entries[index].expiresAt = expiresAt
            return
        }
        if entries.count >= capacity {
            // The entry closest to expiry: an expired one if there is any.
            var victim = 0
            for index in entries.indices where entries[index].expiresAt < entries[victim].expiresAt {
                victim = index
            }
            entries.remove(at: victim)
        }
        entries.append(Entry(name: DNSCache.lowercased(name), address: address, expiresAt: expiresAt))
    }

    /// Forgets every answer.
    public mutating func removeAll() {
        entries.removeAll()
    }

    static let nanosecondsPerSecond: UInt64 = 1_000_000_000

    private func find(_ name: String) -> Int? {
        entries.firstIndex { entry in
            entry.name.utf8.elementsEqual(name.utf8.lazy.map(DNSNameReader.lowercased))
        }
    }

    /// ASCII lower case (RFC 4343: DNS names compare without regard to
    /// the case of ASCII letters).
    static func lowercased(_ name: String) -> String {
        String(decoding: name.utf8.map(DNSNameReader.lowercased), as: UTF8.self)
    }
}
