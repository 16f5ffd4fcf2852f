import RiadHTTP
import XCTest

/// The request parser: what it accepts, the status each refusal maps to,
/// and that any split of the input gives the same result.
final class RequestParserTests: XCTestCase {
    func testSimpleGet() {
        let events = parseRequests(
            bytes("GET /index.html?a=1&b=2 HTTP/1.1\r\nHost: example\r\nAccept: */*\r\n\r\n"))
        let request = try! XCTUnwrap(requests(events).first)
        XCTAssertEqual(events.count, 1)
        XCTAssertEqual(request.method, .get)
        XCTAssertEqual(request.path, "/index.html")
        XCTAssertEqual(request.query, "a=1&b=2")
        XCTAssertEqual(request.target, "/index.html?a=1&b=2")
        XCTAssertEqual(request.version, .http11)
        XCTAssertEqual(request.headers["host"], "example")
        XCTAssertEqual(request.headers["ACCEPT"], "*/*")
        XCTAssertEqual(request.headers.count, 2)
        XCTAssertTrue(request.body.isEmpty)
        XCTAssertTrue(request.keepAlive)
    }

    func testFieldValuesAreTrimmedAndKeptInOrder() {
        let events = parseRequests(
            bytes("GET / HTTP/1.1\r\nHost: h\r\nX-A: \t one two \t\r\nx-a:three\r\nEmpty:\r\n\r\n"))
        let headers = try! XCTUnwrap(requests(events).first).headers
        XCTAssertEqual(
            headers.values("X-A").map { String(decoding: $0, as: UTF8.self) }, ["one two", "three"])
        XCTAssertEqual(headers["Empty"], "")
        XCTAssertEqual(headers.count, 4)
    }

    func testContentLengthBody() {
        let events = parseRequests(
            bytes("POST /submit HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world"))
        XCTAssertEqual(events.count, 2)
        XCTAssertEqual(events.first, .head(.post, "/submit"))
        XCTAssertEqual(requests(events).first?.bodyText, "hello world")
    }

    func testHTTP10KeepAliveOnlyWhenAsked() {
        let plain = requests(parseRequests(bytes("GET / HTTP/1.0\r\n\r\n")))
        XCTAssertEqual(plain.first?.version, .http10)
        XCTAssertEqual(plain.first?.keepAlive, false)
        let asked = requests(parseRequests(bytes("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")))
        XCTAssertEqual(asked.first?.keepAlive, true)
        let closed = requests(
            parseRequests(bytes("GET / HTTP/1.1\r\nHost: h\r\nConnection: foo, close\r\n\r\n")))
        XCTAssertEqual(closed.first?.keepAlive, false)
    }

    func testTargetForms() {
        let absolute = requests(
            parseRequests(bytes("GET http://example.com:8080/a/b?q HTTP/1.1\r\nHost: x\r\n\r\n")))
        XCTAssertEqual(absolute.first?.path, "/a/b")
        XCTAssertEqual(absolute.first?.query, "q")
        let bare = requests(parseRequests(bytes("GET HTTP://example.com HTTP/1.1\r\nHost: x\r\n\r\n")))
        XCTAssertEqual(bare.first?.path, "/")
        let asterisk = requests(parseRequests(bytes("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n")))
        XCTAssertEqual(asterisk.first?.path, "*")
        let emptyQuery = requests(parseRequests(bytes("GET /p? HTTP/1.1\r\nHost: x\r\n\r\n")))
        XCTAssertEqual(emptyQuery.first?.query, "")
        XCTAssertEqual(firstError(parseRequests(bytes("GET * HTTP/1.1\r\nHost: x\r\n\r\n"))), .malformed)
        XCTAssertEqual(
            firstError(parseRequests(bytes("GET /a#frag HTTP/1.1\r\nHost: x\r\n\r\n"))), .malformed)
        XCTAssertEqual(
            firstError(parseRequests(bytes("GET ftp://x/ HTTP/1.1\r\nHost: x\r\n\r\n"))), .malformed)
    }

    func testUnknownMethodIsAToken() {
        let events = parseRequests(bytes("PURGE /cache HTTP/1.1\r\nHost: h\r\n\r\n"))
        XCTAssertEqual(requests(events).first?.method, HTTPMethod("PURGE"))
        XCTAssertEqual(requests(events).first?.method.name, "PURGE")
        // Methods are case-sensitive (RFC 9110 9.1).
        XCTAssertEqual(
            requests(parseRequests(bytes("get / HTTP/1.1\r\nHost: h\r\n\r\n"))).first?.method.name, "get")
    }

    func testLeadingEmptyLinesAreSkippedUpToALimit() {
        XCTAssertEqual(requests(parseRequests(bytes("\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"))).count, 1)
        let many = String(repeating: "\r\n", count: 9) + "GET / HTTP/1.1\r\nHost: h\r\n\r\n"
        XCTAssertEqual(firstError(parseRequests(bytes(many))), .malformed)
    }

