import Riad

/// IPv4 neighbours and their link addresses, with expiry (RFC 1122
/// 2.3.2.1: entries must time out), and the addresses being asked for.
/// Small arrays: a unikernel talks to few neighbours, and a linear search
/// of a few entries is fastest.
public struct NeighbourCache {
    public struct Entry: Sendable {
        public let address: IPv4Address
        public var mac: MACAddress
        /// Monotonic nanoseconds after which the entry is stale.
        public var expires: UInt64
    }

    /// An address being resolved: when it was last asked for, how often.
    struct Query {
        let address: IPv4Address
        var lastRequest: UInt64
        var requests: Int
    }

    public static let lifetime: UInt64 = 60_000_000_000
    public static let capacity = 64
    /// RFC 1122 2.3.2.1: at most one request per second per address.
    public static let requestInterval: UInt64 = 1_000_000_000
    /// Requests sent for an address before it is declared unreachable.
    public static let maximumRequests = 3
    public private(set) var entries: [Entry] = []
    private(set) var queries: [Query] = []

    public func lookup(_ address: IPv4Address, now: UInt64) -> MACAddress? {
        entries.first { $0.address == address && $0.expires > now }?.mac
    }

    func contains(_ address: IPv4Address) -> Bool {
        entries.contains { $0.address == address }
    }

    mutating func learn(_ address: IPv4Address, _ mac: MACAddress, now: UInt64) {
        queries.removeAll { $0.address == address }
        let expires = now &+ Self.lifetime
        if let index = entries.firstIndex(where: { $0.address == address }) {
            entries[index].mac = mac
            entries[index].expires = expires
            return
        }
        if entries.count >= Self.capacity {
            // Full: forget the entry closest to expiry.
            let oldest = entries.indices.min { entries[$0].expires < entries[$1].expires }!
            entries.remove(at: oldest)
        }
        entries.append(Entry(address: address, mac: mac, expires: expires))
    }

    /// What to do for `address`, which has no entry: ask (an ARP request
    /// is due), wait (one was sent less than a second ago), or give up
    /// (`maximumRequests` went unanswered; asking starts again after
    /// another interval).
    enum Resolution { case ask, wait, unreachable }

    mutating func resolve(_ address: IPv4Address, now: UInt64) -> Resolution {
        guard let index = queries.firstIndex(where: { $0.address == address }) else {
            if queries.count >= Self.capacity { queries.removeFirst() }
            queries.append(Query(address: address, lastRequest: now, requests: 1))
            return .ask
        }
        guard now &- queries[index].lastRequest >= Self.requestInterval else { return .wait }
        if queries[index].requests >= Self.maximumRequests {
            queries.remove(at: index)
            return .unreachable
        }
        queries[index].lastRequest = now
        queries[index].requests += 1
        return .ask
    }

    /// When the next request for an address being resolved is due.
    var nextRequest: UInt64? {
        queries.map { $0.lastRequest &+ Self.requestInterval }.min()
    }
}
