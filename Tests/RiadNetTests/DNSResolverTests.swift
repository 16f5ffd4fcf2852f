import Riad
import RiadNet
import XCTest

/// The stub resolver against literal responses, on virtual time.
final class DNSResolverTests: XCTestCase {
    let first = IPv4Address(10, 0, 2, 3)
    let second = IPv4Address(8, 8, 8, 8)
    let exampleAddress = IPv4Address(93, 184, 216, 34)

    private func s(_ seconds: Double) -> UInt64 { UInt64(seconds * 1e9) }

    struct Sent: Equatable {
        let server: IPv4Address
        let bytes: [UInt8]
        var id: UInt16 { UInt16(bytes[0]) << 8 | UInt16(bytes[1]) }
    }

    private func poll(_ resolver: inout DNSResolver, at now: UInt64) -> [Sent] {
        var sent: [Sent] = []
        resolver.poll(now: now) { server, capacity, fill in
            var bytes = [UInt8](repeating: 0xee, count: capacity)
            let length = bytes.withUnsafeMutableBytes { fill($0) }
            sent.append(Sent(server: server, bytes: Array(bytes[..<length])))
        }
        return sent
    }

    private func pollOne(_ resolver: inout DNSResolver, at now: UInt64, line: UInt = #line) throws -> Sent {
        let sent = poll(&resolver, at: now)
        XCTAssertEqual(sent.count, 1, line: line)
        return try XCTUnwrap(sent.first, line: line)
    }

    private func receive(
        _ resolver: inout DNSResolver, _ bytes: [UInt8], from server: IPv4Address, at now: UInt64
    ) {
        bytes.withUnsafeBytes { resolver.receive($0, from: server, now: now) }
    }

    private func pending(
        _ resolver: inout DNSResolver, _ name: String, at now: UInt64, line: UInt = #line
    ) throws -> DNSResolver.QueryID {
        switch try resolver.resolve(name, now: now) {
        case .pending(let query): return query
        case .answer(let address, let ttl):
            XCTFail("answered \(address) ttl \(ttl)", line: line)
            throw TestStop()
        }
    }

    struct TestStop: Error {}

    private func resolver(servers: [IPv4Address]? = nil, seed: UInt64 = 1) -> DNSResolver {
        DNSResolver(seed: seed, servers: servers ?? [first, second])
    }

    // MARK: - Literal messages

    /// "example.com" as a question: 7 example 3 com 0, type A, class IN.
    private let exampleQuestion: [UInt8] = [
        0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x03, 0x63, 0x6f, 0x6d, 0x00, 0x00, 0x01, 0x00, 0x01,
    ]
    /// "www.example.com" as a question.
    private let wwwQuestion: [UInt8] = [
        0x03, 0x77, 0x77, 0x77, 0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x03, 0x63, 0x6f, 0x6d, 0x00,
        0x00, 0x01, 0x00, 0x01,
    ]

    /// A response header: `id`, QR RD RA and `rcode`, one question, the counts.
    private func header(
        _ id: UInt16, rcode: UInt8 = 0, flags: UInt8 = 0x81, answers: UInt8, authority: UInt8 = 0
    )
        -> [UInt8]
    {
        [
            UInt8(id >> 8), UInt8(id & 0xff), flags, 0x80 | rcode, 0x00, 0x01, 0x00, answers, 0x00, authority,
            0x00, 0x00,
        ]
    }

    /// example.com A 93.184.216.34, TTL 300 (a pointer to the question's name).
    private let exampleAnswer: [UInt8] = [
        0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x01, 0x2c, 0x00, 0x04, 0x5d, 0xb8, 0xd8, 0x22,
    ]

    private func exampleResponse(_ id: UInt16) -> [UInt8] {
        header(id, answers: 1) + exampleQuestion + exampleAnswer
    }

