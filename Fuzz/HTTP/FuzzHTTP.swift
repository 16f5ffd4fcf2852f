// libFuzzer target for RiadHTTP's parsers and serializers (docs/fuzzing.md).
//
// The first input byte chooses what runs (modulo 5), the second how the
// rest is cut into pieces; the rest is the input. Parsers get small limits,
// so that every limit is reached. Beyond not trapping, it checks:
// - feeding the same bytes in pieces gives the same events as in one piece;
// - a parsed request, serialized again, parses back to the same method,
//   target and content;
// - chunked encoding parses back to the content encoded;
// - whatever bytes a handler puts in header names and values, the response
//   head parses with exactly the fields that were valid (no injection).

import Riad
import RiadHTTP

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 2 else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data + 2, count: size - 2))
    let piece = Int(data[1]) + 1
    switch data[0] % 5 {
    case 0: fuzzRequests(bytes, piece: piece)
    case 1: fuzzResponses(bytes, piece: piece, method: data[1] & 1 == 0 ? .get : .head)
    case 2: fuzzRequestRoundTrip(bytes)
    case 3: fuzzChunked(bytes, chunkSize: piece)
    default: fuzzResponseHead(bytes)
    }
    return 0
}

/// Stops the run, which libFuzzer records as a crash, if `condition` fails.
func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError("fuzz-http: " + message()) }
}

let smallLimits = HTTPParserLimits(
    maxStartLineLength: 64, maxHeaderCount: 8, maxHeaderSectionLength: 256, maxBodyLength: 512,
    maxChunkLineLength: 32)

/// One event, comparable.
enum Event: Equatable {
    case head
    case request(HTTPRequest)
    case response(status: Int, headers: HTTPHeaders, body: [UInt8])
    case error(HTTPParseError.Kind)
}

/// Feeds `bytes` to `feed` in pieces of `piece` bytes (each piece until all
/// of it is taken), then calls `finish`; returns the events.
func events(
    _ bytes: [UInt8], piece: Int, feed: (UnsafeRawBufferPointer) -> (Int, Event?),
    finish: () -> Event?
) -> [Event] {
    var events: [Event] = []
    var start = 0
    while start < bytes.count {
        let end = min(bytes.count, start + piece)
        var offset = start
        while offset < end {
            let (consumed, event) = bytes.withUnsafeBytes {
                feed(UnsafeRawBufferPointer(rebasing: $0[offset..<end]))
            }
            check(consumed >= 0 && consumed <= end - offset, "consumed \(consumed) of \(end - offset)")
            offset += consumed
            if let event {
                events.append(event)
                if case .error = event { return events }
            } else {
                check(offset == end, "needMore before taking every byte")
            }
        }
        start = end
    }
    if let event = finish() { events.append(event) }
    return events
}

func requestEvents(_ bytes: [UInt8], piece: Int, limits: HTTPParserLimits = smallLimits) -> [Event] {
    var parser = HTTPRequestParser(limits: limits)
    return events(
        bytes, piece: piece,
        feed: { input in
            let (consumed, event) = parser.feed(input)
            switch event {
            case .needMore: return (consumed, nil)
            case .head: return (consumed, .head)
            case .message(let request): return (consumed, .request(request))
            case .error(let error): return (consumed, .error(error.kind))
            }
        },
        finish: {
            if case .error(let error) = parser.finish() { return .error(error.kind) }
            return nil
        })
}

func fuzzRequests(_ bytes: [UInt8], piece: Int) {
    let whole = requestEvents(bytes, piece: .max)
    let split = requestEvents(bytes, piece: piece)
    check(whole == split, "pieces of \(piece) parsed differently")
    for case .request(let request) in whole {
        check(request.body.count <= smallLimits.maxBodyLength, "body over the limit")
        check(request.headers.count <= smallLimits.maxHeaderCount, "headers over the limit")
    }
}

func fuzzResponses(_ bytes: [UInt8], piece: Int, method: HTTPMethod) {
    func responseEvents(_ piece: Int) -> [Event] {
        var parser = HTTPResponseParser(limits: smallLimits)
        parser.requestMethod = method
        func event(_ event: HTTPParserEvent<HTTPResponse>) -> Event? {
            switch event {
            case .needMore: return nil
            case .head: return .head
            case .message(let response):
                return .response(status: response.status.code, headers: response.headers, body: response.body)
            case .error(let error): return .error(error.kind)
            }
        }
        return events(
            bytes, piece: piece,
            feed: { input in
                let (consumed, result) = parser.feed(input)
                return (consumed, event(result))
            },
            finish: { event(parser.finish()) })
    }
    let whole = responseEvents(.max)
    check(whole == responseEvents(piece), "pieces of \(piece) parsed differently")
    for case .response(let status, _, let body) in whole {
        check(status >= 100 && status <= 999, "status \(status)")
        check(body.count <= smallLimits.maxBodyLength, "body over the limit")
        if method == .head { check(body.isEmpty, "content after HEAD") }
    }
}

