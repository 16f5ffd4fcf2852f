// What a parser accepts, and what it answers when a message goes beyond:
// RFC 9110 section 15.5 (4xx) and 15.6 (5xx), RFC 6585 section 5 (431).

/// Bounds on a message, so that a peer cannot make a parser hold more
/// memory than these (every buffer a parser fills is bounded by them).
public struct HTTPParserLimits: Sendable, Hashable {
    /// The longest request line or status line, without CRLF. Longer: 414
    /// (RFC 9112 section 3: servers must handle at least 8000 octets).
    public var maxStartLineLength: Int
    /// The most field lines in the header section (or trailer section).
    /// More: 431.
    public var maxHeaderCount: Int
    /// The most bytes in the header section, every field line and its CRLF
    /// counted (the trailer section counts on its own). More: 431.
    public var maxHeaderSectionLength: Int
    /// The most content bytes, after de-chunking. More: 413.
    public var maxBodyLength: Int
    /// The longest chunk-size line, extensions included. Longer: 400 (a
    /// peer that sends a kilobyte of extensions is not sending data).
    public var maxChunkLineLength: Int

    public init(
        maxStartLineLength: Int = 8192, maxHeaderCount: Int = 100,
        maxHeaderSectionLength: Int = 16_384, maxBodyLength: Int = 1 << 20,
        maxChunkLineLength: Int = 1024
    ) {
        self.maxStartLineLength = maxStartLineLength
        self.maxHeaderCount = maxHeaderCount
        self.maxHeaderSectionLength = maxHeaderSectionLength
        self.maxBodyLength = maxBodyLength
        self.maxChunkLineLength = maxChunkLineLength
    }
}

/// Why a parser refused a message, and the status a server answers with.
///
/// After an error the parser is finished: framing is lost, so the
/// connection must be closed after the answer (RFC 9112 section 6.3 rule 4).
public struct HTTPParseError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// Broken syntax or framing: 400.
        case malformed
        /// Request line longer than `maxStartLineLength`: 414.
        case startLineTooLong
        /// More than `maxHeaderCount` field lines: 431.
        case tooManyHeaders
        /// Header section longer than `maxHeaderSectionLength`: 431.
        case headerSectionTooLarge
        /// Content longer than `maxBodyLength`: 413.
        case bodyTooLarge
        /// A transfer coding other than chunked: 501 (RFC 9112 section 6.1).
        case unsupportedTransferCoding
        /// A major version other than 1: 505 (RFC 9110 section 15.6.6).
        case unsupportedVersion
        /// An Expect other than 100-continue: 417 (RFC 9110 section 10.1.1).
        case unsupportedExpectation
        /// The connection ended inside a message.
        case truncated
    }

    public var kind: Kind
    /// What exactly was wrong, for logs; not part of any contract.
    public var detail: StaticString

    public init(_ kind: Kind, _ detail: StaticString) {
        self.kind = kind
        self.detail = detail
    }

    /// The status a server answers a request refused this way with.
    public var status: HTTPStatus {
        switch kind {
        case .malformed, .truncated: return .badRequest
        case .startLineTooLong: return .uriTooLong
        case .tooManyHeaders, .headerSectionTooLarge: return .requestHeaderFieldsTooLarge
        case .bodyTooLarge: return .contentTooLarge
        case .unsupportedTransferCoding: return .notImplemented
        case .unsupportedVersion: return .httpVersionNotSupported
        case .unsupportedExpectation: return .expectationFailed
        }
    }

    /// "400 Bad Request: bare CR"
    public var description: String {
        status.description + ": " + String(decoding: detailBytes, as: UTF8.self)
    }

    private var detailBytes: UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: detail.utf8Start, count: detail.utf8CodeUnitCount)
    }
}

/// What feeding bytes to a parser produced.
public enum HTTPParserEvent<Message> {
    /// Every byte given was taken; more are needed.
    case needMore
    /// The header section is complete and content follows: the moment a
    /// server answers `Expect: 100-continue` (RFC 9110 section 10.1.1). The
    /// head is in the parser's `head`.
    case head
    /// A whole message. The parser is ready for the next one (pipelining).
    case message(Message)
    /// The input is refused; the parser takes nothing more.
    case error(HTTPParseError)
}