    /// www.example.com CNAME example.com (TTL 60), example.com A
    /// 93.184.216.34 (TTL 300).
    private func wwwResponse(_ id: UInt16) -> [UInt8] {
        header(id, answers: 2) + wwwQuestion + [
            0xc0, 0x0c, 0x00, 0x05, 0x00, 0x01, 0x00, 0x00, 0x00, 0x3c, 0x00, 0x02, 0xc0, 0x10,
            0xc0, 0x10, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x01, 0x2c, 0x00, 0x04, 0x5d, 0xb8, 0xd8, 0x22,
        ]
    }

    /// NXDOMAIN with the zone's SOA (com. SOA, RDATA skipped by length).
    private func nxdomainResponse(_ id: UInt16) -> [UInt8] {
        header(id, rcode: 3, answers: 0, authority: 1) + exampleQuestion + [
            0xc0, 0x14, 0x00, 0x06, 0x00, 0x01, 0x00, 0x00, 0x03, 0x84, 0x00, 0x08,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
        ]
    }

    // MARK: - Resolving

    func testQueryAnswerAndCache() throws {
        var resolver = resolver()
        let query = try pending(&resolver, "example.com", at: s(1))
        XCTAssertEqual(resolver.result(for: query), .pending)
        XCTAssertEqual(resolver.nextDeadline(), s(1))
        let sent = try pollOne(&resolver, at: s(1))
        XCTAssertEqual(sent.server, first)
        // ID, RD, one question; then the question.
        XCTAssertEqual(Array(sent.bytes[2...]), [0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0] + exampleQuestion)
        XCTAssertEqual(resolver.nextDeadline(), s(3), "2 s to answer")

        receive(&resolver, exampleResponse(sent.id), from: first, at: s(1.5))
        XCTAssertEqual(resolver.result(for: query), .resolved(exampleAddress, ttl: 300))
        XCTAssertNil(resolver.nextDeadline())
        XCTAssertEqual(resolver.counters.answered, 1)

        // From the cache, with the TTL that is left, in any case, with or
        // without the trailing dot.
        XCTAssertEqual(try resolver.resolve("EXAMPLE.com.", now: s(101.5)), .answer(exampleAddress, ttl: 200))
        XCTAssertTrue(poll(&resolver, at: s(101.5)).isEmpty)
        // Stale after 300 s: asked again.
        _ = try pending(&resolver, "example.com", at: s(301.5))
        XCTAssertEqual(try pollOne(&resolver, at: s(301.5)).server, first)
    }

    func testAddressesAnswerAtOnce() throws {
        var resolver = resolver(servers: [])
        XCTAssertEqual(try resolver.resolve("10.0.0.7", now: 0), .answer(IPv4Address(10, 0, 0, 7), ttl: .max))
    }

    func testRefusals() {
        var resolver = resolver()
        for name in ["", "exa mple.com", "..", String(repeating: "a", count: 64) + ".com"] {
            XCTAssertThrowsError(try resolver.resolve(name, now: 0), name) { error in
                XCTAssertEqual((error as? RiadError)?.kind, .invalidArgument)
            }
        }
        var none = self.resolver(servers: [])
        XCTAssertThrowsError(try none.resolve("example.com", now: 0)) { error in
            XCTAssertEqual((error as? RiadError)?.kind, .unsupported)
        }
    }

    func testCNAMEChainIsFollowed() throws {
        var resolver = resolver()
        let query = try pending(&resolver, "www.example.com", at: 0)
        let sent = try pollOne(&resolver, at: 0)
        receive(&resolver, wwwResponse(sent.id), from: first, at: s(0.1))
        // The smaller TTL of the alias and the address.
        XCTAssertEqual(resolver.result(for: query), .resolved(exampleAddress, ttl: 60))
        XCTAssertEqual(resolver.cache.entries.map(\.name), ["www.example.com"])
    }

