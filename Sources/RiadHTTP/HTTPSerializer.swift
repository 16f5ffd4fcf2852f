// Writing message heads: RFC 9112 sections 3 and 4 (start lines), 5 (field
// lines), 6 (framing) and 9.3 (Connection), RFC 9110 sections 6.6.1 (Date),
// 8.6 (Content-Length) and 9.3.2 (HEAD).

/// How a response is framed on the wire, decided with its head.
public struct HTTPResponseFraming: Sendable, Equatable {
    /// Whether content follows the head (not after HEAD, 1xx, 204, 304).
    public var sendsBody: Bool
    /// Whether the content is sent chunked (a stream, to an HTTP/1.1 client).
    public var chunked: Bool
    /// Whether the connection stays open after the response.
    public var keepAlive: Bool

    public init(sendsBody: Bool, chunked: Bool, keepAlive: Bool) {
        self.sendsBody = sendsBody
        self.chunked = chunked
        self.keepAlive = keepAlive
    }
}

/// What a response's head depends on besides the response itself.
public struct HTTPResponseContext: Sendable {
    /// The request's method: after HEAD, no content is sent.
    public var requestMethod: HTTPMethod
    /// The request's version: an HTTP/1.0 client cannot take chunks.
    public var requestVersion: HTTPVersion
    /// Whether the server wants the connection kept open.
    public var keepAlive: Bool
    /// The Date field's value, if one is sent (RFC 9110 section 6.6.1:
    /// servers with a clock should).
    public var date: String?

    public init(
        requestMethod: HTTPMethod = .get, requestVersion: HTTPVersion = .http11,
        keepAlive: Bool = true, date: String? = nil
    ) {
        self.requestMethod = requestMethod
        self.requestVersion = requestVersion
        self.keepAlive = keepAlive
        self.date = date
    }
}

/// Message heads as bytes.
public enum HTTPSerializer {
    /// The status line and header section of `response`, with the framing
    /// fields the serializer owns (Content-Length, Transfer-Encoding,
    /// Connection, Date) written from `context` and those in the response's
    /// headers left out.
    ///
    /// ```swift
    /// let (head, framing) = HTTPSerializer.responseHead(.text("hi"), HTTPResponseContext())
    /// // "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 2\r\n\r\n"
    /// ```
    public static func responseHead(_ response: HTTPResponse, _ context: HTTPResponseContext) -> (
        bytes: [UInt8], framing: HTTPResponseFraming
    ) {
        let status = response.status
        let noContent = status.forbidsContent
        let streaming = response.bodyStream != nil && !noContent
        let chunked = streaming && context.requestVersion >= .http11
        // Content delimited by the close leaves no way to keep the
        // connection (RFC 9112 section 6.3 rule 8).
        let keepAlive =
            context.keepAlive && !(streaming && !chunked)
            && !response.headers.containsToken("close", in: "Connection")

        var bytes: [UInt8] = []
        bytes.reserveCapacity(128 + response.headers.storage.count + 12 * response.headers.count)
        appendLiteral("HTTP/1.1 ", to: &bytes)
        appendDecimal((100...999).contains(status.code) ? status.code : 500, to: &bytes)
        bytes.append(ASCII.space)
        appendSanitized(status.reason.utf8, to: &bytes)
        appendLiteral("\r\n", to: &bytes)
        if let date = context.date {
            appendLiteral("Date: ", to: &bytes)
            appendSanitized(date.utf8, to: &bytes)
            appendLiteral("\r\n", to: &bytes)
        }
        let owned: [StaticString] = ["Content-Length", "Transfer-Encoding", "Connection", "Date"]
        appendFields(
            response.headers, except: context.date == nil ? owned.dropLast() : owned[...], to: &bytes)
        if !noContent {
            if chunked {
                appendLiteral("Transfer-Encoding: chunked\r\n", to: &bytes)
            } else if !streaming {
                // After HEAD too: the length a GET would have had (9.3.2).
                appendLiteral("Content-Length: ", to: &bytes)
                appendDecimal(response.body.count, to: &bytes)
                appendLiteral("\r\n", to: &bytes)
            }
        }
        if !keepAlive {
            appendLiteral("Connection: close\r\n", to: &bytes)
        } else if context.requestVersion < .http11 {
            appendLiteral("Connection: keep-alive\r\n", to: &bytes)
        }
        appendLiteral("\r\n", to: &bytes)
        let framing = HTTPResponseFraming(
            sendsBody: !noContent && context.requestMethod != .head, chunked: chunked,
            keepAlive: keepAlive)
        return (bytes, framing)
    }

