import Riad
import _Concurrency

/// Prints "Hello from Riad" `--count` times (default 4), sleeping
/// `--sleep-ms` milliseconds (default 1000) between lines, then exits 0.
/// The sleep suspends only this task: the kernel idles on its event loop.
struct Hello {
    static func start<P: Platform>(platform: P) async -> Int32 {
        var arguments = RuntimeArguments(program: "hello")
        let count = arguments.unsigned("count", default: 4, help: "how many lines to print")
        let sleep = arguments.unsigned("sleep-ms", default: 1000, help: "milliseconds between lines")
        let values: RuntimeArguments.Values
        switch arguments.parse(platform.arguments, platform) {
        case .run(let parsed): values = parsed
        case .exit(let status): return status
        }

        for line in 0..<values[count] {
            if line > 0 {
                do throws(RiadError) {
                    try await platform.sleep(nanoseconds: values[sleep] &* 1_000_000)
                } catch {
                    return ExitStatus.failure
                }
            }
            platform.write("Hello from Riad\n")
        }
        return ExitStatus.success
    }
}
