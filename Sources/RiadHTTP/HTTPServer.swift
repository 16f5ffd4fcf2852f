// The server: an accept loop with one child task per connection in a
// discarding task group (structured, so cancelling the server cancels every
// connection; child tasks run on the kernel's loop like their parent, where
// an unstructured `Task {}` would not inherit a task executor preference).
import Riad
import RiadNet
import _Concurrency

/// An HTTP/1.1 server over any `NetworkStack`.
///
/// ```swift
/// var router = HTTPRouter()
/// router.get("/") { _ in .text("hello from Riad\n") }
/// let server = HTTPServer(clock: PlatformClock(platform), router: router)
/// server.observer = { exchange in metrics.record(exchange) }
/// try await server.run(on: stack, port: 80)
/// ```
///
/// Connections are kept alive (HTTP/1.1 by default, HTTP/1.0 when asked),
/// pipelined requests are answered in order, HEAD gets GET's head,
/// `Expect: 100-continue` is answered before the content is read. See
/// `HTTPServerConfiguration` for limits and timeouts, docs/http.md for what
/// is not implemented.
///
/// A server is used from the kernel's one thread; set `router` and
/// `observer` before serving.
public final class HTTPServer<Clock: HTTPClock>: @unchecked Sendable {
    public let configuration: HTTPServerConfiguration
    public var router: HTTPRouter
    /// Told about every response sent, error responses included.
    public var observer: HTTPObserver?
    let clock: Clock
    private let slots = ConnectionSlots()
    private var dateSecond = UInt64.max
    private var dateText = ""

    /// Connections accepted since the server started.
    public private(set) var connectionsAccepted = 0
    /// Connections being served now.
    public var activeConnections: Int { slots.active }

    public init(
        clock: Clock, router: HTTPRouter,
        configuration: HTTPServerConfiguration = HTTPServerConfiguration()
    ) {
        self.clock = clock
        self.router = router
        self.configuration = configuration
    }

    /// Listens on `port` of `stack` and serves until the task is cancelled
    /// (then throws `.cancelled`) or the listener fails.
    public func run<Stack: NetworkStack>(on stack: Stack, port: UInt16) async throws(RiadError) {
        let listener = try stack.listen(port: port, backlog: configuration.backlog)
        defer { listener.close() }
        try await serve(listener)
    }

    /// Accepts and serves connections from `listener` until the task is
    /// cancelled (`.cancelled`) or `accept` fails (its error; `.closed` when
    /// the listener was closed). Connections still open then are
    /// cancelled, and waited for.
    public func serve<Listener: TCPListener>(_ listener: Listener) async throws(RiadError) {
        var failure: RiadError?
        await withDiscardingTaskGroup { group in
            while await slots.waitForSlot(limit: max(1, configuration.maxConnections)) {
                let stream: Listener.Stream
                do throws(RiadError) {
                    stream = try await listener.accept()
                } catch {
                    failure = error
                    break
                }
                slots.take()
                connectionsAccepted += 1
                let job = UncheckedBox<() async -> Void>({
                    await self.serve(connection: stream)
                    self.slots.release()
                })
                group.addTask { await job.value() }
            }
            group.cancelAll()
        }
        throw failure ?? RiadError(.cancelled, "the server was cancelled")
    }

    /// Serves requests on one connection until it ends (either side closes,
    /// a timeout, an error, or the task is cancelled); closes it.
    public func serve<Stream: TCPStream>(connection stream: Stream) async {
        let connection = HTTPServerConnection(stream: stream, server: self)
        await connection.run()
        stream.close()
    }

    /// The Date field's value now, formatted once a second.
    func currentDate() -> String? {
        guard configuration.sendsDate else { return nil }
        let second = clock.wallClockNanoseconds() / 1_000_000_000
        if second != dateSecond {
            dateSecond = second
            dateText = HTTPDate.format(secondsSince1970: second)
        }
        return dateText
    }
}
