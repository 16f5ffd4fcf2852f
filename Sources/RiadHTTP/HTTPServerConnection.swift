// One connection of the server: reading requests (RFC 9112 section 9.3
// persistence, 9.3.2 pipelining), the timeouts that end a stalled one, and
// closing well (section 9.6).
import Riad
import RiadNet
import _Concurrency

/// Serves the requests of one connection in order.
final class HTTPServerConnection<Stream: TCPStream, Clock: HTTPClock> {
    private let stream: Stream
    private let server: HTTPServer<Clock>
    private let configuration: HTTPServerConfiguration
    private var parser: HTTPRequestParser
    private let input: UnsafeMutableRawBufferPointer
    /// The unparsed bytes in `input`.
    private var start = 0
    private var end = 0
    /// When the bytes in `input` were read.
    private var readTime: UInt64 = 0
    /// When the current request's first byte arrived (read, not parsed:
    /// a pipelined request's wait behind the ones before it counts), and
    /// when its head was complete.
    private var requestStart: UInt64 = 0
    private var headEnd: UInt64 = 0
    /// Bytes of the current request taken by the parser.
    private var requestBytes = 0
    private var requestsServed = 0
    private var continueSent = false

    init(stream: Stream, server: HTTPServer<Clock>) {
        self.stream = stream
        self.server = server
        self.configuration = server.configuration
        self.parser = HTTPRequestParser(limits: server.configuration.limits)
        self.input = UnsafeMutableRawBufferPointer.allocate(
            byteCount: max(256, server.configuration.readBufferSize), alignment: 1)
    }

    deinit {
        input.deallocate()
    }

    private var now: UInt64 { server.clock.monotonicNanoseconds() }

    /// Reads and answers requests until the connection is to end.
    func run() async {
        while true {
            while start < end {
                let wasIdle = parser.isIdle
                let (consumed, event) = parser.feed(UnsafeRawBufferPointer(rebasing: input[start..<end]))
                start += consumed
                requestBytes += consumed
                if wasIdle && consumed > 0 { requestStart = readTime }
                switch event {
                case .needMore:
                    break
                case .head:
                    headEnd = now
                    // RFC 9110 section 10.1.1: answer 100 unless the content
                    // has started to arrive anyway.
                    if parser.expectsContinue, start == end, !continueSent {
                        continueSent = true
                        var interim: [UInt8] = []
                        appendLiteral("HTTP/1.1 100 Continue\r\n\r\n", to: &interim)
                        guard await write(interim) else { return }
                    }
                case .message(let request):
                    let size = requestBytes
                    requestBytes = 0
                    continueSent = false
                    guard await respond(to: request, requestBytes: size) else { return }
                case .error(let error):
                    await refuse(error.status, method: parser.method)
                    return
                }
            }
            start = 0
            end = 0
            guard let count = await read() else { return }
            end = count
            readTime = now
        }
    }

    /// Reads into `input`; nil when the connection is to end (closed by the
    /// client, failed, or a timeout, which is answered first).
    private func read() async -> Int? {
        let deadline: UInt64
        if parser.isIdle {
            deadline = server.clock.deadline(after: configuration.idleTimeout)
        } else if !parser.isHeadComplete {
            deadline = (Instant(nanoseconds: requestStart) + configuration.headerTimeout).nanoseconds
        } else {
            deadline = (Instant(nanoseconds: headEnd) + configuration.bodyTimeout).nanoseconds
        }
        do {
            let count = try await stream.read(into: input, until: deadline)
            // End of stream: between requests a normal close; inside one,
            // there is no one left to answer.
            return count > 0 ? count : nil
        } catch {
            // A request that stalled is answered 408 (RFC 9110 section
            // 15.5.9); an idle connection is closed without a word.
            if error.kind == .timedOut, !parser.isIdle {
                await refuse(.requestTimeout, method: parser.method)
            }
            return nil
        }
    }

    /// Answers `request`; false when the connection is to end.
    private func respond(to request: HTTPRequest, requestBytes: Int) async -> Bool {
        let response = await server.router.respond(to: request)
        requestsServed += 1
        let keepAlive =
            request.keepAlive && requestsServed < configuration.maxRequestsPerConnection
            && !Task.isCancelled
        let context = HTTPResponseContext(
            requestMethod: request.method, requestVersion: request.version, keepAlive: keepAlive,
            date: server.currentDate())
        let (sent, framing, ok) = await send(response, context)
        report(request.method, response.status, requestBytes, sent, aborted: !ok)
        guard ok else { return false }
        guard framing.keepAlive else {
            await linger()
            return false
        }
        return true
    }

    /// Answers a request that cannot be served with `status` and ends the
    /// connection: its framing can no longer be trusted.
    private func refuse(_ status: HTTPStatus, method: HTTPMethod?) async {
        let response = HTTPResponse.text(status.reason + "\n", status: status)
        let context = HTTPResponseContext(keepAlive: false, date: server.currentDate())
        let (sent, _, ok) = await send(response, context)
        report(method, status, requestBytes, sent, aborted: !ok)
        if ok { await linger() }
    }

    /// Writes a response; returns the bytes sent, the framing, and whether
    /// all of it was written.
    private func send(_ response: HTTPResponse, _ context: HTTPResponseContext) async -> (
        Int, HTTPResponseFraming, Bool
    ) {
        let (head, framing) = HTTPSerializer.responseHead(response, context)
        guard framing.sendsBody else {
            return (head.count, framing, await write(head))
        }
        guard let bodyStream = response.bodyStream else {
            // One write, one copy: the head and the content together.
            let whole = OwnedBytes(head, response.body)
            defer { whole.free() }
            return (whole.bytes.count, framing, await write(whole.bytes))
        }
        guard await write(head) else { return (0, framing, false) }
        let stream = self.stream
        let clock = server.clock
        let timeout = configuration.writeTimeout
        let writer = HTTPBodyWriter(chunked: framing.chunked) { (bytes) throws(RiadError) in
            try await stream.write(bytes, until: clock.deadline(after: timeout))
        }
        do {
            try await bodyStream(writer)
            try await writer.finish()
        } catch {
            // Part of the content may be out: the connection must end.
            return (head.count + writer.bytesSent, framing, false)
        }
        return (head.count + writer.bytesSent, framing, true)
    }

    /// Writes `bytes` within the write timeout; false if that failed.
    private func write(_ bytes: [UInt8]) async -> Bool {
        let copy = OwnedBytes(bytes)
        defer { copy.free() }
        return await write(copy.bytes)
    }

    private func write(_ bytes: UnsafeRawBufferPointer) async -> Bool {
        do {
            try await stream.write(bytes, until: server.clock.deadline(after: configuration.writeTimeout))
            return true
        } catch {
            return false
        }
    }

    /// Closes for writing, then reads and drops what the client still sends
    /// until it closes or `lingerTimeout` passes.
    private func linger() async {
        do { try stream.shutdown() } catch { return }
        let deadline = server.clock.deadline(after: configuration.lingerTimeout)
        var drained = 0
        while drained < 1 << 20 {
            guard let count = try? await stream.read(into: input, until: deadline), count > 0 else {
                return
            }
            drained += count
        }
    }

    private func report(
        _ method: HTTPMethod?, _ status: HTTPStatus, _ requestBytes: Int, _ responseBytes: Int,
        aborted: Bool
    ) {
        guard let observer = server.observer else { return }
        let now = self.now
        observer(
            HTTPExchange(
                method: method, status: status,
                durationNanoseconds: now >= requestStart ? now - requestStart : 0,
                requestBytes: requestBytes, responseBytes: responseBytes, aborted: aborted))
    }
}
