import Riad
import RiadNet
import _Concurrency

/// The running test: data moving on every stream while the control
/// connection waits for the client's TEST_END, then the results.
final class TestRun<P: Platform, S: NetworkStack> {
    let session: Session<P, S>
    let platform: P
    /// Reads of every stream land here and are dropped: the kernel has
    /// one thread, so one buffer serves them all.
    let scratch: UnsafeMutableRawBufferPointer
    /// What a sending stream writes, over and over: random bytes, as
    /// iperf3 sends (nothing on the path can compress them).
    let block: UnsafeMutableRawBufferPointer
    /// Set at TEST_END (or when the test fails): the streams stop.
    var stopped = false
    /// When data last moved on any stream: a test where nothing moves
    /// for `idleLimit` is abandoned.
    var lastProgress: UInt64
    /// Totals for -n and -k when the server sends.
    var bytesSent: UInt64 = 0
    var blocksSent: UInt64 = 0

    static var idleLimit: UInt64 { 120_000_000_000 }
    /// Writes go in pieces of at most this, each counted once written:
    /// at TEST_END the count is short by at most the piece in flight.
    static var piece: Int { 32 * 1024 }

    init(session: Session<P, S>) {
        self.session = session
        platform = session.platform
        scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 128 * 1024, alignment: 16)
        let size = session.parameters.reverse ? session.parameters.blockSize : 1
        block = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 16)
        platform.fill(block)
        lastProgress = platform.monotonicNanoseconds()
    }

    deinit {
        scratch.deallocate()
        block.deallocate()
    }

    /// Counts what the client sends on `stream` until the test stops.
    func receive(on stream: DataStream<S.Stream>) async {
        while !stopped {
            // What arrives after TEST_END is not part of the test.
            guard let count = try? await stream.connection.read(into: scratch), count > 0, !stopped
            else { return }
            stream.bytes &+= UInt64(count)
            lastProgress = platform.monotonicNanoseconds()
        }
    }

    /// Writes blocks on `stream` until the test stops or its byte or
    /// block limit is reached (then the client ends the test).
    func send(on stream: DataStream<S.Stream>) async {
        let parameters = session.parameters
        while !stopped && !Task.isCancelled {
            if parameters.byteLimit > 0 && bytesSent >= parameters.byteLimit { return }
            if parameters.blockLimit > 0 && blocksSent >= parameters.blockLimit { return }
            var offset = 0
            while offset < block.count {
                let end = min(offset + Self.piece, block.count)
                do throws(RiadError) {
                    try await stream.connection.write(UnsafeRawBufferPointer(rebasing: block[offset..<end]))
                } catch {
                    return
                }
                if stopped { return }
                let written = UInt64(end - offset)
                stream.bytes &+= written
                bytesSent &+= written
                lastProgress = platform.monotonicNanoseconds()
                offset = end
            }
            blocksSent &+= 1
        }
    }
}

extension Session {
    /// TEST_START and TEST_RUNNING, the data until TEST_END, then
    /// EXCHANGE_RESULTS, DISPLAY_RESULTS and the client's IPERF_DONE.
    func test() async throws(RiadError) {
        let run = TestRun(session: self)
        let idleBefore = platform.runtimeStatistics?.idleNanoseconds ?? 0
        // Both at once: the client reads them one by one, and one write
        // keeps Nagle's algorithm from holding the second back.
        try await send([IperfState.testStart.rawValue, IperfState.testRunning.rawValue])
        let start = platform.monotonicNanoseconds()
        var measuredFrom = start
        var end = start
        var failure: RiadError? = nil
        await withDiscardingTaskGroup { group in
            for stream in streams {
                if parameters.reverse {
                    group.addTask { await run.send(on: stream) }
                } else {
                    group.addTask { await run.receive(on: stream) }
                }
            }
            do throws(RiadError) {
                measuredFrom = try await awaitTestEnd(run, start: start)
            } catch {
                failure = error
            }
            // The counts stop here, as iperf3's do at TEST_END; the
            // streams' tasks end at their next step.
            end = platform.monotonicNanoseconds()
            run.stopped = true
            group.cancelAll()
        }
        if let failure { throw failure }
        for stream in streams { stream.connection.close() }
        let seconds = Double(end - measuredFrom) / 1e9
        let idle = (platform.runtimeStatistics?.idleNanoseconds ?? idleBefore) &- idleBefore
        let busy = Double(end - start) - Double(idle)
        let cpu = platform.runtimeStatistics == nil ? 0 : max(0, busy) / Double(max(1, end - start)) * 100
        try await exchangeResults(seconds: seconds, cpu: cpu)
    }

