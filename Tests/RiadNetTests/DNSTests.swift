import RiadNet
import XCTest

final class DNSTests: XCTestCase {
    /// 4660+ A? example.com.
    let query: [UInt8] = [
        0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0x65,
        0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x03, 0x63, 0x6f, 0x6d, 0x00, 0x00, 0x01, 0x00,
        0x01,
    ]

    /// Its answer: example.com A 93.184.216.34, TTL 300, the owner
    /// compressed to the question's name.
    let answer: [UInt8] = [
        0x12, 0x34, 0x81, 0x80, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x07, 0x65,
        0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x03, 0x63, 0x6f, 0x6d, 0x00, 0x00, 0x01, 0x00,
        0x01, 0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x01, 0x2c, 0x00, 0x04, 0x5d,
        0xb8, 0xd8, 0x22,
    ]

    /// www.example.org CNAME edge.example.org (TTL 45; "edge" and a pointer
    /// to "example.org" in the question), then two A records of
    /// edge.example.org (TTL 60 and 30) whose owners point into the CNAME.
    let alias: [UInt8] = [
        0xbe, 0xef, 0x81, 0x80, 0x00, 0x01, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x03, 0x77,
        0x77, 0x77, 0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x03, 0x6f, 0x72, 0x67,
        0x00, 0x00, 0x01, 0x00, 0x01, 0xc0, 0x0c, 0x00, 0x05, 0x00, 0x01, 0x00, 0x00, 0x00,
        0x2d, 0x00, 0x07, 0x04, 0x65, 0x64, 0x67, 0x65, 0xc0, 0x10, 0xc0, 0x2d, 0x00, 0x01,
        0x00, 0x01, 0x00, 0x00, 0x00, 0x3c, 0x00, 0x04, 0xc0, 0x00, 0x02, 0x0a, 0xc0, 0x2d,
        0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x1e, 0x00, 0x04, 0xc0, 0x00, 0x02, 0x0b,
    ]

    /// NXDOMAIN for nope.example.com, with the zone's SOA in the authority
    /// section (names compressed to "example.com" in the question).
    let nameError: [UInt8] = [
        0x43, 0x21, 0x81, 0x83, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x04, 0x6e,
        0x6f, 0x70, 0x65, 0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x03, 0x63, 0x6f,
        0x6d, 0x00, 0x00, 0x01, 0x00, 0x01, 0xc0, 0x11, 0x00, 0x06, 0x00, 0x01, 0x00, 0x00,
        0x03, 0x84, 0x00, 0x21, 0x02, 0x6e, 0x73, 0xc0, 0x11, 0x05, 0x61, 0x64, 0x6d, 0x69,
        0x6e, 0xc0, 0x11, 0x78, 0xa3, 0xf1, 0x75, 0x00, 0x00, 0x1c, 0x20, 0x00, 0x00, 0x0e,
        0x10, 0x00, 0x12, 0x75, 0x00, 0x00, 0x00, 0x01, 0x2c,
    ]

    private func parse(_ bytes: [UInt8], for query: DNSQuery? = nil) throws(WireError) -> DNSResponse {
        try bytes.withUnsafeBytes { buffer in
            Result { () throws(WireError) -> DNSResponse in
                if let query { return try DNSResponse.parse(buffer, for: query) }
                return try DNSResponse.parse(buffer)
            }
        }.get()
    }

    private func assertThrows(
        _ expected: WireError, _ bytes: [UInt8], for query: DNSQuery? = nil, line: UInt = #line
    ) {
        do {
            let response = try parse(bytes, for: query)
            XCTFail("parsed \(response)", line: line)
        } catch {
            XCTAssertEqual(error, expected, line: line)
        }
    }

    private func emit(_ query: DNSQuery) -> [UInt8] {
        var out = [UInt8](repeating: 0xaa, count: query.bufferLength)
        let length = out.withUnsafeMutableBytes { query.emit(into: $0) }
        XCTAssertEqual(length, out.count)
        return out
    }

    // MARK: - Queries