func fuzzRequestRoundTrip(_ bytes: [UInt8]) {
    for case .request(var request) in requestEvents(bytes, piece: .max) {
        // Dropped or changed by the trip: expectations (an HTTP/1.0 one is
        // ignored, but would not be in HTTP/1.1).
        request.headers.remove("Expect")
        let text = HTTPSerializer.request(request, host: "h", keepAlive: true)
        let again = requestEvents(text, piece: .max, limits: HTTPParserLimits())
        guard case .request(let parsed)? = again.last else {
            check(false, "a serialized request did not parse: \(again)")
            return
        }
        check(parsed.method == request.method, "method changed")
        check(parsed.path.utf8.elementsEqual(request.path.utf8), "path changed")
        check(sameBytes(parsed.query, request.query), "query changed")
        check(parsed.body == request.body, "content changed")
    }
}

func fuzzChunked(_ body: [UInt8], chunkSize: Int) {
    let content = Array(body.prefix(smallLimits.maxBodyLength))
    var request = Array("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
    request += HTTPSerializer.chunked(content, chunkSize: chunkSize)
    let parsed = requestEvents(request, piece: chunkSize)
    guard case .request(let result)? = parsed.last else {
        check(false, "chunked content did not parse: \(parsed)")
        return
    }
    check(result.body == content, "chunked content changed")
}

/// Fields from NUL-separated names and values, in a response that must
/// parse back with each field whose name is a token.
func fuzzResponseHead(_ bytes: [UInt8]) {
    let parts = bytes.split(separator: 0, omittingEmptySubsequences: false)
    var response = HTTPResponse(body: Array(bytes.prefix(16)))
    var kept = 0
    var index = 0
    while index + 1 < parts.count {
        let name = parts[index]
        response.headers.add(name: name, value: parts[index + 1])
        // Without a Date of the server's own, the handler's is sent.
        let owned = ["Content-Length", "Transfer-Encoding", "Connection"].contains {
            equalIgnoringCase(name, Array($0.utf8))
        }
        if !name.isEmpty, name.allSatisfy(isTokenByte), !owned { kept += 1 }
        index += 2
    }
    let (head, framing) = HTTPSerializer.responseHead(response, HTTPResponseContext())
    check(framing.sendsBody && !framing.chunked, "framing \(framing)")
    var parser = HTTPResponseParser(
        limits: HTTPParserLimits(maxHeaderCount: 100_000, maxHeaderSectionLength: 1 << 24))
    let whole = head + response.body
    var offset = 0
    var result = HTTPParserEvent<HTTPResponse>.needMore
    while offset < whole.count {
        let (consumed, event) = whole.withUnsafeBytes {
            parser.feed(UnsafeRawBufferPointer(rebasing: $0[offset...]))
        }
        offset += consumed
        result = event
        if case .head = event { continue }
        break
    }
    guard case .message(let parsed) = result else {
        check(false, "a serialized head did not parse: \(result)")
        return
    }
    check(offset == whole.count, "bytes after the response")
    // Content-Length, and "Connection: close" when a field asked for it.
    let added = framing.keepAlive ? 1 : 2
    check(
        parsed.headers.count == kept + added,
        "\(parsed.headers.count) fields parsed, \(kept) + \(added) written")
    check(parsed.body == response.body, "content changed")
}

func sameBytes(_ a: String?, _ b: String?) -> Bool {
    switch (a, b) {
    case (nil, nil): return true
    case (let a?, let b?): return a.utf8.elementsEqual(b.utf8)
    default: return false
    }
}

func isTokenByte(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"),
        UInt8(ascii: "A")...UInt8(ascii: "Z"):
        return true
    default:
        return Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
    }
}

func equalIgnoringCase(_ a: ArraySlice<UInt8>, _ b: [UInt8]) -> Bool {
    func lower(_ byte: UInt8) -> UInt8 { byte >= 65 && byte <= 90 ? byte | 0x20 : byte }
    return a.count == b.count && zip(a, b).allSatisfy { lower($0) == lower($1) }
}
