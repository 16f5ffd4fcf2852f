// Parsing responses, for the client: RFC 9112 section 4 (status line) and
// section 6.3 (how the content's length is known, which depends on the
// request: a response to HEAD never has content).
import Riad

/// An incremental, sans-I/O response parser; see `HTTPRequestParser` for
/// the way of feeding it.
///
/// Set `requestMethod` before each response: a response to HEAD has no
/// content whatever its headers say. Interim (1xx) responses are reported
/// as messages like final ones; a client skips them.
public struct HTTPResponseParser {
    private var reader: HTTPMessageReader
    private var status = HTTPStatus.ok
    private var version = HTTPVersion.http11
    /// The method of the request the next response answers.
    public var requestMethod = HTTPMethod.get
    /// Whether the response being read ends only when the connection
    /// closes (no Content-Length, not chunked: RFC 9112 section 6.3 rule 8).
    public private(set) var isDelimitedByClose = false

    public init(limits: HTTPParserLimits = HTTPParserLimits()) {
        reader = HTTPMessageReader(limits: limits)
    }

    /// Whether no byte of a response has been taken since the last one.
    public var isIdle: Bool { reader.isIdle }

    /// Takes bytes from the start of `bytes` until a response is complete,
    /// an error is found, or the bytes run out; see `HTTPRequestParser.feed`.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) -> (
        consumed: Int, event: HTTPParserEvent<HTTPResponse>
    ) {
        var index = 0
        while true {
            switch reader.read(bytes, at: &index) {
            case .needMore:
                return (index, .needMore)
            case .failed(let error):
                return (index, .error(error))
            case .startLine:
                if let error = takeStatusLine() {
                    reader.refuse(error)
                    return (index, .error(error))
                }
            case .headComplete:
                switch chooseFraming() {
                case .failure(let error):
                    reader.refuse(error)
                    return (index, .error(error))
                case .success(let framing):
                    isDelimitedByClose = framing == .untilClose
                    reader.beginBody(framing)
                    if framing != .none, framing != .length(0) { return (index, .head) }
                }
            case .complete:
                return (index, .message(takeResponse()))
            }
        }
    }

    /// Feeds the bytes of an array; see `feed(_:)`.
    public mutating func feed(_ bytes: [UInt8]) -> (consumed: Int, event: HTTPParserEvent<HTTPResponse>) {
        bytes.withUnsafeBytes { feed($0) }
    }

    /// The end of the stream: completes a response delimited by the close;
    /// `.needMore` between responses; `.error` (`.truncated`) inside one.
    public mutating func finish() -> HTTPParserEvent<HTTPResponse> {
        switch reader.finish() {
        case .complete: return .message(takeResponse())
        case .failed(let error): return .error(error)
        default: return .needMore
        }
    }

    private mutating func takeResponse() -> HTTPResponse {
        var response = HTTPResponse(status: status, headers: reader.headers, body: reader.body)
        response.version = version
        reader.reset()
        return response
    }

    /// HTTP-version SP status-code SP [reason-phrase] (RFC 9112 section 4);
    /// the space before an empty reason is often left out, and accepted.
    private mutating func takeStatusLine() -> HTTPParseError? {
        let line = reader.line[...]
        guard line.count >= 12, line[8] == ASCII.space,
            let version = HTTPVersion(line[..<8])
        else { return HTTPParseError(.malformed, "bad status line") }
        guard version.major == 1 else {
            return HTTPParseError(.unsupportedVersion, "HTTP version not supported")
        }
        guard let code = ASCII.decimal(line[9..<12]), code >= 100 else {
            return HTTPParseError(.malformed, "bad status code")
        }
        let reason = line[12...]
        guard reason.isEmpty || reason.first == ASCII.space,
            reason.allSatisfy(ASCII.isFieldValueByte)
        else { return HTTPParseError(.malformed, "bad reason phrase") }
        self.version = version
        status = HTTPStatus(code: code, reason: String(decoding: reason.dropFirst(), as: UTF8.self))
        return nil
    }

    /// RFC 9112 section 6.3, in its order.
    private func chooseFraming() -> Result<HTTPMessageReader.Framing, HTTPParseError> {
        // Rule 1: no content after HEAD, 1xx, 204, 304. (Rule 2, CONNECT's
        // tunnel, does not arise: the client does not send CONNECT.)
        if requestMethod == .head || status.forbidsContent { return .success(.none) }
        let headers = reader.headers
        let lengths = headers.values("Content-Length")
        if headers.contains("Transfer-Encoding") {
            // Rule 3 lets Transfer-Encoding override Content-Length; both
            // present is refused as the sign of smuggling it may be.
            guard version >= .http11, lengths.isEmpty else {
                return .failure(HTTPParseError(.malformed, "faulty Transfer-Encoding framing"))
            }
            // Rule 4: chunked last means chunked; a response may otherwise
            // be delimited by the close. Other codings are left applied (the
            // header says which).
            var last: ArraySlice<UInt8> = []
            for value in headers.values("Transfer-Encoding") {
                ASCII.forEachListElement(value) { element in
                    last = element
                    return true
                }
            }
            return .success(ASCII.equalsIgnoringCase(last, "chunked".utf8) ? .chunked : .untilClose)
        }
        if lengths.count > 1 {
            return .failure(HTTPParseError(.malformed, "more than one Content-Length"))
        }
        if let text = lengths.first {
            guard let length = ASCII.decimal(text) else {
                return .failure(HTTPParseError(.malformed, "bad Content-Length"))
            }
            guard length <= reader.limits.maxBodyLength else {
                return .failure(HTTPParseError(.bodyTooLarge, "content too large"))
            }
            return .success(.length(length))
        }
        return .success(.untilClose)
    }
}