    func testQueryEmission() throws {
        let example = try DNSQuery(id: 0x1234, name: "example.com")
        XCTAssertEqual(emit(example), query)
        XCTAssertEqual(example.description, "DNS 4660+ A? example.com.")
        // A trailing dot names the same query; case is kept as given.
        XCTAssertEqual(emit(try DNSQuery(id: 0x1234, name: "example.com.")), query)
        XCTAssertEqual(try DNSQuery(id: 1, name: "a.").name, "a")
        var loud = emit(try DNSQuery(id: 0x1234, name: "EXAMPLE.com"))
        for index in 13..<20 { loud[index] |= 0x20 }
        XCTAssertEqual(loud, query)
        var quiet = try DNSQuery(id: 7, name: "_sip._udp.x-1.example")
        quiet.recursionDesired = false
        XCTAssertEqual(
            emit(quiet),
            [0x00, 0x07, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]
                + [4] + Array("_sip".utf8) + [4] + Array("_udp".utf8) + [3] + Array("x-1".utf8)
                + [7] + Array("example".utf8) + [0, 0x00, 0x01, 0x00, 0x01])
    }

    func testTheHeaderRoundTrips() throws {
        for packet in [query, answer, alias, nameError] {
            let header = try packet.withUnsafeBytes { buffer in
                Result { () throws(WireError) -> DNSHeader in try DNSHeader.parse(buffer) }
            }.get()
            var out = [UInt8](repeating: 0, count: 12)
            out.withUnsafeMutableBytes { header.emit(into: $0) }
            XCTAssertEqual(out, Array(packet[..<12]))
        }
        let header = try answer.withUnsafeBytes { buffer in
            Result { () throws(WireError) -> DNSHeader in try DNSHeader.parse(buffer) }
        }.get()
        XCTAssertEqual(header.id, 0x1234)
        XCTAssertTrue(header.isResponse)
        XCTAssertEqual(header.opcode, 0)
        XCTAssertFalse(header.isAuthoritative)
        XCTAssertFalse(header.isTruncated)
        XCTAssertTrue(header.recursionDesired)
        XCTAssertTrue(header.recursionAvailable)
        XCTAssertFalse(header.authenticData)
        XCTAssertFalse(header.checkingDisabled)
        XCTAssertEqual(header.responseCode, .noError)
        XCTAssertEqual(header.questionCount, 1)
        XCTAssertEqual(header.answerCount, 1)
        XCTAssertEqual(header.authorityCount, 0)
        XCTAssertEqual(header.additionalCount, 0)
        var every = DNSHeader(id: 0xffff)
        every.isResponse = true
        every.opcode = 0xf
        every.isAuthoritative = true
        every.isTruncated = true
        every.recursionDesired = true
        every.recursionAvailable = true
        every.authenticData = true
        every.checkingDisabled = true
        every.responseCode = DNSResponseCode(rawValue: 0xf)
        XCTAssertEqual(every.flags, 0xffbf)  // all but Z
    }

    func testInvalidNamesAreRefused() {
        for name in ["", ".", "..", "a..b", ".a", "a b", "é.com", "a/b", "a.b..", "ex*mple.com"] {
            XCTAssertThrowsError(try DNSQuery(id: 1, name: name), name)
        }
        let label63 = String(repeating: "a", count: 63)
        XCTAssertNoThrow(try DNSQuery(id: 1, name: label63 + ".com"))
        XCTAssertThrowsError(try DNSQuery(id: 1, name: label63 + "a.com")) { error in
            XCTAssertEqual(error as? WireError, .malformed("label length"))
        }
        // 4 labels of 63 and one of 1: 4 * 64 + 2 + 1 = 259 octets on the wire.
        let long = [label63, label63, label63, label63, "a"].joined(separator: ".")
        XCTAssertThrowsError(try DNSQuery(id: 1, name: long)) { error in
            XCTAssertEqual(error as? WireError, .malformed("name length"))
        }
        // 253 characters make 255 octets: the longest name.
        let longest = [label63, label63, label63, String(repeating: "b", count: 61)].joined(separator: ".")
        XCTAssertEqual(longest.utf8.count, 253)
        XCTAssertEqual((try? DNSQuery(id: 1, name: longest))?.bufferLength, 12 + 255 + 4)
    }

    // MARK: - Responses

