// A DNS stub resolver for A records over UDP: RFC 1034 section 5.3.1 (a
// stub resolver hands recursion to servers), RFC 1035 section 4.2.1 (UDP
// to port 53, retransmission; the minimum interval "should be 2-5
// seconds"), RFC 1536 section 1 (back off exponentially, rotate servers),
// RFC 5452 section 9 (random IDs; accept a response only from the server
// asked, with the query's ID and question).
//
// Responses are parsed by DNSResponse, which follows CNAME chains within
// the response. The answer is the first address; its TTL is the smallest of
// the records that led to it.
//
// Not implemented: AAAA, DNS over TCP (a truncated response without an
// address counts as a server failure), EDNS0, negative caching (RFC 2308),
// search domains, /etc/hosts-style local names. Source port randomisation
// (RFC 5452 section 9.2) is the caller's: it owns the UDP socket.

import Riad

/// Resolves host names to IPv4 addresses through configured servers.
///
/// Sans-I/O: `resolve` registers a query, `poll` sends what is due, the
/// caller hands in UDP payloads that came from port 53 of a server, and
/// `result(for:)` tells how a query ended. It never traps on a response:
/// what does not parse or does not match is counted and dropped.
///
/// ```swift
/// var resolver = DNSResolver(seed: entropy.next(), servers: lease.dnsServers)
/// switch try resolver.resolve("example.com", now: now) {
/// case .answer(let address, _): use(address)
/// case .pending(let query):
///     resolver.poll(now: now) { server, capacity, fill in  /* UDP to server:53 */ }
///     ... resolver.receive(payload, from: server, now: now) ...
///     if case .resolved(let address, _) = resolver.result(for: query) { use(address) }
///     resolver.forget(query)
/// }
/// ```
public struct DNSResolver {
    /// A handle on one query; never reused.
    public struct QueryID: Sendable, Hashable {
        let rawValue: UInt64
    }

    /// What `resolve` gives: the answer at once, or a query to wait for.
    public enum Resolution: Sendable, Hashable {
        /// From the cache, or the name was a dotted quad (TTL `UInt32.max`).
        case answer(IPv4Address, ttl: UInt32)
        case pending(QueryID)
    }

    /// How a query stands.
    public enum Result: Sendable, Hashable {
        case pending
        /// The name's first address, and the seconds it may be kept.
        case resolved(IPv4Address, ttl: UInt32)
        /// `.notFound`: no such name (NXDOMAIN) or no A record for it;
        /// `.timedOut`: no server answered; `.refused`: the servers answered
        /// with an error (SERVFAIL, REFUSED...) or only by truncation;
        /// `.invalidArgument`: an unknown or forgotten query.
        case failed(RiadError.Kind)
    }

    public struct Configuration: Sendable {
        /// The wait for an answer to the first round of queries (one to
        /// each server), in nanoseconds; it doubles each round, up to
        /// `maximumTimeout`.
        public var timeout: UInt64 = 2_000_000_000
        public var maximumTimeout: UInt64 = 8_000_000_000
        /// Queries sent for one name, over all servers, before giving up.
        public var attempts = 4
        /// Queries (pending and finished but not yet forgotten) at once.
        public var maximumQueries = 16
        public var cacheCapacity = 32

        public init() {}
    }

    public struct Counters: Sendable, Hashable {
        public var sent: UInt64 = 0
        public var answered: UInt64 = 0
        /// Not from a server asked, or no pending query with that ID.
        public var ignored: UInt64 = 0
        /// Matched a query's ID and server but did not parse as an answer to
        /// its question (a spoofing attempt, or a broken server).
        public var malformed: UInt64 = 0
    }

    /// At most this many servers are used (the first ones given).
    public static let maximumServers = 8

    public let configuration: Configuration
    /// Where queries go, in order of preference.
    public private(set) var servers: [IPv4Address] = []
    public private(set) var cache: DNSCache
    public private(set) var counters = Counters()

    private var random: ProtocolRandom
    private var queries: [Query] = []
    private var nextHandle: UInt64 = 1
    /// The server the next query asks first: the last one that answered.
    private var preferred = 0

