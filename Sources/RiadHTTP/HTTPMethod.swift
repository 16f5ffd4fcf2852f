// Request methods: RFC 9110 section 9. A method is a case-sensitive token
// (section 9.1): "get" is not GET.

/// A request method: the ones RFC 9110 (and RFC 5789, PATCH) define, or any
/// other token.
///
/// The common methods are cases, so parsing them allocates nothing; an
/// unknown one keeps its bytes.
public enum HTTPMethod: Sendable, Hashable, CustomStringConvertible {
    case get
    case head
    case post
    case put
    case delete
    case connect
    case options
    case trace
    case patch
    /// Any other token, as received (RFC 9110 section 16.1 lets new methods
    /// be registered).
    case other(HTTPToken)

    /// The method named by `bytes`, nil unless they are a non-empty token.
    public init?<Bytes: Collection>(bytes: Bytes) where Bytes.Element == UInt8 {
        guard !bytes.isEmpty, bytes.allSatisfy(ASCII.isTokenByte) else { return nil }
        for known in HTTPMethod.known where known.name.utf8.elementsEqual(bytes) {
            self = known
            return
        }
        self = .other(HTTPToken(unchecked: Array(bytes)))
    }

    /// The method named `name`, nil unless it is a non-empty token.
    public init?(_ name: String) {
        self.init(bytes: name.utf8)
    }

    private static let known: [HTTPMethod] = [
        .get, .head, .post, .put, .delete, .connect, .options, .trace, .patch,
    ]

    /// The method's name as sent: "GET".
    public var name: String {
        switch self {
        case .get: return "GET"
        case .head: return "HEAD"
        case .post: return "POST"
        case .put: return "PUT"
        case .delete: return "DELETE"
        case .connect: return "CONNECT"
        case .options: return "OPTIONS"
        case .trace: return "TRACE"
        case .patch: return "PATCH"
        case .other(let token): return token.string
        }
    }

    public var description: String { name }

    /// Methods whose request can be sent again after a connection failed
    /// without changing the outcome (RFC 9110 section 9.2.2), which is what
    /// makes a client's automatic retry safe (RFC 9112 section 9.3.1).
    public var isIdempotent: Bool {
        switch self {
        case .get, .head, .put, .delete, .options, .trace: return true
        case .post, .connect, .patch, .other: return false
        }
    }

    /// Appends the method's name.
    func append(to bytes: inout [UInt8]) {
        switch self {
        case .other(let token): bytes.append(contentsOf: token.bytes)
        default: bytes.append(contentsOf: name.utf8)
        }
    }
}

/// A token (RFC 9110 section 5.6.2) kept as its bytes: compared and hashed
/// byte by byte, never as a `String`.
public struct HTTPToken: Sendable, Hashable, CustomStringConvertible {
    /// The token's bytes: one or more `tchar`s.
    public let bytes: [UInt8]

    /// The token `text`, nil unless it is a non-empty token.
    public init?(_ text: String) {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty, bytes.allSatisfy(ASCII.isTokenByte) else { return nil }
        self.bytes = bytes
    }

    init(unchecked bytes: [UInt8]) {
        self.bytes = bytes
    }

    public var string: String { String(decoding: bytes, as: UTF8.self) }
    public var description: String { string }
}

/// An HTTP version: "HTTP/" DIGIT "." DIGIT (RFC 9112 section 2.3).
public struct HTTPVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var major: UInt8
    public var minor: UInt8

    public init(major: UInt8, minor: UInt8) {
        self.major = major
        self.minor = minor
    }

    /// HTTP/1.0 (RFC 1945)
    public static let http10 = HTTPVersion(major: 1, minor: 0)
    /// HTTP/1.1 (RFC 9112)
    public static let http11 = HTTPVersion(major: 1, minor: 1)

    public static func < (lhs: HTTPVersion, rhs: HTTPVersion) -> Bool {
        (lhs.major, lhs.minor) < (rhs.major, rhs.minor)
    }

    /// "HTTP/1.1"
    public var description: String {
        var bytes: [UInt8] = []
        append(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Parses exactly "HTTP/x.y" (case-sensitive, RFC 9112 section 2.3).
    init?(_ bytes: ArraySlice<UInt8>) {
        guard bytes.count == 8, bytes.prefix(5).elementsEqual("HTTP/".utf8) else { return nil }
        let major = bytes[bytes.startIndex + 5]
        let dot = bytes[bytes.startIndex + 6]
        let minor = bytes[bytes.startIndex + 7]
        guard ASCII.isDigit(major), dot == ASCII.dot, ASCII.isDigit(minor) else { return nil }
        self.init(major: major - ASCII.zero, minor: minor - ASCII.zero)
    }

    func append(to bytes: inout [UInt8]) {
        appendLiteral("HTTP/", to: &bytes)
        bytes.append(ASCII.zero &+ major)
        bytes.append(ASCII.dot)
        bytes.append(ASCII.zero &+ minor)
    }
}
