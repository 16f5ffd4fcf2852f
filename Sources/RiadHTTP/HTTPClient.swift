// The client: one request at a time over a NetworkStack, with one
// connection kept for the next request to the same server (RFC 9112
// section 9.3), retried once when that connection turns out to have been
// closed meanwhile (section 9.3.1).
import Riad
import RiadNet
import _Concurrency

/// How a client behaves.
public struct HTTPClientConfiguration: Sendable {
    /// The whole exchange: resolving, connecting, sending, and receiving the
    /// response must end within it, or `.timedOut` is thrown.
    public var timeout: Duration
    /// Whether to keep the connection open for the next request to the
    /// same host and port.
    public var keepAlive: Bool
    /// Bounds on responses (content over `maxBodyLength`: `.exhausted`).
    public var limits: HTTPParserLimits
    public var readBufferSize: Int
    /// Sent as User-Agent unless the request has one; nil: none.
    public var userAgent: String?

    public init(
        timeout: Duration = .seconds(30), keepAlive: Bool = true,
        limits: HTTPParserLimits = HTTPParserLimits(maxBodyLength: 8 << 20),
        readBufferSize: Int = 4096, userAgent: String? = "Riad"
    ) {
        self.timeout = timeout
        self.keepAlive = keepAlive
        self.limits = limits
        self.readBufferSize = readBufferSize
        self.userAgent = userAgent
    }
}

/// An HTTP/1.1 client over any `NetworkStack`.
///
/// ```swift
/// let client = HTTPClient(stack: stack, clock: PlatformClock(platform))
/// let response = try await client.get("http://10.0.0.1:8086/ping")
/// let written = try await client.post(
///     "http://10.0.0.1:8086/write?db=riad", body: Array("cpu value=1".utf8),
///     contentType: "text/plain")
/// ```
///
/// Errors: `.timedOut`, the stack's connection errors (`.refused`,
/// `.reset`, `.notFound` for a name, …), `.protocolError` for a response
/// that cannot be parsed or ends early, `.exhausted` for one too large,
/// `.invalidArgument` for a URL that is not "http://host…", `.unsupported`
/// for "https" and 101 Switching Protocols.
public final class HTTPClient<Stack: NetworkStack, Clock: HTTPClock>: @unchecked Sendable {
    public let configuration: HTTPClientConfiguration
    private let stack: Stack
    private let clock: Clock
    /// The connection kept from the last exchange, and where it goes.
    private var kept: (host: String, port: UInt16, stream: Stack.Stream)?

    /// Connections opened so far (a kept one is reused without counting).
    public private(set) var connectionsOpened = 0

    public init(
        stack: Stack, clock: Clock, configuration: HTTPClientConfiguration = HTTPClientConfiguration()
    ) {
        self.stack = stack
        self.clock = clock
        self.configuration = configuration
    }

    deinit {
        kept?.stream.close()
    }

    /// Closes the kept connection, if any.
    public func close() {
        kept?.stream.close()
        kept = nil
    }

    /// GETs `url`.
    public func get(_ url: String, headers: HTTPHeaders = HTTPHeaders()) async throws(RiadError)
        -> HTTPResponse
    {
        try await send(.get, url, headers: headers, body: [])
    }

    /// POSTs `body` to `url`.
    public func post(
        _ url: String, body: [UInt8], contentType: String, headers: HTTPHeaders = HTTPHeaders()
    ) async throws(RiadError) -> HTTPResponse {
        var headers = headers
        headers.set("Content-Type", contentType)
        return try await send(.post, url, headers: headers, body: body)
    }

    /// Sends a request with `method` to `url`.
    public func send(
        _ method: HTTPMethod, _ url: String, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []
    ) async throws(RiadError) -> HTTPResponse {
        guard let parsed = HTTPURL(url) else {
            let https: StaticString = "https:"
            let isHTTPS = ASCII.equalsIgnoringCase(
                url.utf8.prefix(https.utf8CodeUnitCount),
                UnsafeBufferPointer(start: https.utf8Start, count: https.utf8CodeUnitCount))
            throw isHTTPS
                ? RiadError(.unsupported, "https is not implemented")
                : RiadError(.invalidArgument, "not an http URL")
        }
        let request = HTTPRequest(
            method: method, path: parsed.path, query: parsed.query, headers: headers, body: body)
        return try await send(request, host: parsed.host, port: parsed.port)
    }

