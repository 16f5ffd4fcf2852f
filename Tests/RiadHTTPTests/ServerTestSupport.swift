import Riad
import RiadHTTP
import RiadNet
import RiadTestSupport
import XCTest

/// A server on port 80 of an in-memory network, on the virtual loop, and
/// what it saw.
final class ServerHarness: @unchecked Sendable {
    let executor = VirtualExecutor()
    let network: MemoryNetwork
    let clock: VirtualClock
    let server: HTTPServer<VirtualClock>
    var exchanges: [HTTPExchange] = []
    /// How `serve` ended.
    var serveError: RiadError.Kind?
    private var serverTask: Task<Void, Never>?

    static let address = "10.0.0.2"

    init(
        router: HTTPRouter,
        configuration: HTTPServerConfiguration = HTTPServerConfiguration(sendsDate: false),
        capacity: Int = 65_536
    ) {
        network = MemoryNetwork(executor: executor)
        network.capacity = capacity
        clock = VirtualClock(executor: executor)
        server = HTTPServer(clock: clock, router: router, configuration: configuration)
        server.observer = { [unowned self] exchange in self.exchanges.append(exchange) }
        let listener = try! network.listen(port: 80, backlog: 16)
        let server = self.server
        serverTask = executor.spawn { [unowned self] in
            do throws(RiadError) { try await server.serve(listener) } catch { self.serveError = error.kind }
        }
    }

    /// Virtual time, in ns.
    var now: UInt64 { executor.backend.time }

    /// Runs `body` as a task on the loop, then stops the server, and runs
    /// the loop until everything has ended.
    func run(_ body: @escaping @Sendable () async -> Void) {
        executor.spawn { [unowned self] in
            await body()
            self.serverTask?.cancel()
        }
        executor.loop.run()
    }

    func client(_ configuration: HTTPClientConfiguration = HTTPClientConfiguration()) -> HTTPClient<
        MemoryNetwork, VirtualClock
    > {
        HTTPClient(stack: network, clock: clock, configuration: configuration)
    }

    /// Sleeps on the virtual clock.
    func sleep(seconds: Double) async {
        try? await clock.sleep(until: now + UInt64(seconds * 1e9))
    }

    /// A raw connection to the server.
    func connect() async -> MemoryStream {
        try! await network.connect(to: SocketAddress(IPv4Address(10, 0, 0, 2), 80))
    }
}

extension MemoryStream {
    func send(_ text: String) async {
        try! await write(Array(text.utf8))
    }

    /// Reads until end of stream (or an error); returns the bytes and the
    /// virtual time the stream ended.
    func readToEnd(_ clock: VirtualClock) async -> (bytes: [UInt8], endedAt: UInt64, error: RiadError.Kind?) {
        var received: [UInt8] = []
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 1)
        defer { buffer.deallocate() }
        while true {
            do throws(RiadError) {
                let count = try await read(into: buffer)
                if count == 0 { return (received, clock.monotonicNanoseconds(), nil) }
                received.append(contentsOf: buffer[..<count])
            } catch {
                return (received, clock.monotonicNanoseconds(), error.kind)
            }
        }
    }

    /// Reads until `count` responses have come (to requests with
    /// `methods`, in order), with no deadline.
    func readResponses(_ methods: [HTTPMethod]) async -> [HTTPResponse] {
        var parser = HTTPResponseParser()
        var responses: [HTTPResponse] = []
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 1)
        defer { buffer.deallocate() }
        parser.requestMethod = methods.first ?? .get
        while responses.count < methods.count {
            guard let count = try? await read(into: buffer), count > 0 else { break }
            var offset = 0
            while offset < count {
                let (consumed, event) = parser.feed(UnsafeRawBufferPointer(rebasing: buffer[offset..<count]))
                offset += consumed
                switch event {
                case .message(let response):
                    if response.status.isInformational { continue }
                    responses.append(response)
                    if responses.count < methods.count { parser.requestMethod = methods[responses.count] }
                case .error(let error):
                    XCTFail("response refused: \(error)")
                    return responses
                case .needMore, .head:
                    break
                }
            }
        }
        return responses
    }
}

/// Parses every response in `bytes` (answers to `methods`), the last
/// possibly delimited by the end.
func parseResponses(_ bytes: [UInt8], methods: [HTTPMethod]) -> [HTTPResponse] {
    var parser = HTTPResponseParser()
    var responses: [HTTPResponse] = []
    var offset = 0
    parser.requestMethod = methods.first ?? .get
    func take(_ event: HTTPParserEvent<HTTPResponse>) -> Bool {
        switch event {
        case .message(let response):
            if !response.status.isInformational {
                responses.append(response)
                if responses.count < methods.count { parser.requestMethod = methods[responses.count] }
            }
            return true
        case .error(let error):
            XCTFail("response refused: \(error)")
            return false
        case .needMore, .head:
            return true
        }
    }
    while offset < bytes.count {
        let (consumed, event) = bytes.withUnsafeBytes {
            parser.feed(UnsafeRawBufferPointer(rebasing: $0[offset...]))
        }
        offset += consumed
        if !take(event) { return responses }
    }
    _ = take(parser.finish())
    return responses
}

/// A log shared by the tasks of one test (they all run on one thread).
final class Log: @unchecked Sendable {
    var entries: [String] = []
    var responses: [HTTPResponse] = []
    var times: [UInt64] = []
}

/// The router most server tests use.
func testRouter() -> HTTPRouter {
    var router = HTTPRouter()
    router.get("/hello") { _ in .text("hello") }
    router.post("/echo") { request in
        var response = HTTPResponse.bytes(request.body)
        response.headers.add("X-Method", request.method.name)
        return response
    }
    router.add(.put, "/echo") { request in .bytes(request.body) }
    router.get("/query") { request in .text(request.query ?? "none") }
    return router
}
