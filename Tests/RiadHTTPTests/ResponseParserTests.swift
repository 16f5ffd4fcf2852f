import RiadHTTP
import XCTest

/// The response parser, for the client: status lines, and every way RFC
/// 9112 section 6.3 knows where the content ends.
final class ResponseParserTests: XCTestCase {
    /// Feeds `text` in pieces of `step` bytes; returns the responses and
    /// the error, finishing at the end when `finish`.
    func parse(
        _ text: String, method: HTTPMethod = .get, step: Int = .max, finish: Bool = true,
        limits: HTTPParserLimits = HTTPParserLimits()
    ) -> (responses: [HTTPResponse], error: HTTPParseError.Kind?) {
        var parser = HTTPResponseParser(limits: limits)
        parser.requestMethod = method
        let input = bytes(text)
        var responses: [HTTPResponse] = []
        var offset = 0
        while offset < input.count {
            let end = input.count - offset > step ? offset + step : input.count
            var pieceOffset = offset
            while pieceOffset < end {
                let (consumed, event) = input.withUnsafeBytes {
                    parser.feed(UnsafeRawBufferPointer(rebasing: $0[pieceOffset..<end]))
                }
                pieceOffset += consumed
                switch event {
                case .message(let response): responses.append(response)
                case .error(let error): return (responses, error.kind)
                case .needMore, .head: break
                }
            }
            offset = end
        }
        if finish {
            switch parser.finish() {
            case .message(let response): responses.append(response)
            case .error(let error): return (responses, error.kind)
            default: break
            }
        }
        return (responses, nil)
    }

    func testContentLength() {
        let (responses, error) = parse("HTTP/1.1 201 Created\r\nContent-Length: 3\r\nX: y\r\n\r\nabc")
        XCTAssertNil(error)
        XCTAssertEqual(responses.count, 1)
        XCTAssertEqual(responses[0].status, .created)
        XCTAssertEqual(responses[0].status.reason, "Created")
        XCTAssertEqual(responses[0].version, .http11)
        XCTAssertEqual(responses[0].bodyText, "abc")
        XCTAssertEqual(responses[0].headers["x"], "y")
        XCTAssertFalse(responses[0].closesConnection)
    }

    func testStatusLineVariants() {
        XCTAssertEqual(parse("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n").responses.first?.status.reason, "")
        XCTAssertEqual(parse("HTTP/1.1 299 \r\nContent-Length: 0\r\n\r\n").responses.first?.status.code, 299)
        XCTAssertEqual(
            parse("HTTP/1.1 404 Not   Found Here\r\nContent-Length: 0\r\n\r\n").responses.first?.status
                .reason,
            "Not   Found Here")
        for bad in [
            "HTTP/1.1 20 OK\r\n\r\n", "HTTP/1.1 2000 OK\r\n\r\n", "HTTP/1.1  200 OK\r\n\r\n",
            "HTTP/1.1 099 OK\r\n\r\n", "HTTP/1.1 abc OK\r\n\r\n", "HTTP/11 200 OK\r\n\r\n",
            "HTTP/1.1 200OK\r\n\r\n", "ICY 200 OK\r\n\r\n", "HTTP/1.1 200 O\u{1}K\r\n\r\n",
        ] {
            XCTAssertEqual(parse(bad).error, .malformed, bad.debugDescription)
        }
        XCTAssertEqual(parse("HTTP/2.0 200 OK\r\n\r\n").error, .unsupportedVersion)
    }

    func testChunked() {
        let text =
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\nWiki\r\n5\r\npedia\r\n0\r\nT: 1\r\n\r\n"
        for step in [1, 2, 3, 7, .max] {
            let (responses, error) = parse(text, step: step, finish: false)
            XCTAssertNil(error)
            XCTAssertEqual(responses.map(\.bodyText), ["Wikipedia"], "step \(step)")
        }
    }

    func testUntilClose() {
        let (responses, error) = parse("HTTP/1.0 200 OK\r\n\r\nall of this\r\nuntil the end")
        XCTAssertNil(error)
        XCTAssertEqual(responses.map(\.bodyText), ["all of this\r\nuntil the end"])
        XCTAssertTrue(responses[0].closesConnection)
        // A transfer coding other than chunked last: until close too.
        XCTAssertEqual(
            parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzzz").responses.map(\.bodyText), ["zzz"])
        // And limited.
        XCTAssertEqual(
            parse("HTTP/1.1 200 OK\r\n\r\n0123456789", limits: HTTPParserLimits(maxBodyLength: 5)).error,
            .bodyTooLarge)
    }

    func testNoContentAfterHeadAnd1xx204And304() {
        let head = parse(
            "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
            method: .head)
        XCTAssertNil(head.error)
        XCTAssertEqual(head.responses.count, 2)
        XCTAssertEqual(head.responses[0].headers["Content-Length"], "100")
        XCTAssertTrue(head.responses[0].body.isEmpty)
        for status in [100, 103, 204, 304] {
            let text =
                "HTTP/1.1 \(status) X\r\nContent-Length: 5\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
            let (responses, error) = parse(text)
            XCTAssertNil(error)
            XCTAssertEqual(responses.map(\.status.code), [status, 200], "\(status)")
            XCTAssertEqual(responses.map(\.bodyText), ["", "ok"])
        }
    }

    func testFramingConflictsAreRefused() {
        for fields in [
            "Content-Length: 1\r\nContent-Length: 2", "Content-Length: 1\r\nTransfer-Encoding: chunked",
            "Content-Length: x",
        ] {
            XCTAssertEqual(parse("HTTP/1.1 200 OK\r\n\(fields)\r\n\r\nab").error, .malformed, fields)
        }
        XCTAssertEqual(
            parse("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n").error, .malformed)
        XCTAssertEqual(
            parse(
                "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nabc", limits: HTTPParserLimits(maxBodyLength: 5)
            )
            .error, .bodyTooLarge)
    }

    func testTruncatedResponse() {
        XCTAssertEqual(parse("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nabc").error, .truncated)
        XCTAssertEqual(parse("HTTP/1.1 200 OK\r\nContent-Le").error, .truncated)
        let chunked = parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab")
        XCTAssertEqual(chunked.error, .truncated)
        // Nothing at all is not an error: there was no response.
        XCTAssertEqual(parse("").responses.count, 0)
        XCTAssertNil(parse("").error)
    }

    func testKeepAliveOfHTTP10Responses() {
        let kept = parse("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n")
        XCTAssertEqual(kept.responses.first?.closesConnection, false)
        let closed = parse("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
        XCTAssertEqual(closed.responses.first?.closesConnection, true)
    }
}
