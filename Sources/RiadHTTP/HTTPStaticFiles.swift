import Riad

/// Serves the files of a `KeyValueStore` (a folder compiled into the
/// kernel): `GET /css/site.css` answers with the value of `css/site.css`,
/// a path ending in `/` with its `index.html`. Each answer carries the
/// content type its extension implies and a strong `ETag` (a hash of the
/// content), and a request whose `If-None-Match` names it is answered
/// 304 Not Modified without the content (RFC 9110 sections 8.8.3, 13.1.2).
/// Anything else is a 404.
public struct HTTPStaticFiles<Store: KeyValueStore> {
    public let store: Store

    public init(store: Store) {
        self.store = store
    }

    /// The answer to `request` (a GET or HEAD; the router decides).
    public func respond(to request: HTTPRequest) -> HTTPResponse {
        guard let key = Self.key(for: request.path) else { return notFound() }
        let value: [UInt8]?
        do throws(RiadError) {
            value = try store.get(key)
        } catch {
            return .text("Internal Server Error\n", status: .internalServerError)
        }
        guard let content = value else { return notFound() }
        let etag = Self.etag(of: content)
        var response: HTTPResponse
        if let wanted = request.headers.first("If-None-Match"), Self.matches(wanted, etag) {
            response = HTTPResponse(status: .notModified)
        } else {
            response = .bytes(content, contentType: Self.contentType(for: key))
        }
        response.headers.set("ETag", etag)
        return response
    }

    private func notFound() -> HTTPResponse {
        .text("Not Found\n", status: .notFound)
    }

    /// The store's key for a request path: no leading "/", `index.html`
    /// for a folder; nil for a path that tries to leave the root.
    static func key(for path: String) -> String? {
        var bytes = Array(path.utf8.drop { $0 == UInt8(ascii: "/") })
        if bytes.isEmpty || bytes.last == UInt8(ascii: "/") { bytes += Array("index.html".utf8) }
        for segment in bytes.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false) {
            if segment.isEmpty || segment.elementsEqual("..".utf8) || segment.elementsEqual(".".utf8) {
                return nil
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A strong validator: the FNV-1a hash of the content, quoted.
    static func etag(of content: [UInt8]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in content {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var text: [UInt8] = [UInt8(ascii: "\"")]
        for shift in stride(from: 60, through: 0, by: -4) {
            text.append(digits[Int((hash >> UInt64(shift)) & 0xf)])
        }
        text.append(UInt8(ascii: "\""))
        return String(decoding: text, as: UTF8.self)
    }

    /// Whether an If-None-Match value (`*`, or a list of entity tags,
    /// weak or strong: the weak comparison, RFC 9110 section 13.1.2) names
    /// `etag`.
    static func matches(_ header: ArraySlice<UInt8>, _ etag: String) -> Bool {
        let wanted = Array(etag.utf8)
        for item in header.split(separator: UInt8(ascii: ",")) {
            var tag = item.drop { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
            while let last = tag.last, last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") {
                tag = tag.dropLast()
            }
            if tag.elementsEqual("*".utf8) { return true }
            if tag.starts(with: "W/".utf8) { tag = tag.dropFirst(2) }
            if tag.elementsEqual(wanted) { return true }
        }
        return false
    }

    /// The media type for a key's extension; `application/octet-stream`
    /// when it is not one a website commonly has.
    static func contentType(for key: String) -> String {
        let bytes = Array(key.utf8)
        guard let dot = bytes.lastIndex(of: UInt8(ascii: ".")) else { return "application/octet-stream" }
        let ext = Array(bytes[(dot + 1)...].map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 })
        for (name, type) in types where ext.elementsEqual(name.utf8) { return type }
        return "application/octet-stream"
    }

    static var types: [(StaticString, String)] {
        [
            ("html", "text/html; charset=utf-8"), ("htm", "text/html; charset=utf-8"),
            ("css", "text/css; charset=utf-8"), ("js", "text/javascript; charset=utf-8"),
            ("json", "application/json"), ("txt", "text/plain; charset=utf-8"),
            ("xml", "application/xml"), ("svg", "image/svg+xml"), ("png", "image/png"),
            ("jpg", "image/jpeg"), ("jpeg", "image/jpeg"), ("gif", "image/gif"), ("webp", "image/webp"),
            ("ico", "image/x-icon"), ("woff2", "font/woff2"), ("woff", "font/woff"),
            ("pdf", "application/pdf"),
            ("wasm", "application/wasm"),
        ]
    }
}

extension StaticString {
    fileprivate var utf8: UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: utf8Start, count: utf8CodeUnitCount)
    }
}
