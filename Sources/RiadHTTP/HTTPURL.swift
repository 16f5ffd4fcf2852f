// "http" URIs, the client's way of naming what to fetch: RFC 9110 section
// 4.2.1, RFC 3986 section 3.

/// The parts of an "http://host[:port][/path][?query]" URL the client uses.
public struct HTTPURL: Sendable {
    public var host: String
    public var port: UInt16
    public var path: String
    public var query: String?

    /// Parses `text`; nil unless it is an absolute "http" URL with a host
    /// and no user information (RFC 9110 section 4.2.4 deprecates it). A
    /// fragment is dropped: it is never sent (RFC 9110 section 7.1).
    public init?(_ text: String) {
        let bytes = Array(text.utf8)
        let scheme: StaticString = "http://"
        let prefix = UnsafeBufferPointer(start: scheme.utf8Start, count: scheme.utf8CodeUnitCount)
        guard bytes.count > prefix.count, ASCII.equalsIgnoringCase(bytes.prefix(prefix.count), prefix)
        else { return nil }
        var rest = bytes[prefix.count...]
        if let hash = rest.firstIndex(of: ASCII.hash) { rest = rest[..<hash] }
        let authorityEnd =
            rest.firstIndex { $0 == ASCII.slash || $0 == ASCII.question } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        guard !authority.contains(UInt8(ascii: "@")) else { return nil }
        var hostBytes = authority
        port = 80
        if let colon = authority.lastIndex(of: ASCII.colon) {
            hostBytes = authority[..<colon]
            guard let number = ASCII.decimal(authority[(colon + 1)...]), number > 0, number <= 65_535
            else { return nil }
            port = UInt16(number)
        }
        guard !hostBytes.isEmpty, hostBytes.allSatisfy(HTTPRequestParser.isHostByte) else { return nil }
        host = String(decoding: hostBytes, as: UTF8.self)
        let target = rest[authorityEnd...]
        let pathEnd = target.firstIndex(of: ASCII.question) ?? target.endIndex
        path = pathEnd == target.startIndex ? "/" : String(decoding: target[..<pathEnd], as: UTF8.self)
        query = pathEnd == target.endIndex ? nil : String(decoding: target[(pathEnd + 1)...], as: UTF8.self)
    }

    /// The Host field's value: the host, and the port unless it is 80.
    public var authority: String {
        port == 80 ? host : host + ":" + String(port)
    }
}
