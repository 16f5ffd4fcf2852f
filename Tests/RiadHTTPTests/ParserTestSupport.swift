import RiadHTTP
import XCTest

/// What parsing produced, in order, comparable in tests.
enum Parsed: Equatable, CustomStringConvertible {
    case head(HTTPMethod, String)
    case request(HTTPRequest)
    case error(HTTPParseError.Kind)

    var description: String {
        switch self {
        case .head(let method, let path): return "head \(method) \(path)"
        case .request(let request):
            return "request \(request.method) \(request.target) \(request.version) body=\(request.bodyText)"
        case .error(let kind): return "error \(kind)"
        }
    }
}

/// Feeds `bytes` to a request parser in pieces cut at `cuts`, feeding each
/// piece until all of it is taken, and records every event.
func parseRequests(
    _ bytes: [UInt8], cuts: [Int] = [], limits: HTTPParserLimits = HTTPParserLimits(),
    finish: Bool = false
) -> [Parsed] {
    var parser = HTTPRequestParser(limits: limits)
    var events: [Parsed] = []
    var pieces: [ArraySlice<UInt8>] = []
    var start = 0
    for cut in cuts.sorted() where cut > start && cut < bytes.count {
        pieces.append(bytes[start..<cut])
        start = cut
    }
    pieces.append(bytes[start...])
    for piece in pieces {
        var offset = piece.startIndex
        while offset < piece.endIndex {
            let (consumed, event) = bytes.withUnsafeBytes {
                parser.feed(UnsafeRawBufferPointer(rebasing: $0[offset..<piece.endIndex]))
            }
            offset += consumed
            switch event {
            case .needMore:
                XCTAssertEqual(offset, piece.endIndex, "needMore must take every byte")
            case .head:
                events.append(.head(parser.head!.method, parser.head!.path))
            case .message(let request):
                events.append(.request(request))
            case .error(let error):
                events.append(.error(error.kind))
                return events
            }
        }
    }
    if finish, case .error(let error) = parser.finish() { events.append(.error(error.kind)) }
    return events
}

/// The requests in `events`, dropping heads.
func requests(_ events: [Parsed]) -> [HTTPRequest] {
    events.compactMap { if case .request(let request) = $0 { return request } else { return nil } }
}

/// The first error in `events`.
func firstError(_ events: [Parsed]) -> HTTPParseError.Kind? {
    for case .error(let kind) in events { return kind }
    return nil
}

/// The UTF-8 bytes of `text`.
func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
