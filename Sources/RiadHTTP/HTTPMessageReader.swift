// The half of parsing requests and responses share: lines (RFC 9112
// section 2.2), field lines (section 5), and content by its framing:
// Content-Length (section 6.2), chunked (section 7.1, trailers skipped as
// section 7.1.2 allows) or until the connection closes (section 6.3 rule 8).
//
// Lines end in CRLF, strictly: a bare CR or a bare LF is refused. RFC 9112
// 2.2 lets a recipient take a bare LF as a line end, but two parsers that
// disagree about where a line ends disagree about where a message ends,
// which is how requests are smuggled past a proxy.

/// Reads one message's lines and content from bytes fed in any split.
///
/// The start line is left to the request or response parser: `read` stops
/// with `.startLine` when it is complete (in `line`), and with
/// `.headComplete` when the header section is, for the caller to choose the
/// framing with `beginBody`.
struct HTTPMessageReader {
    /// How the content's length is known (RFC 9112 section 6.3).
    enum Framing: Equatable {
        case none
        case length(Int)
        case chunked
        case untilClose
    }

    enum State {
        case startLine
        case headerLines
        case headComplete
        case lengthBody(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataCR
        case chunkDataLF
        case trailerLines
        case untilClose
        case done
        case failed(HTTPParseError)
    }

    enum Step {
        case needMore
        case startLine
        case headComplete
        case complete
        case failed(HTTPParseError)
    }

    /// RFC 9112 section 2.2 asks servers to skip at least one empty line
    /// before a request line (some clients send CRLF after a POST's
    /// content); a few are skipped, a stream of them is refused.
    static let maxEmptyLines = 8

    let limits: HTTPParserLimits
    private(set) var state = State.startLine
    /// The line being read, or the last complete one, without its CRLF.
    private(set) var line: [UInt8] = []
    private var lineComplete = false
    private var pendingCR = false
    private var emptyLines = 0
    private var sectionBytes = 0
    private var fieldCount = 0
    var headers = HTTPHeaders()
    var body: [UInt8] = []
    /// Bytes taken since the message started.
    private(set) var messageBytes = 0

    /// Negative limits are taken as 0, so that no arithmetic on them can
    /// overflow.
    init(limits: HTTPParserLimits) {
        self.limits = HTTPParserLimits(
            maxStartLineLength: max(0, limits.maxStartLineLength),
            maxHeaderCount: max(0, limits.maxHeaderCount),
            maxHeaderSectionLength: max(0, limits.maxHeaderSectionLength),
            maxBodyLength: max(0, limits.maxBodyLength),
            maxChunkLineLength: max(0, limits.maxChunkLineLength))
    }

    /// Whether nothing of a message has been read yet.
    var isIdle: Bool {
        if case .startLine = state { return line.isEmpty && !pendingCR && emptyLines == 0 }
        return false
    }

    /// Ready for the next message; keeps the line buffer's storage.
    mutating func reset() {
        state = .startLine
        line.removeAll(keepingCapacity: true)
        lineComplete = false
        pendingCR = false
        emptyLines = 0
        sectionBytes = 0
        fieldCount = 0
        headers = HTTPHeaders()
        body = []
        messageBytes = 0
    }

    mutating func fail(_ kind: HTTPParseError.Kind, _ detail: StaticString) -> Step {
        let error = HTTPParseError(kind, detail)
        state = .failed(error)
        return .failed(error)
    }

    /// Refuses the message for a reason found outside the reader (the start
    /// line, the framing headers).
    mutating func refuse(_ error: HTTPParseError) {
        state = .failed(error)
    }

    /// Chooses how the content is read, after `.headComplete`.
    mutating func beginBody(_ framing: Framing) {
        switch framing {
        case .none, .length(0): state = .done
        case .length(let length):
            body.reserveCapacity(min(length, 16_384))
            state = .lengthBody(remaining: length)
        case .chunked: state = .chunkSize
        case .untilClose: state = .untilClose
        }
    }