    /// Sends `request` to `host` (a name or a dotted quad) on `port`, and
    /// returns the final response (interim 1xx ones are skipped).
    public func send(_ request: HTTPRequest, host: String, port: UInt16 = 80) async throws(RiadError)
        -> HTTPResponse
    {
        let deadline = clock.deadline(after: configuration.timeout)
        var request = request
        if let userAgent = configuration.userAgent, !request.headers.contains("User-Agent") {
            request.headers.add("User-Agent", userAgent)
        }
        let authority = port == 80 ? host : host + ":" + String(port)
        let bytes = HTTPSerializer.request(request, host: authority, keepAlive: configuration.keepAlive)
        var retried = false
        while true {
            let stream: Stack.Stream
            let reused: Bool
            if let kept, kept.port == port, kept.host.utf8.elementsEqual(host.utf8) {
                stream = kept.stream
                reused = true
            } else {
                close()
                stream = try await connect(host: host, port: port, deadline: deadline)
                connectionsOpened += 1
                reused = false
            }
            kept = nil
            do {
                let (response, reusable) = try await exchange(
                    bytes, method: request.method, on: stream, deadline: deadline)
                if reusable && configuration.keepAlive {
                    kept = (host, port, stream)
                } else {
                    stream.close()
                }
                return response
            } catch {
                stream.close()
                // A kept connection the server closed while it was idle:
                // the request never reached it, so it can go again once.
                if reused, !error.receivedAny, !retried, request.method.isIdempotent {
                    retried = true
                    continue
                }
                throw error.error
            }
        }
    }

    /// How an exchange failed, and whether any of the response came.
    struct ExchangeFailure: Error {
        var error: RiadError
        var receivedAny: Bool
    }

    /// Sends `bytes` and reads the response; returns it and whether the
    /// connection can carry another request.
    private func exchange(
        _ bytes: [UInt8], method: HTTPMethod, on stream: Stack.Stream, deadline: UInt64
    ) async throws(ExchangeFailure) -> (HTTPResponse, Bool) {
        let copy = OwnedBytes(bytes)
        defer { copy.free() }
        do {
            try await stream.write(copy.bytes, until: deadline)
        } catch {
            throw ExchangeFailure(error: error, receivedAny: false)
        }
        var parser = HTTPResponseParser(limits: configuration.limits)
        parser.requestMethod = method
        let buffer = UnsafeMutableRawBufferPointer.allocate(
            byteCount: max(256, configuration.readBufferSize), alignment: 1)
        defer { buffer.deallocate() }
        var receivedAny = false
        while true {
            let count: Int
            do {
                count = try await stream.read(into: buffer, until: deadline)
            } catch {
                throw ExchangeFailure(error: error, receivedAny: receivedAny)
            }
            guard count > 0 else {
                switch parser.finish() {
                case .message(let response): return (response, false)
                case .error(let error): throw ExchangeFailure(error: Self.riadError(error), receivedAny: true)
                default:
                    throw ExchangeFailure(
                        error: RiadError(.protocolError, "the connection closed before a response"),
                        receivedAny: receivedAny)
                }
            }
            receivedAny = true
            var offset = 0
            while offset < count {
                let (consumed, event) = parser.feed(UnsafeRawBufferPointer(rebasing: buffer[offset..<count]))
                offset += consumed
                switch event {
                case .needMore, .head:
                    continue
                case .error(let error):
                    throw ExchangeFailure(error: Self.riadError(error), receivedAny: true)
                case .message(let response):
                    if response.status == .switchingProtocols {
                        throw ExchangeFailure(
                            error: RiadError(.unsupported, "101 Switching Protocols"), receivedAny: true)
                    }
                    // Interim responses (RFC 9110 section 15.2): the final
                    // one follows on the same connection.
                    if response.status.isInformational { continue }
                    // Bytes after the response were not asked for: the
                    // connection's framing is in doubt.
                    return (response, !response.closesConnection && offset == count)
                }
            }
        }
    }

    private static func riadError(_ error: HTTPParseError) -> RiadError {
        switch error.kind {
        case .bodyTooLarge, .headerSectionTooLarge, .tooManyHeaders, .startLineTooLong:
            return RiadError(.exhausted, "response too large")
        case .unsupportedVersion:
            return RiadError(.unsupported, "HTTP version not supported")
        default:
            return RiadError(.protocolError, "malformed response")
        }
    }

    /// Resolves `host` and connects, giving up at `deadline`: the stack's
    /// own calls take no deadline, so they race a sleep in a task group.
    private func connect(host: String, port: UInt16, deadline: UInt64) async throws(RiadError)
        -> Stack.Stream
    {
        let outcome = UncheckedBox<Result<Stack.Stream, RiadError>?>(nil)
        let stack = self.stack
        let clock = self.clock
        let attempt = UncheckedBox<() async -> Void>({
            do throws(RiadError) {
                let address: IPv4Address
                if let literal = IPv4Address(host) {
                    address = literal
                } else {
                    address = try await stack.resolve(host)
                }
                let stream = try await stack.connect(to: SocketAddress(address, port))
                outcome.value = .success(stream)
            } catch {
                outcome.value = .failure(error)
            }
        })
        let timer = UncheckedBox<() async -> Void>({ try? await clock.sleep(until: deadline) })
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await attempt.value() }
            group.addTask { await timer.value() }
            await group.next()
            group.cancelAll()
        }
        switch outcome.value {
        case .success(let stream)?:
            return stream
        case .failure(let error)?:
            if error.kind == .cancelled, clock.monotonicNanoseconds() >= deadline {
                throw RiadError(.timedOut, "connecting timed out")
            }
            throw error
        case nil:
            throw RiadError(.timedOut, "connecting timed out")
        }
    }
}
