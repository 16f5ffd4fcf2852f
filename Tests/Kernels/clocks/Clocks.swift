import Riad

/// Prints the wall clock for the test to compare with the host's, checks
/// that the monotonic clock strictly increases across sleeps, and measures a
/// 50 ms sleep.
struct Clocks {
    static func start<P: Platform>(platform: P) async -> Int32 {
        platform.write("wall=\(platform.wallClockNanoseconds())\n")
        var previous = platform.monotonicNanoseconds()
        for _ in 0..<100 {
            try? await platform.sleep(nanoseconds: 10_000)
            let now = platform.monotonicNanoseconds()
            guard now > previous else {
                platform.write("FAILURE: monotonic clock went from \(previous) to \(now)\n")
                return 1
            }
            previous = now
        }
        let before = platform.monotonicNanoseconds()
        try? await platform.sleep(nanoseconds: 50_000_000)
        let slept = platform.monotonicNanoseconds() - before
        platform.write("slept=\(slept)\n")
        platform.write("SUCCESS\n")
        return 0
    }
}
