import Riad
import RiadNet
import RiadTestSupport
import XCTest

@testable import RiadMetrics

/// The Influx reporter on the virtual-clock loop, against a fake stack
/// whose sink goes down and comes back.
final class InfluxReporterTests: XCTestCase {
    /// A kernel with one application source, a reporter and a fake sink.
    final class Kernel: @unchecked Sendable {
        let executor = VirtualExecutor()
        let sink: FakeSink
        let stack: FakeStack
        let platform: VirtualPlatform
        let metrics = Metrics(tags: [MetricTag("name", "web1")])
        let requests: Counter
        let reporter: InfluxReporter<FakeStack, VirtualPlatform>
        /// Times (s) at which the kernel's own once-a-second task ran.
        var heartbeats: [UInt64] = []
        /// The largest queue the reporter had at a heartbeat.
        var largestQueue: Int64 = 0

        init(_ mode: FakeSink.Mode, configure: (inout InfluxReporterConfiguration) -> Void = { _ in }) {
            sink = FakeSink(mode: mode)
            stack = FakeStack(executor: executor, sink: sink)
            platform = VirtualPlatform(executor: executor, console: TextLog())
            requests = metrics.source("app", tags: [MetricTag("interface", "service")]).counter("requests")
            let transport: InfluxSink.Transport = mode == .tcp ? .tcp : .http(database: "metrics db")
            var configuration = InfluxReporterConfiguration(
                sink: InfluxSink(
                    host: "influx.example", port: mode == .tcp ? 8094 : 8086, transport: transport))
            configure(&configuration)
            reporter = InfluxReporter(
                metrics: metrics, stack: stack, platform: platform, configuration: configuration)
        }

        /// Runs the reporter and a task that counts a request every second
        /// (at half past, so never at a tick) until `seconds`; `events` run
        /// at their times (seconds, fractions allowed).
        func run(for seconds: UInt64, events: [(Double, @Sendable (Kernel) -> Void)] = []) {
            let reporting = executor.spawn { await self.reporter.run() }
            let loop = executor.loop
            executor.spawn {
                try? await loop.sleep(nanoseconds: second / 2)
                while self.executor.backend.time < seconds * second {
                    self.requests.increment()
                    self.heartbeats.append(self.executor.backend.time / second)
                    self.largestQueue = max(self.largestQueue, self.reporter.queuedBytes.value)
                    try? await loop.sleep(nanoseconds: second)
                }
                reporting.cancel()
            }
            for (time, event) in events {
                executor.spawn {
                    try? await loop.sleep(until: UInt64(time * Double(second)))
                    event(self)
                }
            }
            loop.run()
        }

        var points: [LineProtocolPoint] {
            get throws { try LineProtocolParser.parse(sink.lineProtocol) }
        }

        /// The application's points' timestamps, in seconds after boot.
        var appTimes: [UInt64] {
            get throws {
                try points.filter { $0.measurement == "app" }.map {
                    (UInt64($0.timestamp) - VirtualPlatform.bootTime) / second
                }
            }
        }
    }

    func testPointsArriveOverTCPWithTheirTagsEveryInterval() throws {
        let kernel = Kernel(.tcp)
        kernel.run(for: 35)
        let points = try kernel.points
        XCTAssertEqual(points.count, 6)
        let app = points.filter { $0.measurement == "app" }
        XCTAssertEqual(app.map(\.tags), Array(repeating: ["interface": "service", "name": "web1"], count: 3))
        XCTAssertEqual(
            app.map(\.fields),
            [["requests": .integer(10)], ["requests": .integer(20)], ["requests": .integer(30)]])
        XCTAssertEqual(try kernel.appTimes, [10, 20, 30])
        let own = points.filter { $0.measurement == "influx" }
        XCTAssertEqual(
            own.map(\.tags), Array(repeating: ["name": "web1", "sink": "influx.example:8094"], count: 3))
        XCTAssertEqual(own.map { $0.fields["batches_sent"] }, [.integer(0), .integer(1), .integer(2)])
        XCTAssertEqual(own.map { $0.fields["points_sent"] }, [.integer(0), .integer(2), .integer(4)])
        XCTAssertEqual(own.last?.fields["batches_dropped"], .integer(0))
        XCTAssertEqual(own.last?.fields["queued_bytes"], .integer(0))
        // One connection, kept.
        XCTAssertEqual(kernel.sink.connectAttempts, [10 * second])
        XCTAssertEqual(kernel.sink.streams.map(\.closed), [true], "closed when the reporter stops")
        XCTAssertEqual(kernel.heartbeats.count, 35)
    }

