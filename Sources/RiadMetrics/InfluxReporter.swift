import Riad
import RiadNet
import _Concurrency

/// How an `InfluxReporter` reports.
public struct InfluxReporterConfiguration: Sendable {
    public var sink: InfluxSink
    /// Time between two reports.
    public var interval: Duration = .seconds(10)
    /// The most bytes of batches kept while the sink is down or slow.
    public var queueCapacity = 256 * 1024
    /// The wait before the first reconnection; it doubles at each failure
    /// up to `maximumBackoff`, and starts again after a batch goes through.
    public var initialBackoff: Duration = .seconds(1)
    public var maximumBackoff: Duration = .seconds(60)
    /// How long one write, or waiting for InfluxDB's answer, may take before
    /// the connection is given up.
    public var timeout: Duration = .seconds(10)
    /// How counters are written (`i` by default, for InfluxDB 1.x).
    public var unsignedEncoding: InfluxLineEncoder.UnsignedEncoding = .integer

    public init(sink: InfluxSink) {
        self.sink = sink
    }
}

/// Pushes every enabled source to Telegraf or InfluxDB as line protocol,
/// every `interval`, over any `NetworkStack`.
///
/// Two tasks: one samples and encodes at each tick into a queue of batches
/// (bounded: see `PendingBatches`), the other sends the queue in order,
/// connecting when it has to. A sink that is down or slow holds up only the
/// sender: ticks go on, the queue keeps the newest batches, and the sender
/// retries with exponential backoff. The kernel never waits for metrics.
///
/// Over TCP, a batch is done once written; lines written just before the
/// peer vanished can be lost (the socket listener answers nothing). Over
/// HTTP, a batch is done when InfluxDB answers 204; a 4xx answer (a line it
/// refuses, an unknown database) drops it, counted, since sending it again
/// would fail again; any other answer or failure keeps it for the retry.
///
/// The reporter registers its own source, `influx` (tag `sink=HOST:PORT`):
/// batches and points sent and dropped, batches refused, connection and
/// send failures, and the queue's size.
///
/// ```swift
/// let reporter = InfluxReporter(metrics: metrics, stack: stack, platform: platform, configuration: config)
/// Task { await reporter.run() }  // until cancelled
/// ```
public final class InfluxReporter<Stack: NetworkStack, P: Platform>: @unchecked Sendable {
    public let configuration: InfluxReporterConfiguration
    public let metrics: Metrics
    let stack: Stack
    let platform: P
    let encoder: InfluxLineEncoder
    let log = Logger(source: "metrics")

    private var queue: PendingBatches
    private let wake = WakeSignal()
    private var connection: Stack.Stream?
    private var backoff: Duration
    private var nextAttempt: UInt64 = 0
    private var sinkWasDown = false

    /// The reporter's own source.
    public let source: MetricSource
    public let batchesSent: Counter
    public let pointsSent: Counter
    public let batchesDropped: Counter
    public let pointsDropped: Counter
    public let batchesRefused: Counter
    public let connectFailures: Counter
    public let sendFailures: Counter
    public let queuedBytes: Gauge
    public let queuedBatches: Gauge

    public init(metrics: Metrics, stack: Stack, platform: P, configuration: InfluxReporterConfiguration) {
        self.configuration = configuration
        self.metrics = metrics
        self.stack = stack
        self.platform = platform
        encoder = InfluxLineEncoder(unsignedEncoding: configuration.unsignedEncoding)
        queue = PendingBatches(capacity: configuration.queueCapacity)
        backoff = configuration.initialBackoff
        var sinkName: [UInt8] = Array(configuration.sink.host.utf8)
        sinkName.append(UInt8(ascii: ":"))
        DecimalText.append(UInt64(configuration.sink.port), to: &sinkName)
        source = metrics.source(
            "influx", tags: [MetricTag("sink", String(decoding: sinkName, as: UTF8.self))])
        batchesSent = source.counter("batches_sent", help: "Batches of line protocol the sink took.")
        pointsSent = source.counter("points_sent", help: "Points (lines) the sink took.")
        batchesDropped = source.counter(
            "batches_dropped", help: "Batches dropped unsent because the queue was full.")
        pointsDropped = source.counter(
            "points_dropped", help: "Points dropped unsent because the queue was full.")
        batchesRefused = source.counter(
            "batches_refused", help: "Batches InfluxDB refused with a 4xx status, not sent again.")
        connectFailures = source.counter("connect_failures", help: "Connections to the sink that failed.")
        sendFailures = source.counter("send_failures", help: "Connections lost while sending a batch.")
        queuedBytes = source.gauge("queued", unit: .bytes, help: "Bytes of batches waiting to be sent.")
        queuedBatches = source.gauge("queued_batches", help: "Batches waiting to be sent.")
    }