    // MARK: Each refusal and its status

    /// Malformed requests: 400.
    func testMalformedRequestsAre400() {
        let cases = [
            "GET / HTTP/1.1\nHost: h\r\n\r\n",  // bare LF
            "GET / HTTP/1.1\r\nHost: h\r\r\n\r\n",  // bare CR
            "GET  / HTTP/1.1\r\nHost: h\r\n\r\n",  // two spaces
            "GET /\tx HTTP/1.1\r\nHost: h\r\n\r\n",  // control byte in target
            "GET / HTTP/1.1 \r\nHost: h\r\n\r\n",  // trailing space
            "GET /\r\n\r\n",  // HTTP/0.9
            "GET / HTTP/1\r\nHost: h\r\n\r\n",  // bad version syntax
            "GET / http/1.1\r\nHost: h\r\n\r\n",  // version is case-sensitive
            "G(T / HTTP/1.1\r\nHost: h\r\n\r\n",  // method not a token
            "GET / HTTP/1.1\r\nHost : h\r\n\r\n",  // space before colon (RFC 9112 5.1)
            "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n",  // obs-fold (RFC 9112 5.2)
            "GET / HTTP/1.1\r\n Host: h\r\n\r\n",  // whitespace after the start line
            "GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: h\r\n: empty name\r\n\r\n",
            "GET / HTTP/1.1\r\nHost: h\r\nX: a\u{0}b\r\n\r\n",  // NUL in a value
            "GET / HTTP/1.1\r\nHost: h\r\nX: a\u{7f}\r\n\r\n",  // DEL in a value
            "GET / HTTP/1.1\r\n\r\n",  // HTTP/1.1 without Host (RFC 9112 3.2)
            "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",  // two Hosts
            "GET / HTTP/1.1\r\nHost: a b\r\n\r\n",  // bad Host
            "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n",
            "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +5\r\n\r\nhello",
            "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0x5\r\n\r\nhello",
            "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: \r\n\r\n",
        ]
        for text in cases {
            let events = parseRequests(bytes(text))
            XCTAssertEqual(events, [.error(.malformed)], text.debugDescription)
            XCTAssertEqual(HTTPParseError(.malformed, "").status.code, 400)
        }
    }

    func testRequestLineTooLongIs414() {
        let limits = HTTPParserLimits(maxStartLineLength: 64)
        let long = "GET /" + String(repeating: "a", count: 100) + " HTTP/1.1\r\nHost: h\r\n\r\n"
        let events = parseRequests(bytes(long), limits: limits)
        XCTAssertEqual(events, [.error(.startLineTooLong)])
        XCTAssertEqual(HTTPParseError(.startLineTooLong, "").status, .uriTooLong)
        // Refused before the line ends: an endless line is not buffered.
        var parser = HTTPRequestParser(limits: limits)
        let (consumed, event) = parser.feed(bytes("GET /" + String(repeating: "a", count: 100)))
        XCTAssertLessThanOrEqual(consumed, 64)
        guard case .error(let error) = event else { return XCTFail("\(event)") }
        XCTAssertEqual(error.status.code, 414)
        // Exactly at the limit is fine.
        let exact = "GET /" + String(repeating: "a", count: 64 - 14) + " HTTP/1.1"
        XCTAssertEqual(exact.utf8.count, 64)
        XCTAssertEqual(requests(parseRequests(bytes(exact + "\r\nHost: h\r\n\r\n"), limits: limits)).count, 1)
    }

    func testTooManyHeadersIs431() {
        let limits = HTTPParserLimits(maxHeaderCount: 5)
        var text = "GET / HTTP/1.1\r\nHost: h\r\n"
        for i in 0..<4 { text += "X-\(i): v\r\n" }
        XCTAssertEqual(requests(parseRequests(bytes(text + "\r\n"), limits: limits)).count, 1)
        text += "X-5: v\r\n\r\n"
        XCTAssertEqual(parseRequests(bytes(text), limits: limits), [.error(.tooManyHeaders)])
        XCTAssertEqual(HTTPParseError(.tooManyHeaders, "").status.code, 431)
    }

    func testHeaderSectionTooLargeIs431() {
        let limits = HTTPParserLimits(maxHeaderSectionLength: 100)
        let text = "GET / HTTP/1.1\r\nHost: h\r\nX: " + String(repeating: "v", count: 200) + "\r\n\r\n"
        XCTAssertEqual(parseRequests(bytes(text), limits: limits), [.error(.headerSectionTooLarge)])
        XCTAssertEqual(HTTPParseError(.headerSectionTooLarge, "").status.code, 431)
        // Many small lines add up.
        var many = "GET / HTTP/1.1\r\nHost: h\r\n"
        for i in 0..<20 { many += "X\(i): v\r\n" }
        XCTAssertEqual(parseRequests(bytes(many + "\r\n"), limits: limits), [.error(.headerSectionTooLarge)])
    }