    func testAnAnswer() throws {
        let example = try DNSQuery(id: 0x1234, name: "Example.COM")
        let response = try parse(answer, for: example)
        XCTAssertEqual(response.responseCode, .noError)
        XCTAssertEqual(response.aliasCount, 0)
        XCTAssertEqual(
            Array(response.addresses), [DNSAddressRecord(address: IPv4Address(93, 184, 216, 34), ttl: 300)])
        XCTAssertEqual(response.description, "DNS 4660 NOERROR 1/0/0 A 93.184.216.34 ttl 300")
    }

    func testAliasesAreFollowed() throws {
        let www = try DNSQuery(id: 0xbeef, name: "www.example.org")
        let response = try parse(alias, for: www)
        XCTAssertEqual(response.aliasCount, 1)
        // TTLs are capped by the alias's 45 seconds.
        XCTAssertEqual(
            Array(response.addresses),
            [
                DNSAddressRecord(address: IPv4Address(192, 0, 2, 10), ttl: 45),
                DNSAddressRecord(address: IPv4Address(192, 0, 2, 11), ttl: 30),
            ])
        XCTAssertEqual(
            response.description,
            "DNS 48879 NOERROR 3/0/0 aliases 1 A 192.0.2.10 ttl 45 A 192.0.2.11 ttl 30")
    }

    func testNXDOMAINIsAnAnswerNotAnError() throws {
        let nope = try DNSQuery(id: 0x4321, name: "nope.example.com")
        let response = try parse(nameError, for: nope)
        XCTAssertEqual(response.responseCode, .nameError)
        XCTAssertEqual(response.responseCode.description, "NXDOMAIN")
        XCTAssertTrue(response.addresses.isEmpty)
        XCTAssertEqual(response.header.authorityCount, 1)
        XCTAssertEqual(response.description, "DNS 17185 NXDOMAIN 0/1/0")
        XCTAssertEqual(DNSResponseCode(rawValue: 9).description, "RCODE 9")
        // SERVFAIL without a question is allowed; NOERROR without one is not.
        var bytes = Array(nameError[..<12])
        bytes[3] = 0x82
        bytes[5] = 0
        bytes[9] = 0
        XCTAssertEqual(try parse(bytes, for: nope).responseCode, .serverFailure)
        bytes[3] = 0x80
        assertThrows(.malformed("question"), bytes)
    }

    func testResponsesToOtherQueriesAreRefused() throws {
        assertThrows(.malformed("id"), answer, for: try DNSQuery(id: 0x1235, name: "example.com"))
        assertThrows(.malformed("question"), answer, for: try DNSQuery(id: 0x1234, name: "example.co"))
        assertThrows(.malformed("question"), answer, for: try DNSQuery(id: 0x1234, name: "example.com.x"))
        assertThrows(.malformed("question"), answer, for: try DNSQuery(id: 0x1234, name: "xexample.com"))
        assertThrows(.malformed("question"), answer, for: try DNSQuery(id: 0x1234, name: "com"))
        assertThrows(.malformed("QR"), query)
        var bytes = answer
        bytes[2] |= 0x08  // opcode 1
        assertThrows(.malformed("opcode"), bytes)
        bytes = answer
        bytes[26] = 28  // AAAA question
        assertThrows(.malformed("question"), bytes)
    }

    func testEveryTruncationThrows() throws {
        for packet in [answer, alias, nameError] {
            for length in 0..<packet.count {
                XCTAssertThrowsError(try parse(Array(packet[..<length])), "length \(length)")
            }
        }
        assertThrows(.truncated, Array(answer[..<11]))
        assertThrows(.truncated, Array(answer[..<44]))
    }

    func testCompressionPointersMustGoBackwards() {
        // The answer's owner points at itself.
        var bytes = answer
        bytes[30] = 29
        assertThrows(.malformed("compression pointer"), bytes)
        // ... or forwards, to its own type field.
        bytes[30] = 31
        assertThrows(.malformed("compression pointer"), bytes)
        // The question's name is a pointer to the header.
        bytes = Array(answer[..<12]) + [0xc0, 0x00, 0x00, 0x01, 0x00, 0x01]
        bytes[7] = 0
        assertThrows(.malformed("compression pointer"), bytes)
        // Two names pointing at each other: the second may point back, the
        // first may not point forward.
        bytes = Array(answer[..<12]) + [0xc0, 0x0e, 0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01]
        bytes[7] = 0
        assertThrows(.malformed("compression pointer"), bytes)
        // A label ending in a pointer back to its own start loops: refused.
        bytes = Array(answer[..<29]) + [0x01, 0x61, 0xc0, 0x1d] + Array(answer[31...])
        assertThrows(.malformed("compression pointer"), bytes)
    }

