import Riad

/// Prints "Hello from Riad" `--count` times (default 4), sleeping
/// `--sleep-ms` milliseconds (default 1000) between lines, then exits 0.
/// The sleep suspends only this task: the kernel idles on its event loop.
struct Hello {
    static func start<P: Platform>(platform: P) async -> Int32 {
        let arguments = Arguments(platform.arguments)
        for name in arguments.unknown(known: ["count", "sleep-ms"]) {
            platform.write("hello: unknown argument --\(name) (known: --count=N, --sleep-ms=MS)\n")
            return ExitStatus.usage
        }
        guard let count = number(arguments, "count", default: 4, platform),
            let sleepMilliseconds = number(arguments, "sleep-ms", default: 1000, platform)
        else { return ExitStatus.usage }

        for line in 0..<count {
            if line > 0 {
                do throws(RiadError) {
                    try await platform.sleep(nanoseconds: sleepMilliseconds * 1_000_000)
                } catch {
                    return ExitStatus.failure
                }
            }
            platform.write("Hello from Riad\n")
        }
        return ExitStatus.success
    }

    static func number<P: Platform>(
        _ arguments: Arguments, _ name: String, default value: UInt64, _ platform: P
    )
        -> UInt64?
    {
        guard let text = arguments.value(name) else { return value }
        guard let parsed = Arguments.parseUnsigned(text) else {
            platform.write("hello: --\(name)=\(text): expected a non-negative integer\n")
            return nil
        }
        return parsed
    }
}