    func testNXDOMAINAndNODATAAreNotFound() throws {
        var resolver = resolver()
        let missing = try pending(&resolver, "example.com", at: 0)
        receive(&resolver, nxdomainResponse(try pollOne(&resolver, at: 0).id), from: first, at: 1)
        XCTAssertEqual(resolver.result(for: missing), .failed(.notFound))

        let noData = try pending(&resolver, "example.com", at: 2)
        receive(
            &resolver, header(try pollOne(&resolver, at: 2).id, answers: 0) + exampleQuestion, from: first,
            at: 3)
        XCTAssertEqual(resolver.result(for: noData), .failed(.notFound))
        XCTAssertTrue(resolver.cache.entries.isEmpty)
        XCTAssertNil(resolver.nextDeadline())
    }

    // MARK: - Matching

    func testOnlyTheAskedServerWithTheIDAndQuestionIsHeard() throws {
        var resolver = resolver()
        let query = try pending(&resolver, "example.com", at: 0)
        let id = try pollOne(&resolver, at: 0).id
        // Another ID; the right ID from a server not asked, or not configured.
        receive(&resolver, exampleResponse(id &+ 1), from: first, at: 1)
        receive(&resolver, exampleResponse(id), from: second, at: 1)
        receive(&resolver, exampleResponse(id), from: IPv4Address(6, 6, 6, 6), at: 1)
        XCTAssertEqual(resolver.counters.ignored, 3)
        // The right ID and server, but another question, or not a response.
        receive(&resolver, wwwResponse(id), from: first, at: 1)
        var query2 = exampleResponse(id)
        query2[2] &= 0x7f
        receive(&resolver, query2, from: first, at: 1)
        XCTAssertEqual(resolver.counters.malformed, 2)
        XCTAssertEqual(resolver.result(for: query), .pending)

        receive(&resolver, exampleResponse(id), from: first, at: 1)
        XCTAssertEqual(resolver.result(for: query), .resolved(exampleAddress, ttl: 300))
        // A duplicate finds nothing pending.
        receive(&resolver, exampleResponse(id), from: first, at: 1)
        XCTAssertEqual(resolver.counters.ignored, 4)
    }

    func testQueriesForOneNameAreShared() throws {
        var resolver = resolver()
        let query = try pending(&resolver, "example.com", at: 0)
        XCTAssertEqual(try resolver.resolve("Example.COM", now: 0), .pending(query))
        XCTAssertEqual(poll(&resolver, at: 0).count, 1)
        let other = try pending(&resolver, "www.example.com", at: 0)
        XCTAssertNotEqual(other, query)
    }

    func testIDsAreRandomAndDifferByQuery() throws {
        var resolver = resolver(seed: 42)
        var ids: Set<UInt16> = []
        for index in 0..<10 {
            _ = try pending(&resolver, "host\(index).example", at: 0)
        }
        for sent in poll(&resolver, at: 0) { ids.insert(sent.id) }
        XCTAssertEqual(ids.count, 10)
        var again = self.resolver(seed: 42)
        _ = try pending(&again, "host0.example", at: 0)
        var other = self.resolver(seed: 43)
        _ = try pending(&other, "host0.example", at: 0)
        XCTAssertNotEqual(try pollOne(&again, at: 0).id, try pollOne(&other, at: 0).id)
    }

    // MARK: - Retransmission

    func testTimeoutsRotateServersAndBackOff() throws {
        var resolver = resolver()
        let query = try pending(&resolver, "example.com", at: 0)
        var log: [(UInt64, IPv4Address)] = []
        var now: UInt64 = 0
        while true {
            for sent in poll(&resolver, at: now) { log.append((now, sent.server)) }
            guard resolver.result(for: query) == .pending else { break }
            now = try XCTUnwrap(resolver.nextDeadline())
        }
        // 2 s to each server, then 4 s to each: four attempts, 12 s.
        XCTAssertEqual(log.map(\.0), [0, 2, 4, 8].map { s($0) })
        XCTAssertEqual(log.map(\.1), [first, second, first, second])
        XCTAssertEqual(now, s(12))
        XCTAssertEqual(resolver.result(for: query), .failed(.timedOut))
        XCTAssertEqual(resolver.counters.sent, 4)
    }