    func testWhileTheSinkIsDownTheQueueStaysBoundedAndDropsAreCounted() throws {
        let kernel = Kernel(.tcp) { configuration in
            configuration.queueCapacity = 1000
            configuration.initialBackoff = .seconds(1)
            configuration.maximumBackoff = .seconds(16)
        }
        kernel.sink.isUp = false
        let logged = TextLog()
        let previousSink = Log.sink
        Log.sink = { _, line in logged.entries.append(line) }
        defer { Log.sink = previousSink }
        kernel.run(for: 125, events: [(100.25, { $0.sink.isUp = true })])
        // One line when the sink went down, one when it came back.
        XCTAssertEqual(
            logged.entries,
            [
                "metrics: warning: connecting to influx.example:8094: refused; retrying",
                "metrics: info: connected to influx.example:8094 again",
            ])

        // Refused at once each time, retried after 1, 2, 4, 8, then 16 s.
        XCTAssertEqual(
            kernel.sink.connectAttempts.map { $0 / second }, [10, 11, 13, 17, 25, 41, 57, 73, 89, 105])
        XCTAssertLessThanOrEqual(kernel.largestQueue, 1000)
        XCTAssertGreaterThan(kernel.largestQueue, 0)
        // Every batch of the 12 ticks was sent or dropped; none is left.
        let reporter = kernel.reporter
        XCTAssertEqual(reporter.batchesSent.value + reporter.batchesDropped.value, 12)
        XCTAssertEqual(reporter.pointsDropped.value, 2 * reporter.batchesDropped.value)
        XCTAssertEqual(reporter.queuedBatches.value, 0)
        XCTAssertEqual(reporter.connectFailures.value, 9)
        // The newest batches were kept, sent in order once the sink came back.
        let times = try kernel.appTimes
        let kept = Int(reporter.batchesSent.value) - 2
        XCTAssertGreaterThanOrEqual(kept, 2)
        XCTAssertEqual(times, (0..<kept).map { UInt64(100 - 10 * (kept - 1 - $0)) } + [110, 120])
        // The drops are themselves reported once the sink is back.
        let own = try kernel.points.filter { $0.measurement == "influx" }
        XCTAssertEqual(own.last?.fields["batches_dropped"], .integer(Int64(reporter.batchesDropped.value)))
        XCTAssertEqual(own.last?.fields["connect_failures"], .integer(9))
        // The kernel went on: its task ran every second throughout.
        XCTAssertEqual(kernel.heartbeats, Array(0..<125))
        XCTAssertTrue(kernel.platform.console.entries.isEmpty)
    }

    func testTicksGoOnWhileAConnectionAttemptHangs() throws {
        let kernel = Kernel(.tcp) { configuration in
            configuration.queueCapacity = 100_000
        }
        kernel.sink.isUp = false
        kernel.sink.failedConnectDuration = 75 * second  // SYNs unanswered
        kernel.run(for: 95, events: [(50.5, { $0.sink.isUp = true })])
        // The first attempt (10 s to 85 s) held up the sender only; the
        // next one, after the 1 s backoff, found the sink up.
        XCTAssertEqual(kernel.sink.connectAttempts.map { $0 / second }, [10, 86])
        XCTAssertEqual(try kernel.appTimes, [10, 20, 30, 40, 50, 60, 70, 80, 90])
        XCTAssertEqual(kernel.reporter.batchesDropped.value, 0)
        XCTAssertEqual(kernel.heartbeats.count, 95)
    }

    func testABatchWhoseWriteFailedIsSentAgainOnANewConnection() throws {
        let kernel = Kernel(.tcp)
        kernel.run(
            for: 75, events: [(25, { $0.sink.isUp = false }), (60.5, { $0.sink.isUp = true })])
        // Sent at 10 and 20; the write at 30 fails (the peer is gone); the
        // retries at 31, 33, 37, 45 and 61 s are refused until the sink is back.
        XCTAssertEqual(kernel.sink.connectAttempts.map { $0 / second }, [10, 31, 33, 37, 45, 61])
        XCTAssertEqual(try kernel.appTimes, [10, 20, 30, 40, 50, 60, 70])
        XCTAssertEqual(kernel.reporter.sendFailures.value, 1)
        XCTAssertEqual(kernel.reporter.batchesSent.value, 7)
        XCTAssertEqual(kernel.sink.streams.map(\.closed), [true, true])
    }