    func testLabelAndNameLimits() {
        // A length octet of 64 is a label type of 01: refused.
        var bytes = Array(answer[..<12]) + [0x40] + [UInt8](repeating: 0x61, count: 64) + [0, 0, 1, 0, 1]
        bytes[7] = 0
        assertThrows(.malformed("label type"), bytes)
        bytes[12] = 0x80
        assertThrows(.malformed("label type"), bytes)
        // Four labels of 63: 256 octets and the root, over 255.
        let label: [UInt8] = [63] + [UInt8](repeating: 0x61, count: 63)
        bytes = Array(answer[..<12]) + label + label + label + label + [0, 0, 1, 0, 1]
        bytes[7] = 0
        assertThrows(.malformed("name length"), bytes)
        // The same length made with pointers is refused too.
        bytes =
            Array(answer[..<12]) + label + label + label + [0, 0, 1, 0, 1] + label + [0xc0, 0x0c]
            + [0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 1, 2, 3, 4]
        bytes[7] = 1
        assertThrows(.malformed("name length"), bytes)
        // Too many jumps: a chain of 40 pointers each to the one before.
        bytes = Array(answer[..<12]) + [0x01, 0x61, 0x00, 0x00, 0x01, 0x00, 0x01]
        bytes[7] = 0
        bytes[11] = 40  // 40 additional records, each owned by a pointer
        var previous = 12
        for _ in 0..<40 {
            let here = bytes.count
            // An empty TXT record (type 16) owned by a pointer to the last owner.
            bytes += [0xc0 | UInt8(previous >> 8), UInt8(previous & 0xff)] + [0, 16, 0, 1, 0, 0, 0, 0, 0, 0]
            previous = here
        }
        assertThrows(.malformed("compression pointer"), bytes)
    }

    func testCNAMELoopsAndBadRecordsAreRefused() {
        // www CNAME edge; edge CNAME www (pointer back to the question).
        var bytes =
            Array(alias[..<52]) + [0xc0, 0x2d, 0x00, 0x05, 0x00, 0x01, 0, 0, 0, 9, 0x00, 0x02, 0xc0, 0x0c]
        bytes[7] = 2
        assertThrows(.malformed("CNAME chain"), bytes)
        // An A record of 5 octets.
        bytes = answer
        bytes[40] = 5
        bytes.append(0)
        assertThrows(.malformed("A record"), bytes)
        // A CNAME whose name does not fill its data.
        bytes = alias
        bytes[44] = 8
        assertThrows(.malformed("CNAME record"), bytes)
    }

    // MARK: - Random bytes

    func testRandomBytesParseOrThrow() {
        var random = SeededRandomBuffers(seed: 0xd45_0001)
        for round in 0..<10_000 {
            var bytes = random.buffer(maximumLength: 1500)
            if round % 2 == 1, bytes.count >= 12 {
                // Half the buffers are responses with few records, so that
                // the parser gets past the header.
                bytes[2] = 0x81
                bytes[4] = 0
                bytes[5] = 1
                for index in [6, 8, 10] { bytes[index] = 0 }
                for index in [7, 9, 11] { bytes[index] %= 4 }
            }
            _ = try? parse(bytes)
        }
    }

    func testMutatedResponsesParseOrThrow() throws {
        var random = SeededRandomBuffers(seed: 0xd45_0002)
        let www = try DNSQuery(id: 0xbeef, name: "www.example.org")
        var parsed = 0
        for round in 0..<10_000 {
            let template = [answer, alias, nameError][round % 3]
            if let response = try? parse(random.mutation(of: template)) {
                parsed += 1
                XCTAssertLessThanOrEqual(response.addresses.count, 2)
            }
            _ = try? parse(random.mutation(of: alias), for: www)
        }
        XCTAssertGreaterThan(parsed, 1000)
    }
}
