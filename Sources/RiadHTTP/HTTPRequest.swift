// A request as a value: RFC 9112 section 3 (request line) and RFC 9110
// sections 7.1 (target), 9 (methods).

/// A whole request: what a server's handler gets, and what a client sends.
///
/// ```swift
/// var request = HTTPRequest(method: .post, path: "/write", query: "db=riad")
/// request.headers.add("Content-Type", "text/plain")
/// request.body = Array("cpu value=1".utf8)
/// ```
public struct HTTPRequest: Sendable, Equatable {
    public var method: HTTPMethod
    /// The target's path, from the first "/" up to "?" (or "*" for
    /// `OPTIONS *`), as sent: percent-encoding is not decoded.
    public var path: String
    /// The target's query, after "?", as sent; nil when there is no "?".
    public var query: String?
    public var version: HTTPVersion
    public var headers: HTTPHeaders
    /// The content, de-chunked. Trailer fields are not kept.
    public var body: [UInt8]

    public init(
        method: HTTPMethod = .get, path: String = "/", query: String? = nil,
        version: HTTPVersion = .http11, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.version = version
        self.headers = headers
        self.body = body
    }

    /// The request-target in origin form: path, and "?" and the query if any.
    public var target: String {
        guard let query else { return path }
        return path + "?" + query
    }

    /// The body as UTF-8 text (invalid sequences replaced).
    public var bodyText: String { String(decoding: body, as: UTF8.self) }

    /// Whether the client wants the connection kept open after this
    /// request (RFC 9112 section 9.3): HTTP/1.1 unless "Connection: close",
    /// HTTP/1.0 only with "Connection: keep-alive" (RFC 7230 appendix A.1.2).
    public var keepAlive: Bool {
        if headers.containsToken("close", in: "Connection") { return false }
        if version >= .http11 { return true }
        return headers.containsToken("keep-alive", in: "Connection")
    }

    /// Paths and queries compare as bytes, not as Unicode text.
    public static func == (lhs: HTTPRequest, rhs: HTTPRequest) -> Bool {
        lhs.method == rhs.method && lhs.path.utf8.elementsEqual(rhs.path.utf8)
            && sameBytes(lhs.query, rhs.query) && lhs.version == rhs.version
            && lhs.headers == rhs.headers && lhs.body == rhs.body
    }
}

/// Whether two optional strings hold the same bytes.
func sameBytes(_ a: String?, _ b: String?) -> Bool {
    switch (a, b) {
    case (nil, nil): return true
    case (let a?, let b?): return a.utf8.elementsEqual(b.utf8)
    default: return false
    }
}
