// The time the server and client need: a monotonic clock for deadlines, a
// wall clock for the Date field, and sleeping for the client's connect
// timeout. Every `Platform` has exactly these methods.
import Riad
import _Concurrency

/// Clocks and sleeping, as a `Platform` provides them.
///
/// A kernel passes its platform wrapped in `PlatformClock`, or declares
/// `extension MyPlatform: HTTPClock {}` (the methods are already there);
/// tests pass a virtual clock.
public protocol HTTPClock {
    /// Nanoseconds since an arbitrary point at boot; never decreases.
    func monotonicNanoseconds() -> UInt64
    /// Nanoseconds since 1970-01-01 00:00:00 UTC.
    func wallClockNanoseconds() -> UInt64
    /// Suspends the calling task until `monotonicNanoseconds()` reaches
    /// `deadline`; throws `.cancelled` if the task is cancelled first.
    func sleep(until deadline: UInt64) async throws(RiadError)
}

/// A platform's clocks as an `HTTPClock`.
public struct PlatformClock<P: Platform>: HTTPClock {
    public let platform: P

    public init(_ platform: P) {
        self.platform = platform
    }

    public func monotonicNanoseconds() -> UInt64 { platform.monotonicNanoseconds() }
    public func wallClockNanoseconds() -> UInt64 { platform.wallClockNanoseconds() }
    public func sleep(until deadline: UInt64) async throws(RiadError) {
        try await platform.sleep(until: deadline)
    }
}

extension HTTPClock {
    /// The monotonic time `duration` from now, saturated (a negative or
    /// absurd duration never wraps around).
    func deadline(after duration: Duration) -> UInt64 {
        (Instant(nanoseconds: monotonicNanoseconds()) + duration).nanoseconds
    }
}
