// Parsing requests: RFC 9112 section 3 (request line, request-target
// forms, Host), section 6 (framing, and refusing what could be smuggled),
// RFC 9110 section 10.1.1 (Expect).
import Riad

/// An incremental, sans-I/O request parser: feed it bytes as they arrive,
/// split anywhere; it says when a request is whole. It never traps, and
/// holds no more than its limits allow whatever it is fed.
///
/// ```swift
/// var parser = HTTPRequestParser()
/// var offset = 0
/// while offset < received.count {
///     let (consumed, event) = parser.feed(UnsafeRawBufferPointer(rebasing: received[offset...]))
///     offset += consumed
///     switch event {
///     case .needMore: break  // read more
///     case .head: break  // content follows; answer 100-continue here
///     case .message(let request): handle(request)  // and go on: pipelining
///     case .error(let error): answer(error.status)  // and close
///     }
/// }
/// ```
public struct HTTPRequestParser {
    private var reader: HTTPMessageReader
    /// The method of the request being read, once its request line is.
    public private(set) var method: HTTPMethod?
    private var path = ""
    private var query: String?
    private var version = HTTPVersion.http11
    /// The request without its content, once `.head` was reported (and
    /// until the request is complete).
    public private(set) var head: HTTPRequest?
    /// Whether the request being read asked for `100 Continue` before
    /// sending its content.
    public private(set) var expectsContinue = false

    public init(limits: HTTPParserLimits = HTTPParserLimits()) {
        reader = HTTPMessageReader(limits: limits)
    }

    public var limits: HTTPParserLimits { reader.limits }

    /// Whether no byte of a request has been taken since the last one.
    public var isIdle: Bool { reader.isIdle }

    /// Whether the request being read has its header section complete.
    public var isHeadComplete: Bool { head != nil }

    /// The bytes of the request being read taken so far (0 again once it
    /// is complete).
    public var messageBytes: Int { reader.messageBytes }

