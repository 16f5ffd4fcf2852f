import Riad
import RiadTestSupport
import XCTest

/// The event loop, driven on a virtual clock: ordering of timers and
/// wake-ups, cancellation, timeouts, many sleepers, device input.
final class EventLoopTests: XCTestCase {
    /// A log shared by the tasks of one test (they all run on one thread).
    final class Log: @unchecked Sendable {
        var entries: [String] = []
    }

    func testTimersFireInDeadlineOrderAtTheirDeadlines() {
        let executor = VirtualExecutor()
        let loop = executor.loop
        let log = Log()
        for (name, delay) in [("c", 30), ("a", 10), ("b", 20), ("a2", 10)] {
            executor.spawn {
                try? await loop.sleep(nanoseconds: UInt64(delay) * 1_000_000)
                log.entries.append("\(name)@\(executor.backend.time / 1_000_000)")
            }
        }
        loop.run()
        // Equal deadlines fire in the order they were set.
        XCTAssertEqual(log.entries, ["a@10", "a2@10", "b@20", "c@30"])
        XCTAssertEqual(executor.backend.time, 30_000_000)
    }

    func testReadyJobsRunBeforeWaiting() {
        let executor = VirtualExecutor()
        let log = Log()
        for i in 0..<5 { executor.spawn { log.entries.append("\(i)") } }
        executor.loop.run()
        XCTAssertEqual(log.entries, ["0", "1", "2", "3", "4"])
        XCTAssertEqual(executor.backend.waits, 0)
    }

    func testTenThousandSleepersAllWakeOnce() {
        let executor = VirtualExecutor()
        let loop = executor.loop
        let log = Log()
        var woken = [Int](repeating: 0, count: 10_000)
        let counter = Log()
        for i in 0..<10_000 {
            executor.spawn {
                try? await loop.sleep(nanoseconds: UInt64((i * 7919) % 1000) * 1_000)
                counter.entries.append("\(i)")
            }
        }
        loop.run()
        for entry in counter.entries { woken[Int(entry)!] += 1 }
        XCTAssertEqual(woken.filter { $0 == 1 }.count, 10_000)
        XCTAssertEqual(executor.backend.time, 999_000)
        XCTAssertTrue(log.entries.isEmpty)
    }

    func testCancellationEndsASleepAtOnce() {
        let executor = VirtualExecutor()
        let loop = executor.loop
        let log = Log()
        let sleeper = executor.spawn { () -> String in
            do throws(RiadError) {
                try await loop.sleep(nanoseconds: 1_000_000_000)
                return "slept"
            } catch {
                return "\(error.kind)@\(executor.backend.time / 1_000_000)"
            }
        }
        executor.spawn {
            try? await loop.sleep(nanoseconds: 10_000_000)
            sleeper.cancel()
        }
        executor.spawn { log.entries.append(await sleeper.value) }
        loop.run()
        XCTAssertEqual(log.entries, ["cancelled@10"])
        // The cancelled timer is gone: the loop did not wait for it.
        XCTAssertEqual(executor.backend.time, 10_000_000)
    }

    func testAlreadyCancelledTaskDoesNotSleep() {
        let executor = VirtualExecutor()
        let loop = executor.loop
        let log = Log()
        executor.spawn {
            withUnsafeCurrentTask { $0?.cancel() }
            do throws(RiadError) { try await loop.sleep(nanoseconds: 5_000_000) } catch {
                log.entries.append("\(error.kind)")
            }
        }
        loop.run()
        XCTAssertEqual(log.entries, ["cancelled"])
        XCTAssertEqual(executor.backend.time, 0)
    }