    func testLateAnswerFromAnEarlierServerCounts() throws {
        var resolver = resolver()
        let query = try pending(&resolver, "example.com", at: 0)
        let toFirst = try pollOne(&resolver, at: 0)
        let toSecond = try pollOne(&resolver, at: s(2))
        XCTAssertEqual(toSecond.server, second)
        XCTAssertEqual(toSecond.id, toFirst.id)
        receive(&resolver, exampleResponse(toFirst.id), from: first, at: s(2.5))
        XCTAssertEqual(resolver.result(for: query), .resolved(exampleAddress, ttl: 300))
    }

    func testServerFailureMovesOnAtOnceAndTheAnsweringServerIsPreferred() throws {
        var resolver = resolver()
        let query = try pending(&resolver, "example.com", at: 0)
        let sent = try pollOne(&resolver, at: 0)
        receive(&resolver, header(sent.id, rcode: 2, answers: 0) + exampleQuestion, from: first, at: s(0.1))
        XCTAssertEqual(resolver.result(for: query), .pending)
        XCTAssertEqual(resolver.nextDeadline(), s(0.1))
        let retry = try pollOne(&resolver, at: s(0.1))
        XCTAssertEqual(retry.server, second)
        receive(&resolver, exampleResponse(retry.id), from: second, at: s(0.2))
        XCTAssertEqual(resolver.result(for: query), .resolved(exampleAddress, ttl: 300))
        // The next query starts with the server that answered.
        _ = try pending(&resolver, "www.example.com", at: s(1))
        XCTAssertEqual(try pollOne(&resolver, at: s(1)).server, second)
    }

    func testErrorsFromEveryServerAreRefused() throws {
        var resolver = resolver()
        let query = try pending(&resolver, "example.com", at: 0)
        for attempt in 0..<4 {
            let sent = try pollOne(&resolver, at: s(Double(attempt)))
            // REFUSED, then a truncated response without the addresses.
            let response =
                attempt % 2 == 0
                ? header(sent.id, rcode: 5, answers: 0) + exampleQuestion
                : header(sent.id, flags: 0x83, answers: 0) + exampleQuestion
            receive(&resolver, response, from: sent.server, at: s(Double(attempt) + 0.5))
        }
        XCTAssertTrue(poll(&resolver, at: s(4)).isEmpty)
        XCTAssertEqual(resolver.result(for: query), .failed(.refused))
    }

    // MARK: - Bounds

    func testPendingQueriesAreBounded() throws {
        var configuration = DNSResolver.Configuration()
        configuration.maximumQueries = 2
        var resolver = DNSResolver(seed: 1, servers: [first], configuration: configuration)
        let a = try pending(&resolver, "a.example", at: 0)
        _ = try pending(&resolver, "b.example", at: 0)
        XCTAssertThrowsError(try resolver.resolve("c.example", now: 0)) { error in
            XCTAssertEqual((error as? RiadError)?.kind, .exhausted)
        }
        // A finished query makes room; its result is then gone.
        let sent = poll(&resolver, at: 0)
        let response =
            header(sent[0].id, rcode: 3, answers: 0) + [
                0x01, 0x61, 0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x00, 0x00, 0x01, 0x00, 0x01,
            ]
        receive(&resolver, response, from: first, at: 1)
        XCTAssertEqual(resolver.result(for: a), .failed(.notFound))
        _ = try pending(&resolver, "c.example", at: 1)
        XCTAssertEqual(resolver.result(for: a), .failed(.invalidArgument))
    }

    func testForgetAbandonsAQuery() throws {
        var resolver = resolver()
        let query = try pending(&resolver, "example.com", at: 0)
        let sent = try pollOne(&resolver, at: 0)
        resolver.forget(query)
        XCTAssertEqual(resolver.result(for: query), .failed(.invalidArgument))
        XCTAssertNil(resolver.nextDeadline())
        receive(&resolver, exampleResponse(sent.id), from: first, at: 1)
        XCTAssertEqual(resolver.counters.ignored, 1)
        XCTAssertTrue(resolver.cache.entries.isEmpty)
    }

