// A response as a value: RFC 9112 section 4 (status line) and RFC 9110
// section 6.4 (content).
import Riad
import _Concurrency

/// Writes the content of a streamed response, chunk by chunk (RFC 9112
/// section 7.1), as the handler produces it.
public typealias HTTPBodyStream = (HTTPBodyWriter) async throws(RiadError) -> Void

/// A whole response: what a server's handler returns, and what a client
/// receives.
///
/// ```swift
/// router.get("/hello") { _ in .text("hello\n") }
/// router.get("/metrics") { _ in
///     .streaming(contentType: "text/plain") { (writer) throws(RiadError) in
///         try await writer.write("requests 3\n")
///     }
/// }
/// ```
///
/// The server writes `Content-Length`, `Transfer-Encoding`, `Connection`
/// and `Date` itself: those set here are replaced.
public struct HTTPResponse {
    public var status: HTTPStatus
    /// The version of a received response; a server always sends HTTP/1.1
    /// (RFC 9110 section 6.2).
    public var version: HTTPVersion
    public var headers: HTTPHeaders
    /// The content, when it is known whole (a received response's always is).
    public var body: [UInt8]
    /// When set, the content is written by this closure instead of `body`:
    /// chunked to an HTTP/1.1 client, delimited by closing the connection
    /// to an HTTP/1.0 one (RFC 9112 section 6.3 rule 8).
    public var bodyStream: HTTPBodyStream?

    public init(
        status: HTTPStatus = .ok, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []
    ) {
        self.status = status
        self.version = .http11
        self.headers = headers
        self.body = body
        self.bodyStream = nil
    }

    /// A response with `text` as UTF-8 content.
    public static func text(
        _ text: String, status: HTTPStatus = .ok, contentType: String = "text/plain; charset=utf-8"
    ) -> HTTPResponse {
        bytes(Array(text.utf8), status: status, contentType: contentType)
    }

    /// A response with `bytes` as content.
    public static func bytes(
        _ bytes: [UInt8], status: HTTPStatus = .ok, contentType: String = "application/octet-stream"
    ) -> HTTPResponse {
        var headers = HTTPHeaders()
        headers.add("Content-Type", contentType)
        return HTTPResponse(status: status, headers: headers, body: bytes)
    }

    /// A response whose content `body` writes as it goes.
    public static func streaming(
        status: HTTPStatus = .ok, contentType: String, _ body: @escaping HTTPBodyStream
    ) -> HTTPResponse {
        var response = HTTPResponse(status: status)
        response.headers.add("Content-Type", contentType)
        response.bodyStream = body
        return response
    }

    /// The body as UTF-8 text (invalid sequences replaced).
    public var bodyText: String { String(decoding: body, as: UTF8.self) }

    /// Whether the sender asked for the connection to be closed after this
    /// response, or (for a received HTTP/1.0 response) did not ask for it to
    /// stay open (RFC 9112 section 9.3).
    public var closesConnection: Bool {
        if headers.containsToken("close", in: "Connection") { return true }
        if version >= .http11 { return false }
        return !headers.containsToken("keep-alive", in: "Connection")
    }
}

/// Where a streamed response's handler writes its content.
///
/// Each write goes out at once: as one chunk to an HTTP/1.1 client, as is to
/// an HTTP/1.0 one. Writing nothing is not an error; an empty write sends
/// nothing (an empty chunk would end the content).
public final class HTTPBodyWriter {
    private let sink: (UnsafeRawBufferPointer) async throws(RiadError) -> Void
    private let chunked: Bool
    /// The content bytes written so far, without chunk framing.
    public private(set) var bytesWritten = 0
    /// The bytes sent, chunk framing included.
    private(set) var bytesSent = 0

    init(chunked: Bool, sink: @escaping (UnsafeRawBufferPointer) async throws(RiadError) -> Void) {
        self.chunked = chunked
        self.sink = sink
    }

    /// Writes `bytes`.
    public func write(_ bytes: UnsafeRawBufferPointer) async throws(RiadError) {
        try await writeFramed(bytes)
    }

    /// Writes `bytes`.
    public func write(_ bytes: [UInt8]) async throws(RiadError) {
        try await writeFramed(bytes)
    }

    /// Writes `text` as UTF-8.
    public func write(_ text: String) async throws(RiadError) {
        try await write(Array(text.utf8))
    }

    /// Ends the content: the last chunk and an empty trailer section.
    func finish() async throws(RiadError) {
        guard chunked else { return }
        var last: [UInt8] = []
        appendLiteral("0\r\n\r\n", to: &last)
        try await send(last)
    }

    private func writeFramed<Bytes: Collection>(_ bytes: Bytes) async throws(RiadError)
    where Bytes.Element == UInt8 {
        guard !bytes.isEmpty else { return }
        var framed: [UInt8] = []
        framed.reserveCapacity(bytes.count + 20)
        if chunked {
            appendHexadecimal(bytes.count, to: &framed)
            appendLiteral("\r\n", to: &framed)
        }
        framed.append(contentsOf: bytes)
        if chunked { appendLiteral("\r\n", to: &framed) }
        let count = bytes.count
        try await send(framed)
        bytesWritten += count
    }

    private func send(_ bytes: [UInt8]) async throws(RiadError) {
        let copy = OwnedBytes(bytes)
        defer { copy.free() }
        try await sink(copy.bytes)
        bytesSent += bytes.count
    }
}

/// A copy of an array's bytes whose address stays valid across suspension
/// points (an array's storage may not be lent across an `await`).
struct OwnedBytes {
    private let buffer: UnsafeMutableRawBufferPointer

    init(_ bytes: [UInt8]) {
        buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 1)
        buffer.copyBytes(from: bytes)
    }

    /// `first` followed by `second`.
    init(_ first: [UInt8], _ second: [UInt8]) {
        buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: first.count + second.count, alignment: 1)
        buffer.copyBytes(from: first)
        UnsafeMutableRawBufferPointer(rebasing: buffer[first.count...]).copyBytes(from: second)
    }

    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(buffer) }

    func free() { buffer.deallocate() }
}
