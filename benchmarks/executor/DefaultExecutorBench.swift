// The baseline for benchmarks/executor.sh: the same two measurements as
// Tests/Kernels/executor-bench, in an ordinary Swift process on Swift's
// default executor.
import Foundation

let switches = 200_000
let wakeups = 100_000

func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

@main
struct DefaultExecutorBench {
    static func main() async {
        let begin = now()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<2 {
                group.addTask {
                    for _ in 0..<(switches / 2) { await Task.yield() }
                }
            }
        }
        print("task-switch-ns=\((now() - begin) / UInt64(switches))")

        let timerBegin = now()
        let clock = ContinuousClock()
        for _ in 0..<wakeups {
            try? await Task.sleep(until: clock.now, clock: clock)
        }
        print("timer-wakeup-ns=\((now() - timerBegin) / UInt64(wakeups))")
    }
}
