/// What a kernel gets from the target it runs on.
///
/// This is the minimal platform contract of the first Riad kernels: a
/// console, two clocks, sleeping, the command line and exit. Every target
/// (hvt, unix) provides one conforming type; applications are generic over
/// it, so the same application code is built into every target with exactly
/// that target's implementation specialised in.
///
/// All methods MUST be called from the kernel's one thread.
public protocol Platform {
    /// The kernel's runtime arguments, split at spaces (the tender's or the
    /// process's command line after the kernel's name).
    var arguments: [String] { get }

    /// Writes `text` to the console as UTF-8, unchanged. Does not block for
    /// long: the console is the tender's standard output.
    func write(_ text: String)

    /// Nanoseconds since an arbitrary point at boot. Never decreases.
    func monotonicNanoseconds() -> UInt64

    /// Nanoseconds since 1970-01-01 00:00:00 UTC. May jump when the host's
    /// clock is set.
    func wallClockNanoseconds() -> UInt64

    /// Blocks the whole kernel until the monotonic clock reaches `deadline`
    /// (or returns at once if it has passed). Time spent here is idle time:
    /// the host's CPU is free.
    func sleep(until deadline: UInt64)
}

extension Platform {
    /// Blocks for at least `nanoseconds`.
    public func sleep(nanoseconds: UInt64) {
        sleep(until: monotonicNanoseconds() &+ nanoseconds)
    }
}