    func testNewServersReplaceTheOld() throws {
        var resolver = resolver(servers: [first])
        let query = try pending(&resolver, "example.com", at: 0)
        let sent = try pollOne(&resolver, at: 0)
        resolver.setServers([second])
        receive(&resolver, exampleResponse(sent.id), from: first, at: 1)
        XCTAssertEqual(resolver.result(for: query), .pending)
        let retry = try pollOne(&resolver, at: s(2))
        XCTAssertEqual(retry.server, second)
        receive(&resolver, exampleResponse(retry.id), from: second, at: s(2.1))
        XCTAssertEqual(resolver.result(for: query), .resolved(exampleAddress, ttl: 300))
    }

    func testCacheIsBoundedAndHonoursTTLs() {
        var cache = DNSCache(capacity: 3, maximumTTL: 3600)
        cache.insert("a.example", IPv4Address(10, 0, 0, 1), ttl: 100, now: 0)
        cache.insert("b.example", IPv4Address(10, 0, 0, 2), ttl: 50, now: 0)
        cache.insert("c.example", IPv4Address(10, 0, 0, 3), ttl: 999_999, now: 0)
        cache.insert("zero.example", IPv4Address(10, 0, 0, 4), ttl: 0, now: 0)
        XCTAssertEqual(cache.entries.count, 3, "a TTL of 0 is not cached")
        XCTAssertEqual(cache.lookup("c.example", now: 0)?.ttl, 3600, "TTLs are capped")
        // Full: the entry closest to expiry goes.
        cache.insert("d.example", IPv4Address(10, 0, 0, 5), ttl: 200, now: s(10))
        XCTAssertEqual(cache.entries.map(\.name), ["a.example", "c.example", "d.example"])
        XCTAssertNil(cache.lookup("b.example", now: s(10)))
        XCTAssertEqual(cache.lookup("A.Example", now: s(10))?.address, IPv4Address(10, 0, 0, 1))
        XCTAssertEqual(cache.lookup("a.example", now: s(10))?.ttl, 90)
        XCTAssertNil(cache.lookup("a.example", now: s(100)))
        // Replacing keeps one entry per name.
        cache.insert("D.example", IPv4Address(10, 0, 0, 6), ttl: 200, now: s(10))
        XCTAssertEqual(cache.entries.count, 3)
        XCTAssertEqual(cache.lookup("d.example", now: s(10))?.address, IPv4Address(10, 0, 0, 6))
    }

    // MARK: - Hostile bytes

    func testHostileResponsesNeverTrap() throws {
        var resolver = resolver()
        let query = try pending(&resolver, "www.example.com", at: 0)
        let sent = try pollOne(&resolver, at: 0)
        let valid = wwwResponse(sent.id)
        var random = SeededRandomBuffers(seed: 0x5eed)
        var outcomes: [DNSResolver.Result: Int] = [:]
        for round in 0..<4000 {
            var bytes: [UInt8]
            switch round % 3 {
            case 0:
                // Noise with the query's ID, so that it reaches the parser.
                bytes = random.buffer(maximumLength: 600)
                if bytes.count >= 2 {
                    bytes[0] = UInt8(sent.id >> 8)
                    bytes[1] = UInt8(sent.id & 0xff)
                }
            case 1: bytes = Array(valid[..<random.next(upTo: valid.count - 1)])
            default: bytes = random.mutation(of: valid)
            }
            var copy = resolver
            receive(&copy, bytes, from: first, at: 1)
            outcomes[copy.result(for: query), default: 0] += 1
        }
        // Every truncation refused, most noise refused, some mutations taken.
        XCTAssertGreaterThan(outcomes[.pending] ?? 0, 2000)
        XCTAssertGreaterThan(outcomes.count, 1, "\(outcomes)")
    }
}