    func testBodyTooLargeIs413BeforeTheBodyArrives() {
        let limits = HTTPParserLimits(maxBodyLength: 10)
        XCTAssertEqual(
            parseRequests(bytes("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n"), limits: limits),
            [.error(.bodyTooLarge)])
        XCTAssertEqual(
            parseRequests(
                bytes("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999999\r\n\r\n"),
                limits: limits),
            [.error(.bodyTooLarge)])
        XCTAssertEqual(HTTPParseError(.bodyTooLarge, "").status.code, 413)
        // Chunked: the sum of the chunks counts.
        let chunked =
            "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n6\r\naaaaaa\r\n5\r\nbbbbb\r\n0\r\n\r\n"
        XCTAssertEqual(
            parseRequests(bytes(chunked), limits: limits), [.head(.post, "/"), .error(.bodyTooLarge)])
        let huge =
            "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffffff\r\n"
        XCTAssertEqual(
            parseRequests(bytes(huge), limits: limits), [.head(.post, "/"), .error(.bodyTooLarge)])
        XCTAssertEqual(
            requests(
                parseRequests(
                    bytes("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n0123456789"),
                    limits: limits)
            ).first?.bodyText, "0123456789")
    }

    func testUnknownTransferEncodingIs501() {
        for coding in ["gzip", "gzip, chunked", "deflate,chunked", "x-custom"] {
            let text = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: \(coding)\r\n\r\n"
            XCTAssertEqual(parseRequests(bytes(text)), [.error(.unsupportedTransferCoding)], coding)
        }
        XCTAssertEqual(HTTPParseError(.unsupportedTransferCoding, "").status.code, 501)
    }

    func testVersionOtherThanOneIs505() {
        for version in ["HTTP/2.0", "HTTP/0.9", "HTTP/3.0", "HTTP/9.9"] {
            let text = "GET / \(version)\r\nHost: h\r\n\r\n"
            XCTAssertEqual(parseRequests(bytes(text)), [.error(.unsupportedVersion)], version)
        }
        XCTAssertEqual(HTTPParseError(.unsupportedVersion, "").status.code, 505)
        // A later 1.x is read as 1.1 (RFC 9110 section 2.5).
        let later = requests(parseRequests(bytes("GET / HTTP/1.2\r\nHost: h\r\n\r\n")))
        XCTAssertEqual(later.first?.version, HTTPVersion(major: 1, minor: 2))
        XCTAssertEqual(later.first?.keepAlive, true)
    }

    func testUnknownExpectationIs417() {
        XCTAssertEqual(
            parseRequests(
                bytes("POST / HTTP/1.1\r\nHost: h\r\nExpect: 200-ok\r\nContent-Length: 1\r\n\r\nx")),
            [.error(.unsupportedExpectation)])
        var parser = HTTPRequestParser()
        let (_, event) = parser.feed(
            bytes("POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n"))
        guard case .head = event else { return XCTFail("\(event)") }
        XCTAssertTrue(parser.expectsContinue)
        // HTTP/1.0 expectations are ignored.
        XCTAssertEqual(requests(parseRequests(bytes("GET / HTTP/1.0\r\nExpect: nonsense\r\n\r\n"))).count, 1)
    }

    // MARK: Smuggling (RFC 9112 section 6.3)

    func testConflictingFramingIsRefused() {
        let cases = [
            "Content-Length: 5\r\nContent-Length: 6",  // differing lengths
            "Content-Length: 5\r\nContent-Length: 5",  // repeated lengths
            "Content-Length: 5, 5",  // a list
            "Content-Length: 5\r\nTransfer-Encoding: chunked",  // CL.TE
            "Transfer-Encoding: chunked\r\nContent-Length: 5",  // TE.CL
            "Transfer-Encoding: chunked, chunked",  // chunked twice
            "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked",
            "Transfer-Encoding: chunked;q=1",  // chunked has no parameters
            "Transfer-Encoding: ",  // empty
            "Transfer-Encoding: ,",
            "Transfer-Encoding : chunked",  // space before colon hides the field from others
        ]
        for fields in cases {
            let text = "POST / HTTP/1.1\r\nHost: h\r\n\(fields)\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
            XCTAssertEqual(parseRequests(bytes(text)), [.error(.malformed)], fields)
        }
        // Transfer-Encoding in HTTP/1.0 means faulty framing (RFC 9112 6.1).
        XCTAssertEqual(
            parseRequests(bytes("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")),
            [.error(.malformed)])
    }

    func testTransferEncodingIsCaseInsensitive() {
        let text = "POST / HTTP/1.1\r\nHost: h\r\ntransfer-encoding: CHUNKED\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
        XCTAssertEqual(requests(parseRequests(bytes(text))).first?.bodyText, "hello")
    }