    private struct Query {
        let handle: QueryID
        let question: DNSQuery
        var result = Result.pending
        var transmissions = 0
        /// Index in `servers` of the next server to ask.
        var nextServer: Int
        /// Bit i: server i was asked and may answer.
        var asked: UInt64 = 0
        /// When to send again, or to give up.
        var deadline: UInt64
        /// How the query fails when attempts run out.
        var failure = RiadError.Kind.timedOut
    }

    /// A resolver asking `servers`.
    ///
    /// - Parameter seed: Seeds the query IDs; a kernel takes it from the
    ///   platform's `Entropy`.
    public init<Servers: Sequence>(
        seed: UInt64, servers: Servers, configuration: Configuration = Configuration()
    ) where Servers.Element == IPv4Address {
        self.configuration = configuration
        random = ProtocolRandom(seed: seed)
        cache = DNSCache(capacity: configuration.cacheCapacity)
        setServers(servers)
    }

    /// Replaces the servers (after DHCP renewed its lease, say). Queries
    /// in flight go on with the new servers; answers from the old ones are
    /// no longer accepted.
    public mutating func setServers<Servers: Sequence>(_ servers: Servers)
    where Servers.Element == IPv4Address {
        self.servers = Array(servers.prefix(DNSResolver.maximumServers))
        preferred = 0
        for index in queries.indices {
            queries[index].asked = 0
            queries[index].nextServer = 0
        }
    }

    // MARK: - Asking

    /// Starts resolving `name`, or answers at once from the cache or
    /// because `name` is an address. A query already pending for the same
    /// name is shared.
    ///
    /// - Throws: `.invalidArgument` unless `name` is a host name
    ///   ("example.com", a trailing dot allowed); `.unsupported` when no
    ///   server is configured; `.exhausted` when `maximumQueries` are pending.
    public mutating func resolve(_ name: String, now: UInt64) throws(RiadError) -> Resolution {
        if let address = IPv4Address(utf8: name.utf8) { return .answer(address, ttl: .max) }
        let question: DNSQuery
        do {
            question = try DNSQuery(id: 0, name: name)
        } catch {
            throw RiadError(.invalidArgument, "not a host name")
        }
        if let cached = cache.lookup(question.name, now: now) {
            return .answer(cached.address, ttl: cached.ttl)
        }
        for query in queries
        where query.result == .pending && DNSResolver.same(query.question.name, question.name) {
            return .pending(query.handle)
        }
        guard !servers.isEmpty else { throw RiadError(.unsupported, "no DNS server configured") }
        if queries.count >= configuration.maximumQueries {
            // Make room by dropping the oldest finished query.
            guard let finished = queries.firstIndex(where: { $0.result != .pending }) else {
                throw RiadError(.exhausted, "too many DNS queries pending")
            }
            queries.remove(at: finished)
        }
        var query = question
        query.id = freshID()
        let handle = QueryID(rawValue: nextHandle)
        nextHandle &+= 1
        queries.append(Query(handle: handle, question: query, nextServer: preferred, deadline: now))
        return .pending(handle)
    }

    /// How the query stands.
    public func result(for query: QueryID) -> Result {
        queries.first { $0.handle == query }?.result ?? .failed(.invalidArgument)
    }

    /// Forgets a query: a pending one is abandoned, a finished one's result
    /// dropped.
    public mutating func forget(_ query: QueryID) {
        queries.removeAll { $0.handle == query }
    }

    /// A 16-bit ID no pending query uses (RFC 5452 section 9.2: random).
    private mutating func freshID() -> UInt16 {
        while true {
            let id = UInt16(truncatingIfNeeded: random.next())
            if !queries.contains(where: { $0.result == .pending && $0.question.id == id }) { return id }
        }
    }

    // MARK: - Sending

    /// When `poll` next has something to do: the earliest retransmission or
    /// give-up time of a pending query; nil when none is pending.
    public func nextDeadline() -> UInt64? {
        var deadline: UInt64?
        for query in queries where query.result == .pending {
            deadline = Swift.min(deadline ?? .max, query.deadline)
        }
        return deadline
    }