    /// Takes bytes from the start of `bytes` until a request is complete,
    /// its head is, an error is found, or the bytes run out. Bytes not taken
    /// (`consumed` < `bytes.count`) belong to what follows: feed them again.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) -> (
        consumed: Int, event: HTTPParserEvent<HTTPRequest>
    ) {
        var index = 0
        while true {
            switch reader.read(bytes, at: &index) {
            case .needMore:
                return (index, .needMore)
            case .failed(let error):
                return (index, .error(error))
            case .startLine:
                if let error = takeRequestLine() {
                    reader.refuse(error)
                    return (index, .error(error))
                }
            case .headComplete:
                let framing: HTTPMessageReader.Framing
                switch chooseFraming() {
                case .failure(let error):
                    reader.refuse(error)
                    return (index, .error(error))
                case .success(let chosen): framing = chosen
                }
                reader.beginBody(framing)
                if framing != .none, framing != .length(0) {
                    head = HTTPRequest(
                        method: method ?? .get, path: path, query: query, version: version,
                        headers: reader.headers)
                    return (index, .head)
                }
            case .complete:
                let request = HTTPRequest(
                    method: method ?? .get, path: path, query: query, version: version,
                    headers: reader.headers, body: reader.body)
                reader.reset()
                method = nil
                head = nil
                expectsContinue = false
                return (index, .message(request))
            }
        }
    }

    /// Feeds the bytes of an array; see `feed(_:)`.
    public mutating func feed(_ bytes: [UInt8]) -> (consumed: Int, event: HTTPParserEvent<HTTPRequest>) {
        bytes.withUnsafeBytes { feed($0) }
    }

    /// The end of the stream: `.needMore` between requests (a clean end),
    /// `.error` (`.truncated`) inside one.
    public mutating func finish() -> HTTPParserEvent<HTTPRequest> {
        switch reader.finish() {
        case .failed(let error): return .error(error)
        default: return .needMore
        }
    }

    // MARK: Request line (RFC 9112 section 3)

    private mutating func takeRequestLine() -> HTTPParseError? {
        let line = reader.line[...]
        // method SP request-target SP HTTP-version, single spaces: other
        // whitespace would let two parsers split the line differently.
        guard let firstSpace = line.firstIndex(of: ASCII.space) else {
            return HTTPParseError(.malformed, "request line without spaces")
        }
        guard let method = HTTPMethod(bytes: line[..<firstSpace]) else {
            return HTTPParseError(.malformed, "method is not a token")
        }
        let rest = line[(firstSpace + 1)...]
        guard let secondSpace = rest.firstIndex(of: ASCII.space) else {
            return HTTPParseError(.malformed, "request line without a version")
        }
        let target = rest[..<secondSpace]
        guard let version = HTTPVersion(rest[(secondSpace + 1)...]) else {
            return HTTPParseError(.malformed, "bad HTTP version")
        }
        // A major version other than 1 is refused with 505; a later 1.x is
        // read as 1.1 (RFC 9110 section 2.5).
        guard version.major == 1 else {
            return HTTPParseError(.unsupportedVersion, "HTTP version not supported")
        }
        guard !target.isEmpty, target.allSatisfy(ASCII.isTargetByte) else {
            return HTTPParseError(.malformed, "bad request-target")
        }
        self.method = method
        self.version = version
        return takeTarget(target, method: method)
    }

    /// Splits the request-target (RFC 9112 section 3.2) into path and query.
    private mutating func takeTarget(_ target: ArraySlice<UInt8>, method: HTTPMethod) -> HTTPParseError? {
        // A fragment is never part of a request-target (RFC 9110 7.1).
        guard !target.contains(ASCII.hash) else {
            return HTTPParseError(.malformed, "fragment in the request-target")
        }
        var pathAndQuery = target
        if target.first == ASCII.slash {
            // origin-form
        } else if target.count == 1, target.first == UInt8(ascii: "*") {
            // asterisk-form, for OPTIONS only (RFC 9112 section 3.2.4).
            guard method == .options else {
                return HTTPParseError(.malformed, "* is a target for OPTIONS only")
            }
        } else if method == .connect {
            // authority-form (RFC 9112 section 3.2.3): kept whole.
            path = String(decoding: target, as: UTF8.self)
            query = nil
            return nil
        } else {
            // absolute-form (RFC 9112 section 3.2.2), which a server must
            // accept: the path is what follows the authority.
            guard let rest = Self.afterAuthority(target) else {
                return HTTPParseError(.malformed, "bad request-target")
            }
            pathAndQuery = rest
        }
        if let mark = pathAndQuery.firstIndex(of: ASCII.question) {
            let pathBytes = pathAndQuery[..<mark]
            path = pathBytes.isEmpty ? "/" : String(decoding: pathBytes, as: UTF8.self)
            query = String(decoding: pathAndQuery[(mark + 1)...], as: UTF8.self)
        } else {
            path = pathAndQuery.isEmpty ? "/" : String(decoding: pathAndQuery, as: UTF8.self)
            query = nil
        }
        return nil
    }

    /// The path and query of an "http://" or "https://" URI.
    private static func afterAuthority(_ target: ArraySlice<UInt8>) -> ArraySlice<UInt8>? {
        let schemes: [StaticString] = ["http://", "https://"]
        for scheme in schemes {
            let prefix = UnsafeBufferPointer(start: scheme.utf8Start, count: scheme.utf8CodeUnitCount)
            guard target.count > prefix.count,
                ASCII.equalsIgnoringCase(target.prefix(prefix.count), prefix)
            else { continue }
            let authority = target.dropFirst(prefix.count)
            let end = authority.firstIndex { $0 == ASCII.slash || $0 == ASCII.question }
            return end.map { target[$0...] } ?? target[target.endIndex...]
        }
        return nil
    }

    // MARK: Framing (RFC 9112 section 6)

    private mutating func chooseFraming() -> Result<HTTPMessageReader.Framing, HTTPParseError> {
        let headers = reader.headers
        // RFC 9112 section 3.2: exactly one Host in HTTP/1.1, at most one in
        // HTTP/1.0, with a valid value.
        let hosts = headers.count(name: "host".utf8)
        if hosts > 1 || (hosts == 0 && version >= .http11) {
            return .failure(HTTPParseError(.malformed, "Host missing or repeated"))
        }
        if let host = headers.first(name: "host".utf8), !host.allSatisfy(Self.isHostByte) {
            return .failure(HTTPParseError(.malformed, "bad Host"))
        }
        let lengths = headers.values("Content-Length")
        let framing: HTTPMessageReader.Framing
        if headers.contains("Transfer-Encoding") {
            // RFC 9112 section 6.1: in HTTP/1.0, Transfer-Encoding means the
            // framing is faulty; with Content-Length, it may be smuggling
            // (section 6.3 rule 3): both refused.
            guard version >= .http11 else {
                return .failure(HTTPParseError(.malformed, "Transfer-Encoding in HTTP/1.0"))
            }
            guard lengths.isEmpty else {
                return .failure(HTTPParseError(.malformed, "Content-Length with Transfer-Encoding"))
            }
            if let error = Self.checkTransferCodings(headers) { return .failure(error) }
            framing = .chunked
        } else if lengths.count > 1 {
            // RFC 9112 section 6.3 rule 5: differing lengths are
            // unrecoverable; equal ones are refused too, as a list would be.
            return .failure(HTTPParseError(.malformed, "more than one Content-Length"))
        } else if let text = lengths.first {
            guard let length = ASCII.decimal(text) else {
                return .failure(HTTPParseError(.malformed, "bad Content-Length"))
            }
            guard length <= reader.limits.maxBodyLength else {
                return .failure(HTTPParseError(.bodyTooLarge, "content too large"))
            }
            framing = .length(length)
        } else {
            // RFC 9112 section 6.3 rule 7: no framing header, no content.
            framing = .none
        }
        // RFC 9110 section 10.1.1: 100-continue is the only expectation;
        // HTTP/1.0 requests' expectations are ignored.
        if version >= .http11 {
            for value in headers.values("Expect") {
                var unknown = false
                ASCII.forEachListElement(value) { element in
                    if ASCII.equalsIgnoringCase(element, "100-continue".utf8) {
                        expectsContinue = true
                    } else {
                        unknown = true
                    }
                    return !unknown
                }
                if unknown {
                    return .failure(HTTPParseError(.unsupportedExpectation, "unknown expectation"))
                }
            }
        }
        return .success(framing)
    }

    /// Accepts exactly "chunked" as the list of transfer codings: others
    /// are not implemented (501, RFC 9112 section 6.1), and chunked must be
    /// last and applied once (RFC 9112 sections 6.1, 6.3 rule 4).
    static func checkTransferCodings(_ headers: HTTPHeaders) -> HTTPParseError? {
        var codings = 0
        var chunkedLast = false
        var error: HTTPParseError?
        for value in headers.values("Transfer-Encoding") {
            ASCII.forEachListElement(value) { element in
                codings += 1
                let name = ASCII.trimmed(element.prefix { $0 != ASCII.semicolon })
                guard ASCII.equalsIgnoringCase(name, "chunked".utf8) else {
                    error = HTTPParseError(.unsupportedTransferCoding, "transfer coding not implemented")
                    return false
                }
                // chunked has no parameters, and is applied once.
                guard name.count == element.count, !chunkedLast else {
                    error = HTTPParseError(.malformed, "chunked twice or with parameters")
                    return false
                }
                chunkedLast = true
                return true
            }
            if error != nil { return error }
        }
        guard codings > 0 else { return HTTPParseError(.malformed, "empty Transfer-Encoding") }
        return nil
    }

    /// The bytes of a Host value: uri-host and port (RFC 3986 section 3.2.2).
    static func isHostByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "A")...UInt8(ascii: "Z"):
            return true
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"),
            UInt8(ascii: "%"), UInt8(ascii: "!"), UInt8(ascii: "$"), UInt8(ascii: "&"),
            UInt8(ascii: "'"), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "*"),
            UInt8(ascii: "+"), UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "="),
            UInt8(ascii: ":"), UInt8(ascii: "["), UInt8(ascii: "]"):
            return true
        default:
            return false
        }
    }
}
