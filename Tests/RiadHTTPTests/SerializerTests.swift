import Riad
import RiadHTTP
import XCTest

/// Response and request heads as bytes, and the small formats around them.
final class SerializerTests: XCTestCase {
    func head(_ response: HTTPResponse, _ context: HTTPResponseContext = HTTPResponseContext()) -> (
        String, HTTPResponseFraming
    ) {
        let (bytes, framing) = HTTPSerializer.responseHead(response, context)
        return (String(decoding: bytes, as: UTF8.self), framing)
    }

    func testTextResponse() {
        let (text, framing) = head(.text("hello"))
        XCTAssertEqual(
            text, "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 5\r\n\r\n")
        XCTAssertEqual(framing, HTTPResponseFraming(sendsBody: true, chunked: false, keepAlive: true))
    }

    func testClosingAndDateAndKeepAliveFor10() {
        let (closing, framing) = head(
            .bytes([1, 2], status: .notFound),
            HTTPResponseContext(keepAlive: false, date: "Sun, 06 Nov 1994 08:49:37 GMT"))
        XCTAssertEqual(
            closing,
            "HTTP/1.1 404 Not Found\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
                + "Content-Type: application/octet-stream\r\nContent-Length: 2\r\nConnection: close\r\n\r\n")
        XCTAssertFalse(framing.keepAlive)
        let (old, _) = head(HTTPResponse(), HTTPResponseContext(requestVersion: .http10))
        XCTAssertEqual(old, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n")
    }

    func testFramingFieldsAreTheSerializersOwn() {
        var response = HTTPResponse(body: Array("abc".utf8))
        response.headers.add("content-length", "999")
        response.headers.add("Transfer-Encoding", "gzip")
        response.headers.add("Connection", "keep-alive")
        response.headers.add("Date", "yesterday")
        response.headers.add("X-Kept", "yes")
        XCTAssertEqual(
            head(response, HTTPResponseContext(date: "today")).0,
            "HTTP/1.1 200 OK\r\nDate: today\r\nX-Kept: yes\r\nContent-Length: 3\r\n\r\n")
        // Without a date of its own, the handler's Date is kept.
        XCTAssertEqual(
            head(response).0, "HTTP/1.1 200 OK\r\nDate: yesterday\r\nX-Kept: yes\r\nContent-Length: 3\r\n\r\n"
        )
        // "Connection: close" from the handler closes.
        response.headers.set("Connection", "close")
        let (text, framing) = head(response)
        XCTAssertTrue(text.hasSuffix("Content-Length: 3\r\nConnection: close\r\n\r\n"))
        XCTAssertFalse(framing.keepAlive)
    }

    func testHeadAndNoContentStatuses() {
        let (headText, headFraming) = head(.text("hello"), HTTPResponseContext(requestMethod: .head))
        XCTAssertTrue(headText.contains("Content-Length: 5\r\n"))
        XCTAssertFalse(headFraming.sendsBody)
        for status in [HTTPStatus.noContent, .notModified, .continue] {
            let (text, framing) = head(HTTPResponse(status: status, body: [1, 2, 3]))
            XCTAssertFalse(text.contains("Content-Length"), "\(status)")
            XCTAssertFalse(framing.sendsBody)
        }
    }

    func testStreamedResponses() {
        let streamed = HTTPResponse.streaming(contentType: "text/plain") { (_) throws(RiadError) in }
        let (text, framing) = head(streamed)
        XCTAssertEqual(
            text, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n")
        XCTAssertEqual(framing, HTTPResponseFraming(sendsBody: true, chunked: true, keepAlive: true))
        let (old, oldFraming) = head(streamed, HTTPResponseContext(requestVersion: .http10))
        XCTAssertEqual(old, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n")
        XCTAssertEqual(oldFraming, HTTPResponseFraming(sendsBody: true, chunked: false, keepAlive: false))
    }

    /// A value with CR LF cannot add a field; a bad name is dropped.
    func testInjectionIsNeutralised() {
        var response = HTTPResponse(status: HTTPStatus(code: 200, reason: "OK\r\nX-Evil: 1"))
        response.headers.add("X-Value", "a\r\nSet-Cookie: evil=1")
        response.headers.add("Bad Name", "v")
        response.headers.add("X-Nul", "a\u{0}b")
        let (text, _) = head(response)
        XCTAssertEqual(
            text,
            "HTTP/1.1 200 OK  X-Evil: 1\r\nX-Value: a  Set-Cookie: evil=1\r\nX-Nul: a b\r\nContent-Length: 0\r\n\r\n"
        )
        let parsed = parseResponses(bytes(text), methods: [.get])
        XCTAssertEqual(parsed.first?.headers.count, 3)
        XCTAssertFalse(parsed.first!.headers.contains("Set-Cookie"))
    }

    func testOutOfRangeStatusCodeIsSentAs500() {
        XCTAssertTrue(head(HTTPResponse(status: HTTPStatus(code: 7))).0.hasPrefix("HTTP/1.1 500 \r\n"))
    }

    func testRequestSerialization() {
        var request = HTTPRequest(method: .post, path: "/a b/ü", query: "x=1 2")
        request.headers.add("Content-Length", "12345")
        request.headers.add("X-Y", "z")
        request.body = Array("body".utf8)
        let text = String(
            decoding: HTTPSerializer.request(request, host: "example:8080", keepAlive: false), as: UTF8.self)
        XCTAssertEqual(
            text,
            "POST /a%20b/%C3%BC?x=1%202 HTTP/1.1\r\nHost: example:8080\r\nX-Y: z\r\nContent-Length: 4\r\n"
                + "Connection: close\r\n\r\nbody")
        // And the request parser reads it back.
        let parsed = requests(parseRequests(bytes(text)))
        XCTAssertEqual(parsed.first?.path, "/a%20b/%C3%BC")
        XCTAssertEqual(parsed.first?.bodyText, "body")
        // GET without a body has no Content-Length; a Host of the request's own is kept.
        var get = HTTPRequest(path: "/")
        get.headers.add("host", "other")
        XCTAssertEqual(
            String(decoding: HTTPSerializer.request(get, host: "h", keepAlive: true), as: UTF8.self),
            "GET / HTTP/1.1\r\nhost: other\r\n\r\n")
        XCTAssertEqual(
            String(
                decoding: HTTPSerializer.request(HTTPRequest(method: .put), host: "h", keepAlive: true),
                as: UTF8.self),
            "PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n")
    }

    func testChunkedEncoding() {
        XCTAssertEqual(
            String(
                decoding: HTTPSerializer.chunked(Array("abcdefghijklmnopqrst".utf8), chunkSize: 16),
                as: UTF8.self),
            "10\r\nabcdefghijklmnop\r\n4\r\nqrst\r\n0\r\n\r\n")
        XCTAssertEqual(String(decoding: HTTPSerializer.chunked([], chunkSize: 4), as: UTF8.self), "0\r\n\r\n")
    }

    func testDates() {
        XCTAssertEqual(HTTPDate.format(secondsSince1970: 0), "Thu, 01 Jan 1970 00:00:00 GMT")
        XCTAssertEqual(HTTPDate.format(secondsSince1970: 784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT")
        XCTAssertEqual(HTTPDate.format(secondsSince1970: 951_782_400), "Tue, 29 Feb 2000 00:00:00 GMT")
        XCTAssertEqual(HTTPDate.format(secondsSince1970: 4_107_542_399), "Sun, 28 Feb 2100 23:59:59 GMT")
        XCTAssertEqual(HTTPDate.format(secondsSince1970: 4_107_542_400), "Mon, 01 Mar 2100 00:00:00 GMT")
        XCTAssertEqual(HTTPDate.format(secondsSince1970: 1_767_225_599), "Wed, 31 Dec 2025 23:59:59 GMT")
    }

    func testHeaders() {
        var headers: HTTPHeaders = ["Content-Type": "text/html", "Connection": "keep-alive, Upgrade"]
        headers.add("X-Multi", "1")
        headers.add("x-multi", "2")
        XCTAssertEqual(headers["CONTENT-type"], "text/html")
        XCTAssertNil(headers["Content"])
        XCTAssertEqual(headers.count(of: "X-MULTI"), 2)
        XCTAssertTrue(headers.containsToken("upgrade", in: "connection"))
        XCTAssertFalse(headers.containsToken("close", in: "connection"))
        headers.set("X-Multi", "3")
        XCTAssertEqual(headers.values("X-Multi").map { Array($0) }, [Array("3".utf8)])
        headers.remove("content-type")
        XCTAssertEqual(headers.map(\.nameString), ["Connection", "X-Multi"])
        XCTAssertEqual(headers, ["connection": "keep-alive, Upgrade", "X-Multi": "3"])
        XCTAssertNotEqual(headers, ["Connection": "keep-alive, Upgrade"])
    }

    func testURLs() {
        let full = try! XCTUnwrap(HTTPURL("http://example.com:8086/write?db=riad&p=1#frag"))
        XCTAssertEqual(full.host, "example.com")
        XCTAssertEqual(full.port, 8086)
        XCTAssertEqual(full.path, "/write")
        XCTAssertEqual(full.query, "db=riad&p=1")
        XCTAssertEqual(full.authority, "example.com:8086")
        let bare = try! XCTUnwrap(HTTPURL("HTTP://10.0.0.1"))
        XCTAssertEqual(bare.port, 80)
        XCTAssertEqual(bare.path, "/")
        XCTAssertNil(bare.query)
        XCTAssertEqual(bare.authority, "10.0.0.1")
        XCTAssertEqual(HTTPURL("http://h?q")?.query, "q")
        for bad in [
            "https://h/", "http://", "http://:80/", "http://h:0/", "http://h:65536/", "http://u@h/", "h/x",
            "http://h h/",
        ] {
            XCTAssertNil(HTTPURL(bad), bad)
        }
    }

    func testMethodsAndStatuses() {
        XCTAssertEqual(HTTPMethod("GET"), .get)
        XCTAssertEqual(HTTPMethod("PATCH"), .patch)
        XCTAssertNil(HTTPMethod("G T"))
        XCTAssertNil(HTTPMethod(""))
        XCTAssertEqual(HTTPMethod("BREW")?.name, "BREW")
        XCTAssertTrue(HTTPMethod.put.isIdempotent)
        XCTAssertFalse(HTTPMethod.post.isIdempotent)
        XCTAssertEqual(HTTPStatus(code: 404).description, "404 Not Found")
        XCTAssertEqual(HTTPStatus(code: 404, reason: "Nope"), .notFound)
        XCTAssertEqual(HTTPStatus(code: 599).reason, "")
        XCTAssertEqual(HTTPVersion.http10.description, "HTTP/1.0")
    }
}