    /// The end of the stream: completes a message delimited by the close,
    /// is nothing between messages, and a truncated message otherwise.
    mutating func finish() -> Step {
        switch state {
        case .untilClose:
            state = .done
            return .complete
        case .done: return .complete
        case .failed(let error): return .failed(error)
        default:
            return isIdle ? .needMore : fail(.truncated, "the connection closed inside a message")
        }
    }

    /// Takes bytes from `input` at `index` (moving it) until a step is
    /// reached or the input runs out.
    mutating func read(_ input: UnsafeRawBufferPointer, at index: inout Int) -> Step {
        let start = index
        defer { messageBytes += index - start }
        while true {
            switch state {
            case .startLine:
                switch takeLine(input, &index, limit: limits.maxStartLineLength) {
                case .needMore: return .needMore
                case .bareCR: return fail(.malformed, "bare CR")
                case .bareLF: return fail(.malformed, "bare LF")
                case .tooLong: return fail(.startLineTooLong, "start line too long")
                case .line:
                    if line.isEmpty {
                        emptyLines += 1
                        if emptyLines > HTTPMessageReader.maxEmptyLines {
                            return fail(.malformed, "empty lines instead of a start line")
                        }
                        continue
                    }
                    state = .headerLines
                    return .startLine
                }
            case .headerLines, .trailerLines:
                let trailers: Bool
                if case .trailerLines = state { trailers = true } else { trailers = false }
                let budget = max(0, limits.maxHeaderSectionLength - sectionBytes - 2)
                switch takeLine(input, &index, limit: budget) {
                case .needMore: return .needMore
                case .bareCR: return fail(.malformed, "bare CR")
                case .bareLF: return fail(.malformed, "bare LF")
                case .tooLong: return fail(.headerSectionTooLarge, "header section too large")
                case .line:
                    sectionBytes += line.count + 2
                    if line.isEmpty {
                        if trailers {
                            state = .done
                            return .complete
                        }
                        state = .headComplete
                        return .headComplete
                    }
                    if let error = takeField(keep: !trailers) {
                        state = .failed(error)
                        return .failed(error)
                    }
                }
            case .headComplete:
                return .headComplete
            case .lengthBody(let remaining):
                let count = min(remaining, input.count - index)
                guard count > 0 else { return .needMore }
                body.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[index..<index + count]))
                index += count
                if count == remaining {
                    state = .done
                    return .complete
                }
                state = .lengthBody(remaining: remaining - count)
            case .chunkSize:
                switch takeLine(input, &index, limit: limits.maxChunkLineLength) {
                case .needMore: return .needMore
                case .bareCR: return fail(.malformed, "bare CR")
                case .bareLF: return fail(.malformed, "bare LF")
                case .tooLong: return fail(.malformed, "chunk-size line too long")
                case .line:
                    if let error = takeChunkSize() {
                        state = .failed(error)
                        return .failed(error)
                    }
                }
            case .chunkData(let remaining):
                let count = min(remaining, input.count - index)
                guard count > 0 else { return .needMore }
                body.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[index..<index + count]))
                index += count
                state = count == remaining ? .chunkDataCR : .chunkData(remaining: remaining - count)
            case .chunkDataCR, .chunkDataLF:
                // RFC 9112 section 7.1: chunk-data is followed by CRLF, exactly.
                guard index < input.count else { return .needMore }
                let isCR: Bool
                if case .chunkDataCR = state { isCR = true } else { isCR = false }
                guard input[index] == (isCR ? ASCII.cr : ASCII.lf) else {
                    return fail(.malformed, "chunk data longer than its size")
                }
                index += 1
                state = isCR ? .chunkDataLF : .chunkSize
            case .untilClose:
                let count = input.count - index
                guard count > 0 else { return .needMore }
                guard count <= limits.maxBodyLength - body.count else {
                    return fail(.bodyTooLarge, "content too large")
                }
                body.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[index..<input.count]))
                index += count
            case .done:
                return .complete
            case .failed(let error):
                return .failed(error)
            }
        }
    }

    private enum LineResult {
        case line
        case needMore
        case bareCR
        case bareLF
        case tooLong
    }

    /// Adds bytes to `line` up to CRLF; `limit` bounds the line's length.
    private mutating func takeLine(
        _ input: UnsafeRawBufferPointer, _ index: inout Int, limit: Int
    ) -> LineResult {
        if lineComplete {
            line.removeAll(keepingCapacity: true)
            lineComplete = false
        }
        while index < input.count {
            let byte = input[index]
            if pendingCR {
                guard byte == ASCII.lf else { return .bareCR }
                index += 1
                pendingCR = false
                lineComplete = true
                return .line
            }
            if byte == ASCII.cr {
                pendingCR = true
                index += 1
                continue
            }
            if byte == ASCII.lf { return .bareLF }
            var end = index + 1
            while end < input.count, input[end] != ASCII.cr, input[end] != ASCII.lf { end += 1 }
            guard end - index <= limit - line.count else { return .tooLong }
            line.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[index..<end]))
            index = end
        }
        return .needMore
    }

    /// Checks the field line in `line` (RFC 9112 section 5, RFC 9110
    /// section 5.5) and adds it to `headers` when `keep`.
    private mutating func takeField(keep: Bool) -> HTTPParseError? {
        // A line starting with whitespace is obs-fold, or (as the first line)
        // whitespace after the start line: both refused (RFC 9112 sections
        // 5.2 and 2.2).
        guard let first = line.first, first != ASCII.space, first != ASCII.tab else {
            return HTTPParseError(.malformed, "field line starts with whitespace")
        }
        fieldCount += 1
        guard fieldCount <= limits.maxHeaderCount else {
            return HTTPParseError(.tooManyHeaders, "too many field lines")
        }
        guard let colon = line.firstIndex(of: ASCII.colon) else {
            return HTTPParseError(.malformed, "field line without a colon")
        }
        // Whitespace between name and colon is not a token byte, so it is
        // refused here, as RFC 9112 section 5.1 requires.
        let name = line[..<colon]
        guard !name.isEmpty, name.allSatisfy(ASCII.isTokenByte) else {
            return HTTPParseError(.malformed, "field name is not a token")
        }
        let value = ASCII.trimmed(line[(colon + 1)...])
        guard value.allSatisfy(ASCII.isFieldValueByte) else {
            return HTTPParseError(.malformed, "control byte in a field value")
        }
        if keep { headers.add(name: name, value: value) }
        return nil
    }

    /// Parses the chunk-size line in `line` (RFC 9112 section 7.1):
    /// hexadecimal digits, then optionally extensions, which are skipped
    /// (section 7.1.1) but must not hold control bytes.
    private mutating func takeChunkSize() -> HTTPParseError? {
        var index = line.startIndex
        var size = 0
        let budget = limits.maxBodyLength - body.count
        while index < line.endIndex, let digit = ASCII.hexValue(line[index]) {
            // More digits only make the size larger: refuse as soon as it
            // passes the limit (which also keeps it from overflowing).
            guard size <= budget >> 4 else {
                return HTTPParseError(.bodyTooLarge, "content too large")
            }
            size = size << 4 | Int(digit)
            guard size <= budget else {
                return HTTPParseError(.bodyTooLarge, "content too large")
            }
            index += 1
        }
        guard index > line.startIndex else {
            return HTTPParseError(.malformed, "chunk size is not hexadecimal")
        }
        let digitsEnd = index
        while index < line.endIndex, line[index] == ASCII.space || line[index] == ASCII.tab {
            index += 1
        }
        // Whitespace (BWS) only before an extension's ";".
        if index == line.endIndex, index != digitsEnd {
            return HTTPParseError(.malformed, "whitespace after the chunk size")
        }
        if index < line.endIndex {
            guard line[index] == ASCII.semicolon,
                line[index...].allSatisfy(ASCII.isFieldValueByte)
            else { return HTTPParseError(.malformed, "bad chunk extension") }
        }
        if size == 0 {
            sectionBytes = 0
            fieldCount = 0
            state = .trailerLines
        } else {
            state = .chunkData(remaining: size)
        }
        return nil
    }
}
