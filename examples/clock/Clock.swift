import Riad
import _Concurrency

/// Runs three tasks that tick every 30, 50 and 70 ms (scaled by `--unit-ms`)
/// for `--duration-ms`, each printing "NAME tick N at T" with T in units
/// since the start. The interleaving is decided by the event loop's timers
/// alone, so it is the same on every target and every run.
struct Clock {
    static func start<P: Platform>(platform: P) async -> Int32 {
        var arguments = RuntimeArguments(program: "clock")
        let unit = arguments.unsigned("unit-ms", default: 10, help: "milliseconds per time unit")
        let duration = arguments.unsigned("duration-units", default: 21, help: "how long to run, in units")
        let values: RuntimeArguments.Values
        switch arguments.parse(platform.arguments, platform) {
        case .run(let parsed): values = parsed
        case .exit(let status): return status
        }
        let unitNanoseconds = max(values[unit], 1) &* 1_000_000
        let start = platform.monotonicNanoseconds()
        let end = start &+ values[duration] &* unitNanoseconds

        await withTaskGroup(of: Void.self) { group in
            for (name, period) in [("fast", UInt64(3)), ("medium", 5), ("slow", 7)] {
                group.addTask {
                    var tick: UInt64 = 1
                    while true {
                        // Deadlines, not durations: a late wake-up does not
                        // shift every later tick.
                        let deadline = start &+ tick &* period &* unitNanoseconds
                        guard deadline <= end else { return }
                        do throws(RiadError) { try await platform.sleep(until: deadline) } catch { return }
                        platform.write("\(name) tick \(tick) at \(tick * period)\n")
                        tick += 1
                    }
                }
            }
        }
        platform.write("done\n")
        return ExitStatus.success
    }
}
