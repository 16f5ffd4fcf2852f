import PlatformHvt
import Riad
import _Concurrency

/// Measures, inside an hvt kernel, the cost of a task switch (Task.yield
/// between two tasks) and of a timer wake-up (a sleep whose deadline has
/// already passed) on the Riad event loop. Prints nanoseconds per operation.
/// Also prints the heap's high-water mark, for the idle-memory figure.
struct ExecutorBench {
    static func start(platform: HvtPlatform) async -> Int32 {
        let idle = platform.heapStatistics()
        platform.write("heap-high-water-at-start=\(idle.high_water)\n")
        return await main(platform)
    }

    static let switches = 200_000
    static let wakeups = 100_000

    static func main(_ platform: HvtPlatform) async -> Int32 {
        let loop = HvtEventLoop.shared
        // Two tasks yielding to each other: each yield is one switch.
        let begin = platform.monotonicNanoseconds()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<2 {
                group.addTask {
                    for _ in 0..<(switches / 2) { await Task.yield() }
                }
            }
        }
        let switchNanoseconds = (platform.monotonicNanoseconds() - begin) / UInt64(switches)
        platform.write("task-switch-ns=\(switchNanoseconds)\n")

        let timerBegin = platform.monotonicNanoseconds()
        for _ in 0..<wakeups {
            try? await loop.sleep(until: 0)
        }
        let wakeupNanoseconds = (platform.monotonicNanoseconds() - timerBegin) / UInt64(wakeups)
        platform.write("timer-wakeup-ns=\(wakeupNanoseconds)\n")
        platform.write("heap-high-water=\(platform.heapStatistics().high_water)\n")
        return 0
    }
}