    func testTimeoutWithATaskGroup() {
        let executor = VirtualExecutor()
        let loop = executor.loop
        let log = Log()
        executor.spawn {
            // Wait for input on handle 3 with a 50 ms timeout: it never comes.
            let first = await withTaskGroup(of: String.self) { group in
                group.addTask {
                    do throws(RiadError) { try await loop.waitForInput(handle: 3) } catch {
                        return "input \(error.kind)"
                    }
                    return "input"
                }
                group.addTask {
                    try? await loop.sleep(nanoseconds: 50_000_000)
                    return "timeout"
                }
                let first = await group.next()!
                group.cancelAll()
                return first
            }
            log.entries.append("\(first)@\(executor.backend.time / 1_000_000)")
        }
        loop.run()
        XCTAssertEqual(log.entries, ["timeout@50"])
    }

    func testInputWaitWithADeadlineEndsAtWhicheverComesFirst() {
        let executor = VirtualExecutor()
        let loop = executor.loop
        let log = Log()
        executor.backend.inputs = [(time: 5_000_000, handle: 2)]
        // Input on 2 comes at 5 ms, before its 50 ms deadline; none on 3,
        // whose wait ends at its 10 ms deadline.
        for (handle, deadline) in [(UInt64(2), UInt64(50_000_000)), (3, 10_000_000)] {
            executor.spawn {
                try? await loop.waitForInput(handle: handle, until: deadline)
                log.entries.append("\(handle)@\(executor.backend.time / 1_000_000)")
            }
        }
        loop.run()
        XCTAssertEqual(log.entries, ["2@5", "3@10"])
        // The woken wait's timer went with it: the loop ended at 10 ms, not 50.
        XCTAssertEqual(executor.backend.time, 10_000_000)
        XCTAssertNil(loop.nextDeadline)
    }

    func testInputWakesExactlyItsWaiters() {
        let executor = VirtualExecutor()
        let loop = executor.loop
        let log = Log()
        executor.backend.inputs = [(time: 7_000_000, handle: 2)]
        for handle in [UInt64(1), 2, 2] {
            executor.spawn {
                try? await loop.waitForInput(handle: handle)
                log.entries.append("\(handle)@\(executor.backend.time / 1_000_000)")
            }
        }
        executor.spawn {
            try? await loop.sleep(nanoseconds: 20_000_000)
            log.entries.append("timer@\(executor.backend.time / 1_000_000)")
        }
        // Run turn by turn: handle 1 never gets input, so run() would wait
        // for it forever; stop once the timer has fired.
        while !log.entries.contains(where: { $0.hasPrefix("timer") }) { loop.runReadyJobs() }
        XCTAssertEqual(log.entries, ["2@7", "2@7", "timer@20"])
    }

    func testBusyTasksDoNotStarveAnInputWaiter() {
        let executor = VirtualExecutor()
        let loop = executor.loop
        let log = Log()
        executor.backend.inputs = [(time: 0, handle: 4)]
        executor.spawn {
            try? await loop.waitForInput(handle: 4)
            log.entries.append("input")
        }
        executor.spawn {
            // Never idles until the input waiter has run.
            var turns = 0
            while !log.entries.contains("input") && turns < 1000 {
                await Task.yield()
                turns += 1
            }
            log.entries.append("busy for \(turns < 1000 ? "a while" : "ever")")
        }
        loop.run()
        XCTAssertEqual(log.entries, ["input", "busy for a while"])
    }

    func testAsyncLetRunsConcurrentlyOnOneThread() {
        let executor = VirtualExecutor()
        let loop = executor.loop
        let log = Log()
        executor.spawn {
            async let a: Void = { try? await loop.sleep(nanoseconds: 30_000_000) }()
            async let b: Void = { try? await loop.sleep(nanoseconds: 20_000_000) }()
            _ = await (a, b)
            log.entries.append("both@\(executor.backend.time / 1_000_000)")
        }
        loop.run()
        // Concurrent, so 30 ms in all, not 50.
        XCTAssertEqual(log.entries, ["both@30"])
    }

    func testStatistics() {
        let executor = VirtualExecutor()
        let loop = executor.loop
        executor.spawn { try? await loop.sleep(nanoseconds: 40_000_000) }
        loop.run()
        XCTAssertGreaterThanOrEqual(loop.jobsRun, 2)
        XCTAssertEqual(loop.idleNanoseconds, 40_000_000)
    }
}