    /// The whole of `request` as a client sends it: request line in origin
    /// form, Host (unless the request has one), the request's fields,
    /// Content-Length when there is content or the method expects some
    /// (RFC 9110 section 8.6), "Connection: close" unless `keepAlive`, and
    /// the content.
    public static func request(_ request: HTTPRequest, host: String, keepAlive: Bool) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(128 + request.headers.storage.count + request.body.count)
        request.method.append(to: &bytes)
        bytes.append(ASCII.space)
        appendTarget(request.path.utf8, to: &bytes)
        if let query = request.query {
            bytes.append(ASCII.question)
            appendTarget(query.utf8, to: &bytes)
        }
        bytes.append(ASCII.space)
        HTTPVersion.http11.append(to: &bytes)
        appendLiteral("\r\n", to: &bytes)
        if !request.headers.contains("Host") {
            appendLiteral("Host: ", to: &bytes)
            appendSanitized(host.utf8, to: &bytes)
            appendLiteral("\r\n", to: &bytes)
        }
        appendFields(
            request.headers, except: ["Content-Length", "Transfer-Encoding", "Connection"], to: &bytes)
        let expectsContent = request.method == .post || request.method == .put || request.method == .patch
        if !request.body.isEmpty || expectsContent {
            appendLiteral("Content-Length: ", to: &bytes)
            appendDecimal(request.body.count, to: &bytes)
            appendLiteral("\r\n", to: &bytes)
        }
        if !keepAlive { appendLiteral("Connection: close\r\n", to: &bytes) }
        appendLiteral("\r\n", to: &bytes)
        bytes.append(contentsOf: request.body)
        return bytes
    }

    /// `body` in chunks of at most `chunkSize` bytes, with the last chunk
    /// and an empty trailer section (RFC 9112 section 7.1).
    public static func chunked(_ body: [UInt8], chunkSize: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        var start = 0
        let size = max(1, chunkSize)
        while start < body.count {
            let end = min(body.count, start + size)
            appendHexadecimal(end - start, to: &bytes)
            appendLiteral("\r\n", to: &bytes)
            bytes.append(contentsOf: body[start..<end])
            appendLiteral("\r\n", to: &bytes)
            start = end
        }
        appendLiteral("0\r\n\r\n", to: &bytes)
        return bytes
    }

    /// Appends each field line but those named in `except`. A name that is
    /// not a token is dropped; control bytes in a value become spaces, so
    /// that no value can end its line early (RFC 9110 section 5.5).
    private static func appendFields(
        _ headers: HTTPHeaders, except: ArraySlice<StaticString>, to bytes: inout [UInt8]
    ) {
        for field in headers {
            guard !field.name.isEmpty, field.name.allSatisfy(ASCII.isTokenByte) else { continue }
            let skipped = except.contains { name in
                ASCII.equalsIgnoringCase(
                    field.name, UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
            }
            if skipped { continue }
            bytes.append(contentsOf: field.name)
            appendLiteral(": ", to: &bytes)
            appendSanitized(field.value, to: &bytes)
            appendLiteral("\r\n", to: &bytes)
        }
    }

    private static func appendSanitized<Bytes: Sequence>(_ value: Bytes, to bytes: inout [UInt8])
    where Bytes.Element == UInt8 {
        for byte in value { bytes.append(ASCII.isFieldValueByte(byte) ? byte : ASCII.space) }
    }

    /// Appends a path or query, percent-encoding the bytes a request-target
    /// cannot hold (spaces, controls, non-ASCII: RFC 3986 section 2.1).
    private static func appendTarget<Bytes: Sequence>(_ value: Bytes, to bytes: inout [UInt8])
    where Bytes.Element == UInt8 {
        let hex: StaticString = "0123456789ABCDEF"
        for byte in value {
            if ASCII.isTargetByte(byte) && byte != ASCII.hash {
                bytes.append(byte)
            } else {
                bytes.append(UInt8(ascii: "%"))
                bytes.append(hex.utf8Start[Int(byte >> 4)])
                bytes.append(hex.utf8Start[Int(byte & 0xf)])
            }
        }
    }
}