    // MARK: Chunked (RFC 9112 section 7.1)

    func testChunkedBodyWithExtensionsAndTrailers() {
        let text =
            "POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "5;name=value\r\nhello\r\n"
            + "1 ; a ; b=\"quoted;\"\r\n \r\n"
            + "00000A\r\n0123456789\r\n"
            + "0;last\r\nTrailer-A: 1\r\nTrailer-B: 2\r\n\r\n"
        let events = parseRequests(bytes(text))
        XCTAssertEqual(events.first, .head(.post, "/up"))
        let request = try! XCTUnwrap(requests(events).first)
        XCTAssertEqual(request.bodyText, "hello 0123456789")
        // Trailers are skipped, not merged into the headers.
        XCTAssertFalse(request.headers.contains("Trailer-A"))
    }

    func testMalformedChunksAre400() {
        let cases = [
            "x\r\nhello\r\n0\r\n\r\n",  // not hex
            "\r\nhello\r\n0\r\n\r\n",  // no size
            "5\r\nhelloX\r\n0\r\n\r\n",  // data longer than its size
            "5\r\nhello\n0\r\n\r\n",  // bare LF after data
            "5 \r\nhello\r\n0\r\n\r\n",  // whitespace without an extension
            "5;a\u{1}\r\nhello\r\n0\r\n\r\n",  // control byte in an extension
            "5\nhello\r\n0\r\n\r\n",  // bare LF after size
            "-5\r\nhello\r\n0\r\n\r\n",
            "5\r\nhello\r\n0\r\nBad Trailer\r\n\r\n",
        ]
        for chunks in cases {
            let text = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks
            XCTAssertEqual(
                parseRequests(bytes(text)), [.head(.post, "/"), .error(.malformed)], chunks.debugDescription)
        }
        let longLine = "5;" + String(repeating: "x", count: 2000) + "\r\nhello\r\n0\r\n\r\n"
        XCTAssertEqual(
            parseRequests(
                bytes("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n" + longLine)),
            [.head(.post, "/"), .error(.malformed)])
    }

    func testTruncatedRequestAtEndOfStream() {
        XCTAssertEqual(
            parseRequests(bytes("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhel"), finish: true),
            [.head(.post, "/"), .error(.truncated)])
        XCTAssertEqual(parseRequests(bytes("GET / HTTP/1.1\r\nHost: h\r\n\r\n"), finish: true).count, 1)
        XCTAssertEqual(HTTPParseError(.truncated, "").status.code, 400)
    }

    func testParserStaysFailedAfterAnError() {
        var parser = HTTPRequestParser()
        guard case .error = parser.feed(bytes("BAD\r\n")).event else { return XCTFail() }
        let (consumed, event) = parser.feed(bytes("GET / HTTP/1.1\r\nHost: h\r\n\r\n"))
        XCTAssertEqual(consumed, 0)
        guard case .error(let error) = event else { return XCTFail("\(event)") }
        XCTAssertEqual(error.kind, .malformed)
    }

    // MARK: Splits

    /// A pipelined pair (Content-Length, then chunked with an extension and
    /// a trailer) cut into two pieces at every position, and into three at
    /// every pair of positions, parses the same as in one piece.
    func testEverySplitOfAPipelinedPairGivesTheSameResult() {
        let text =
            "POST /a?x=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"
            + "PUT /b HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3;e=1\r\nabc\r\n2\r\nde\r\n0\r\nT: x\r\n\r\n"
            + "GET /c HTTP/1.1\r\nHost: h\r\n\r\n"
        let input = bytes(text)
        let whole = parseRequests(input)
        XCTAssertEqual(requests(whole).map(\.path), ["/a", "/b", "/c"])
        XCTAssertEqual(requests(whole).map(\.bodyText), ["hello", "abcde", ""])
        XCTAssertNil(firstError(whole))
        for cut in 0...input.count {
            XCTAssertEqual(parseRequests(input, cuts: [cut]), whole, "cut at \(cut)")
        }
        for first in stride(from: 0, through: input.count, by: 3) {
            for second in stride(from: first, through: input.count, by: 5) {
                XCTAssertEqual(
                    parseRequests(input, cuts: [first, second]), whole, "cuts at \(first), \(second)")
            }
        }
        // One byte at a time.
        XCTAssertEqual(parseRequests(input, cuts: Array(0...input.count)), whole)
    }

    /// Refusals do not depend on the split either.
    func testEverySplitOfABadRequestGivesTheSameError() {
        let input = bytes("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\rb\r\n\r\n")
        for cut in 0...input.count {
            XCTAssertEqual(parseRequests(input, cuts: [cut]), [.error(.malformed)], "cut at \(cut)")
        }
    }
}
