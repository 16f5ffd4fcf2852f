// The server's limits and timeouts, and what it tells an observer about
// each exchange.
import Riad

/// How a server treats its clients. Every timeout guards one way a client
/// can hold a connection without making progress.
public struct HTTPServerConfiguration: Sendable {
    /// Bounds on each request (defaults: 8 KiB request line, 100 fields,
    /// 16 KiB header section, 1 MiB content).
    public var limits: HTTPParserLimits
    /// The most connections served at once; further ones wait in the
    /// listener's backlog until one ends.
    public var maxConnections: Int
    /// The listen backlog, for `run(on:port:)`.
    public var backlog: Int
    /// How long a connection may wait for the first byte of a request,
    /// the first one included, before it is closed without an answer
    /// (RFC 9112 section 9.5).
    public var idleTimeout: Duration
    /// How long a request's header section may take from its first byte: a
    /// client that trickles it in (slowloris) gets 408 and is closed.
    public var headerTimeout: Duration
    /// How long a request's content may take from the end of its header
    /// section: 408 and closed after.
    public var bodyTimeout: Duration
    /// How long each write of a response may wait for a client that does
    /// not read; the connection is closed after.
    public var writeTimeout: Duration
    /// How long, after answering with "Connection: close", the server goes
    /// on reading (and dropping) what the client still sends, so that its
    /// close does not reset the connection before the client has read the
    /// answer (RFC 9112 section 9.6).
    public var lingerTimeout: Duration
    /// The most requests served on one connection; the last is answered
    /// with "Connection: close".
    public var maxRequestsPerConnection: Int
    /// The bytes read from a connection at once.
    public var readBufferSize: Int
    /// Whether responses carry a Date field (RFC 9110 section 6.6.1).
    public var sendsDate: Bool

    public init(
        limits: HTTPParserLimits = HTTPParserLimits(), maxConnections: Int = 64, backlog: Int = 32,
        idleTimeout: Duration = .seconds(60), headerTimeout: Duration = .seconds(10),
        bodyTimeout: Duration = .seconds(30), writeTimeout: Duration = .seconds(10),
        lingerTimeout: Duration = .seconds(2), maxRequestsPerConnection: Int = 1000,
        readBufferSize: Int = 4096, sendsDate: Bool = true
    ) {
        self.limits = limits
        self.maxConnections = maxConnections
        self.backlog = backlog
        self.idleTimeout = idleTimeout
        self.headerTimeout = headerTimeout
        self.bodyTimeout = bodyTimeout
        self.writeTimeout = writeTimeout
        self.lingerTimeout = lingerTimeout
        self.maxRequestsPerConnection = maxRequestsPerConnection
        self.readBufferSize = readBufferSize
        self.sendsDate = sendsDate
    }
}

/// One request and its response, as the server saw them: what metrics
/// count (requests by method and status, latency, bytes).
public struct HTTPExchange: Sendable {
    /// The request's method; nil when the request line itself was refused
    /// or never came whole.
    public var method: HTTPMethod?
    /// The status sent.
    public var status: HTTPStatus
    /// From the request's first byte to the response's last byte handed to
    /// the network stack.
    public var durationNanoseconds: UInt64
    /// The request's bytes as received: head and content, framing included.
    public var requestBytes: Int
    /// The response's bytes handed to the network stack, head included.
    public var responseBytes: Int
    /// Whether the response could not be written whole (the client stopped
    /// reading, or reset the connection).
    public var aborted: Bool
}

/// Called after each response, on the connection's task: it should be
/// quick (a counter, a histogram bucket).
public typealias HTTPObserver = (HTTPExchange) -> Void