    /// Sends the queries that are due and fails those out of attempts.
    ///
    /// - Parameter send: Called with the server, the most bytes the query
    ///   takes, and a closure that writes it into a buffer of that size and
    ///   returns its length: a UDP payload for the server's port 53.
    public mutating func poll(
        now: UInt64, send: (IPv4Address, Int, (UnsafeMutableRawBufferPointer) -> Int) -> Void
    ) {
        for index in queries.indices where queries[index].result == .pending && queries[index].deadline <= now
        {
            guard !servers.isEmpty else {
                queries[index].result = .failed(.unsupported)
                continue
            }
            guard queries[index].transmissions < configuration.attempts else {
                queries[index].result = .failed(queries[index].failure)
                continue
            }
            let serverIndex = queries[index].nextServer % servers.count
            // Asking again means the last server asked did not help: later
            // queries start with the one asked now (RFC 1536 section 1).
            if queries[index].transmissions > 0,
                preferred == (serverIndex + servers.count - 1) % servers.count
            {
                preferred = serverIndex
            }
            let question = queries[index].question
            send(servers[serverIndex], question.bufferLength) { buffer in
                guard buffer.count >= question.bufferLength else { return 0 }
                return question.emit(into: buffer)
            }
            counters.sent &+= 1
            let round = queries[index].transmissions / servers.count
            queries[index].transmissions += 1
            queries[index].asked |= 1 << UInt64(serverIndex)
            queries[index].nextServer = (serverIndex + 1) % servers.count
            let wait = configuration.timeout << UInt64(Swift.min(round, 16))
            queries[index].deadline = DHCPLease.add(now, Swift.min(wait, configuration.maximumTimeout))
        }
    }

    // MARK: - Receiving

    /// Handles a UDP payload that came from port 53 of `server`.
    public mutating func receive(_ payload: UnsafeRawBufferPointer, from server: IPv4Address, now: UInt64) {
        guard let serverIndex = servers.firstIndex(of: server), payload.count >= DNSMessage.headerLength
        else { return ignored() }
        let id = payload.wireUInt16(at: 0)
        guard
            let index = queries.firstIndex(where: {
                $0.result == .pending && $0.question.id == id && $0.asked & (1 << UInt64(serverIndex)) != 0
            })
        else { return ignored() }
        guard let response = try? DNSResponse.parse(payload, for: queries[index].question) else {
            counters.malformed &+= 1
            return
        }
        counters.answered &+= 1
        let answeredQuestion = response.header.questionCount == 1
        switch response.responseCode {
        case .noError:
            if let first = response.addresses.first {
                preferred = serverIndex
                let ttl = Swift.min(first.ttl, cache.maximumTTL)
                cache.insert(queries[index].question.name, first.address, ttl: ttl, now: now)
                queries[index].result = .resolved(first.address, ttl: ttl)
            } else if response.header.isTruncated {
                // The addresses did not fit; without TCP, another server may do.
                tryNextServer(index, now: now)
            } else {
                // The name exists without an A record (RFC 2308 "NODATA").
                preferred = serverIndex
                queries[index].result = .failed(.notFound)
            }
        case .nameError where answeredQuestion:
            preferred = serverIndex
            queries[index].result = .failed(.notFound)
        default:
            // SERVFAIL, REFUSED, NOTIMP, FORMERR, or NXDOMAIN for a
            // question it did not repeat: this server cannot help.
            tryNextServer(index, now: now)
        }
    }

    /// Asks the next server at the next `poll`, if attempts remain; the
    /// query fails with `.refused` if none does better.
    private mutating func tryNextServer(_ index: Int, now: UInt64) {
        queries[index].failure = .refused
        queries[index].deadline = now
    }

    private mutating func ignored() {
        counters.ignored &+= 1
    }

    private static func same(_ a: String, _ b: String) -> Bool {
        a.utf8.lazy.map(DNSNameReader.lowercased).elementsEqual(b.utf8.lazy.map(DNSNameReader.lowercased))
    }
}