    /// Reports every `interval` until the task is cancelled; then closes
    /// the connection. Batches still queued are lost.
    public func run() async {
        // Boxed, so the child tasks capture no generic type (their
        // metatypes are not Sendable).
        let collector = TaskBody { await self.collectPeriodically() }
        let sender = TaskBody { await self.sendQueued() }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await collector.body() }
            group.addTask { await sender.body() }
        }
        connection?.close()
        connection = nil
    }

    /// Samples, encodes every enabled source as one batch stamped with the
    /// wall clock, and queues it for the sender. `run` calls it at each
    /// tick; call it to report at once.
    public func collect() {
        metrics.sample()
        var batch: [UInt8] = []
        let points = encoder.encode(metrics, timestamp: platform.wallClockNanoseconds(), into: &batch)
        guard points > 0 else { return }
        let dropped = queue.push(batch, points: points)
        if dropped.batches > 0 {
            batchesDropped.increment(by: UInt64(dropped.batches))
            pointsDropped.increment(by: UInt64(dropped.points))
        }
        updateQueueGauges()
        wake.signal()
    }

    private func updateQueueGauges() {
        queuedBytes.set(Int64(queue.byteCount))
        queuedBatches.set(Int64(queue.batches.count))
    }

    // MARK: Ticks

    private func collectPeriodically() async {
        let interval = UInt64(clamping: configuration.interval.nanoseconds)
        var next = platform.monotonicNanoseconds() &+ interval
        while true {
            do { try await platform.sleep(until: next) } catch { return }
            collect()
            // Ticks missed (the loop was busy) are skipped, not caught up.
            let now = platform.monotonicNanoseconds()
            next &+= interval
            if next <= now { next = now &+ interval }
        }
    }

    // MARK: Sending

    private func sendQueued() async {
        while !Task.isCancelled {
            guard !queue.isEmpty else {
                await wake.wait()
                continue
            }
            if connection == nil {
                guard await connect() else { continue }
            }
            guard let stream = connection, let batch = queue.startSending() else { continue }
            do {
                let refused = try await send(batch.bytes, over: stream)
                queue.finishSending(batch, remove: true)
                if let status = refused {
                    batchesRefused.increment()
                    log.warning("InfluxDB refused a batch of \(batch.points) points: status \(status)")
                } else {
                    batchesSent.increment()
                    pointsSent.increment(by: UInt64(batch.points))
                    backoff = configuration.initialBackoff
                }
            } catch {
                queue.finishSending(batch, remove: false)
                stream.close()
                connection = nil
                if error.kind == .cancelled { break }
                sendFailures.increment()
                sinkDown("sending to", error)
            }
            updateQueueGauges()
        }
        connection?.close()
        connection = nil
    }

    /// Connects, after waiting out the backoff. Returns false on failure
    /// (the backoff grows) or cancellation.
    private func connect() async -> Bool {
        if platform.monotonicNanoseconds() < nextAttempt {
            do { try await platform.sleep(until: nextAttempt) } catch { return false }
        }
        do {
            let address = try await stack.resolve(configuration.sink.host)
            connection = try await stack.connect(to: SocketAddress(address, configuration.sink.port))
            if sinkWasDown {
                log.info("connected to \(configuration.sink.host):\(configuration.sink.port) again")
                sinkWasDown = false
            }
            return true
        } catch {
            if error.kind != .cancelled {
                connectFailures.increment()
                sinkDown("connecting to", error)
            }
            return false
        }
    }

    /// Schedules the next attempt and doubles the backoff; logs once per
    /// outage.
    private func sinkDown(_ doing: String, _ error: RiadError) {
        if !sinkWasDown {
            log.warning(
                "\(doing) \(configuration.sink.host):\(configuration.sink.port): \(error.description); retrying"
            )
            sinkWasDown = true
        }
        nextAttempt = platform.monotonicNanoseconds() &+ UInt64(clamping: backoff.nanoseconds)
        backoff =
            backoff + backoff > configuration.maximumBackoff
            ? configuration.maximumBackoff : backoff + backoff
    }

    /// Sends one batch. Returns nil when the sink took it, the status when
    /// InfluxDB refused it for good (4xx).
    ///
    /// - Throws: when the connection failed or InfluxDB answered otherwise:
    ///   the batch is to be sent again on a new connection.
    private func send(_ batch: [UInt8], over stream: Stack.Stream) async throws(RiadError) -> Int? {
        let deadline = platform.monotonicNanoseconds() &+ UInt64(clamping: configuration.timeout.nanoseconds)
        switch configuration.sink.transport {
        case .tcp:
            try await write(batch, to: stream, until: deadline)
            return nil
        case .http(let database):
            var request = influxWriteRequestHead(
                host: configuration.sink.host, port: configuration.sink.port, database: database,
                length: batch.count)
            request.append(contentsOf: batch)
            try await write(request, to: stream, until: deadline)
            let response = try await readResponse(from: stream, until: deadline)
            if response.closes {
                stream.close()
                connection = nil
            }
            switch response.status {
            case 200..<300: return nil
            case 400..<500 where response.status != 408 && response.status != 429: return response.status
            default: throw RiadError(.protocolError, "InfluxDB answered \(response.status)")
            }
        }
    }

    private func write(_ bytes: [UInt8], to stream: Stack.Stream, until deadline: UInt64)
        async throws(RiadError)
    {
        // A copy: an array's storage cannot be lent across a suspension.
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 1)
        defer { copy.deallocate() }
        copy.copyBytes(from: bytes)
        try await stream.write(UnsafeRawBufferPointer(copy), until: deadline)
    }

    /// Reads a response's head and skips its body.
    private func readResponse(from stream: Stack.Stream, until deadline: UInt64) async throws(RiadError)
        -> HTTPResponseHead
    {
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1024, alignment: 1)
        defer { chunk.deallocate() }
        var received: [UInt8] = []
        while true {
            guard let end = headEnd(received) else {
                guard received.count <= 8192 else {
                    throw RiadError(.protocolError, "response head too long")
                }
                let count = try await stream.read(into: chunk, until: deadline)
                guard count > 0 else { throw RiadError(.protocolError, "InfluxDB closed before answering") }
                received.append(contentsOf: chunk[0..<count])
                continue
            }
            guard var head = HTTPResponseHead.parse(received[0..<end]) else {
                throw RiadError(.protocolError, "malformed response from InfluxDB")
            }
            if head.status < 200 {
                // An interim response (RFC 9110 section 15.2): the real one follows.
                received.removeSubrange(0..<end)
                continue
            }
            // Skip the body (InfluxDB's error message), up to 64 KiB; a
            // longer one is not worth reading: close the connection instead.
            var left = (head.contentLength ?? 0) - (received.count - end)
            guard !head.closes, left <= 65536 else {
                head.closes = true
                return head
            }
            while left > 0 {
                let count = try await stream.read(into: chunk, until: deadline)
                guard count > 0 else { throw RiadError(.protocolError, "InfluxDB closed in a response") }
                left -= count
            }
            return head
        }
    }

    /// The index just past the empty line that ends a head, if received.
    private func headEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for index in 0...(bytes.count - 4)
        where bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10
        {
            return index + 4
        }
        return nil
    }
}

/// A task's work, for a task group whose child must not capture the
/// reporter's generic type. The kernel has one thread.
private final class TaskBody: @unchecked Sendable {
    let body: () async -> Void

    init(_ body: @escaping () async -> Void) {
        self.body = body
    }
}