    /// Reads the control connection until TEST_END; returns when the
    /// measured part of the test began (after -O's omitted seconds).
    private func awaitTestEnd(_ run: TestRun<P, S>, start: UInt64) async throws(RiadError) -> UInt64 {
        var measuredFrom = start
        var omitEnd: UInt64? =
            parameters.omitSeconds > 0 ? start &+ parameters.omitSeconds * 1_000_000_000 : nil
        // iperf3's server gives up 40 s after the test should have ended.
        let limit: UInt64 =
            parameters.seconds > 0
            ? start &+ (parameters.seconds + parameters.omitSeconds + 40) * 1_000_000_000 : .max
        while true {
            let now = platform.monotonicNanoseconds()
            if let end = omitEnd, now >= end {
                // What moved so far is left out, as iperf3 resets its
                // counters when the omitted seconds end.
                for stream in streams { stream.omittedBytes = stream.bytes }
                measuredFrom = now
                omitEnd = nil
            }
            guard now < limit else { throw RiadError(.timedOut, "no TEST_END 40 s after the test's end") }
            let idleEnd = run.lastProgress &+ TestRun<P, S>.idleLimit
            guard now < idleEnd else { throw RiadError(.timedOut, "no data moved for 120 s") }
            guard
                let state = try await receiveState(
                    until: min(omitEnd ?? .max, limit, idleEnd), during: "the test")
            else { continue }
            switch IperfState(rawValue: state) {
            case .testEnd:
                return measuredFrom
            case .testStart, .testRunning:
                continue  // iperf3's server ignores them too
            default:
                throw unexpected(state, during: "the test")
            }
        }
    }

    /// EXCHANGE_RESULTS; the client's results in, ours out; then
    /// DISPLAY_RESULTS and the client's IPERF_DONE.
    private func exchangeResults(seconds: Double, cpu: Double) async throws(RiadError) {
        try await send([IperfState.exchangeResults.rawValue])
        let theirs = try await receiveJSON(limit: Iperf3.maximumResultsSize, what: "results")
        var json = JSONWriter()
        json.openObject()
        json.key("cpu_util_total")
        json.decimal(cpu, places: 6)
        // The kernel runs in one address space: all its time is "user".
        json.key("cpu_util_user")
        json.decimal(cpu, places: 6)
        json.key("cpu_util_system")
        json.decimal(0, places: 6)
        // The sender says whether it counts retransmissions (-1: the
        // server received); RiadNet keeps no per-connection count.
        json.key("sender_has_retransmits")
        json.integer(parameters.reverse ? 0 : -1)
        json.key("streams")
        json.openArray()
        var total: UInt64 = 0
        for stream in streams {
            let bytes = stream.bytes &- stream.omittedBytes
            total &+= bytes
            json.openObject()
            json.key("id")
            json.integer(stream.id)
            json.key("bytes")
            json.integer(Int64(truncatingIfNeeded: bytes))
            json.key("retransmits")
            json.integer(-1)
            json.key("jitter")
            json.integer(0)
            json.key("errors")
            json.integer(0)
            json.key("packets")
            json.integer(0)
            json.key("start_time")
            json.integer(0)
            json.key("end_time")
            json.decimal(seconds, places: 6)
            json.closeObject()
        }
        json.closeArray()
        json.closeObject()
        var message: [UInt8] = []
        Iperf3.appendBigEndian(UInt32(json.bytes.count), to: &message)
        message += json.bytes
        message.append(IperfState.displayResults.rawValue)
        try await send(message)
        concluded = true

        let rate = Decimal.text(Double(total) * 8 / max(seconds, 1e-9) / 1e9, places: 3)
        var summary =
            (parameters.reverse ? "sent" : "received") + " \(total) bytes in "
            + Decimal.text(seconds, places: 3) + " s: \(rate) Gbit/s"
        if parameters.reverse, let received = Self.bytes(in: theirs) {
            summary += " (the client received \(received) bytes)"
        }
        log(summary)
        // IPERF_DONE, then the client closes; either ends the session.
        if let state = try? await receiveState(
            until: deadline(after: Self.stepTimeout), during: "IPERF_DONE"),
            state != IperfState.iperfDone.rawValue
        {
            log("unexpected message \(state) after the results")
        }
    }

    /// The sum of the streams' `bytes` in results JSON, if it has them.
    private static func bytes(in results: JSONValue) -> Int64? {
        guard case .array(let streams) = results["streams"] ?? .null else { return nil }
        var total: Int64 = 0
        for stream in streams {
            guard let bytes = stream["bytes"]?.integer, bytes >= 0 else { return nil }
            total = total.addingReportingOverflow(bytes).overflow ? .max : total + bytes
        }
        return total
    }
}