    func testHTTPWritesArePostsAnswered204() throws {
        let kernel = Kernel(.http)
        kernel.run(for: 25)
        XCTAssertEqual(kernel.sink.answered, [204, 204])
        let first = try XCTUnwrap(kernel.sink.requests.first)
        let body = String(decoding: first.body, as: UTF8.self)
        XCTAssertEqual(
            first.head,
            "POST /write?db=metrics%20db HTTP/1.1\r\nHost: influx.example:8086\r\n"
                + "Content-Type: text/plain; charset=utf-8\r\nContent-Length: \(first.body.count)\r\n\r\n")
        XCTAssertTrue(
            body.hasPrefix("app,interface=service,name=web1 requests=10i 1700000010000000000\ninflux,"), body)
        XCTAssertEqual(try kernel.appTimes, [10, 20])
        XCTAssertEqual(kernel.sink.streams.count, 1, "the connection is kept alive")
    }

    func testHTTPRefusalsAreDroppedAndServerErrorsRetried() throws {
        let kernel = Kernel(.http)
        kernel.run(
            for: 55,
            events: [
                (15, { $0.sink.status = 400 }), (25, { $0.sink.status = 503 }),
                (31.5, { $0.sink.status = 204 }),
            ])
        // 10 s: 204. 20 s: 400, refused for good, not sent again. 30 s:
        // 503, kept; retried on a new connection 1 s later: 503 again; 2 s
        // later, the server having recovered at 31.5 s: 204. 40, 50 s: 204.
        XCTAssertEqual(kernel.sink.answered, [204, 400, 503, 503, 204, 204, 204])
        XCTAssertEqual(try kernel.appTimes, [10, 30, 40, 50])
        XCTAssertEqual(kernel.reporter.batchesRefused.value, 1)
        XCTAssertEqual(kernel.reporter.sendFailures.value, 2)
        XCTAssertEqual(kernel.sink.connectAttempts.map { $0 / second }, [10, 31, 33])
    }

    func testResponseHeads() {
        func parse(_ text: String) -> HTTPResponseHead? { HTTPResponseHead.parse(ArraySlice(text.utf8)) }
        let noContent = parse("HTTP/1.1 204 No Content\r\nDate: x\r\n\r\n")
        XCTAssertEqual(noContent?.status, 204)
        XCTAssertEqual(noContent?.closes, false)
        let error = parse("HTTP/1.1 400 Bad Request\r\ncontent-LENGTH:  17 \r\n\r\n")
        XCTAssertEqual(error?.contentLength, 17)
        XCTAssertEqual(error?.closes, false)
        XCTAssertEqual(
            parse("HTTP/1.1 204 No Content\r\nConnection: keep-alive, Close\r\n\r\n")?.closes, true)
        XCTAssertEqual(parse("HTTP/1.0 204 No Content\r\n\r\n")?.closes, true)
        XCTAssertEqual(parse("HTTP/1.1 500 Oops\r\nTransfer-Encoding: chunked\r\n\r\n")?.closes, true)
        XCTAssertEqual(parse("HTTP/1.1 500 Oops\r\n\r\n")?.closes, true, "no length: the body ends at close")
        XCTAssertNil(parse("HTTP/1.1 20x OK\r\n\r\n"))
        XCTAssertNil(parse("HTTP/2 204\r\n\r\n"))
        XCTAssertNil(parse("HTTP/1.1 400 Bad\r\nContent-Length: -1\r\n\r\n"))
        XCTAssertNil(parse("HTTP/1.1 400 Bad\r\nno colon\r\n\r\n"))
    }

    func testTheQueueKeepsTheBatchBeingSent() {
        var queue = PendingBatches(capacity: 10)
        XCTAssertEqual(queue.push([1, 2, 3, 4], points: 1).batches, 0)
        let sending = queue.startSending()!
        XCTAssertEqual(queue.push([5, 6, 7], points: 1).batches, 0)
        // 4 + 3 + 4 > 10: the oldest that is not being sent goes.
        let dropped = queue.push([8, 9, 10, 11], points: 2)
        XCTAssertEqual(dropped.batches, 1)
        XCTAssertEqual(dropped.bytes, 3)
        XCTAssertEqual(queue.batches.map(\.bytes), [[1, 2, 3, 4], [8, 9, 10, 11]])
        // Larger than what is left beside the batch being sent: dropped itself.
        XCTAssertEqual(queue.push(Array(repeating: 0, count: 7), points: 3).points, 3)
        queue.finishSending(sending, remove: true)
        XCTAssertEqual(queue.batches.map(\.bytes), [[8, 9, 10, 11]])
        XCTAssertEqual(queue.byteCount, 4)
        // A batch dropped while being sent is not removed again afterwards.
        let next = queue.startSending()!
        queue.finishSending(next, remove: false)
        XCTAssertEqual(queue.byteCount, 4)
    }
}
