import CPlatformHvt
import Riad
import _Concurrency

/// The hvt kernel's event loop: Riad's `EventLoop` on the hvt runtime's
/// clock and POLL, fed by the concurrency runtime's global-executor hooks
/// (Sources/RiadConcurrency/concurrency.c calls the `riad_executor_*` and
/// `riad_platform_*` functions below).
public final class HvtBackend: EventLoopBackend {
    public typealias Job = UnsafeMutableRawPointer

    public func now() -> UInt64 { riad_hvt_monotonic_ns() }

    public func run(_ job: UnsafeMutableRawPointer) { riad_run_job(job) }

    public func wait(until deadline: UInt64?) -> UInt64 {
        riad_hvt_yield(deadline ?? UInt64.max)
    }
}

public enum HvtEventLoop {
    /// The kernel's one loop.
    public static let shared = EventLoop(backend: HvtBackend())

    /// Runs `body` as the kernel's main task on the loop, and the loop until
    /// that task has finished; returns its status.
    public static func run(_ body: @escaping @Sendable () async -> Int32) -> Int32 {
        let result = MainResult()
        Task {
            result.status = await body()
            result.finished = true
            shared.stop()
        }
        // run() returns when the main task stopped it, or when no job, timer
        // or input wait is left, so nothing can ever wake the main task.
        shared.run()
        if !result.finished {
            riad_hvt_abort("the main task waits for something that can never happen")
        }
        return result.status
    }
}

final class MainResult: @unchecked Sendable {
    var status: Int32 = 0
    var finished = false
}

@_cdecl("riad_executor_enqueue")
func riadExecutorEnqueue(_ job: UnsafeMutableRawPointer) {
    HvtEventLoop.shared.enqueue(job)
}

@_cdecl("riad_executor_enqueue_at")
func riadExecutorEnqueueAt(_ deadline: UInt64, _ job: UnsafeMutableRawPointer) {
    HvtEventLoop.shared.enqueue(job, at: deadline)
}

@_cdecl("riad_executor_run_until")
func riadExecutorRunUntil(
    _ condition: @convention(c) (UnsafeMutableRawPointer?) -> Bool, _ context: UnsafeMutableRawPointer?
) {
    while !condition(context) {
        if !HvtEventLoop.shared.runReadyJobs() { return }
    }
}

@_cdecl("riad_executor_run_forever")
func riadExecutorRunForever() -> Never {
    HvtEventLoop.shared.run()
    riad_hvt_halt(0)
}

@_cdecl("riad_platform_monotonic_ns")
func riadPlatformMonotonicNanoseconds() -> UInt64 { riad_hvt_monotonic_ns() }

/// The runtime's clock_gettime gives every clock as the monotonic clock.
@_cdecl("riad_platform_clock_to_loop")
func riadPlatformClockToLoop(_ deadline: UInt64, _ clock: Int32) -> UInt64 { deadline }

@_cdecl("riad_platform_write_error")
func riadPlatformWriteError(_ text: UnsafePointer<CChar>, _ length: Int) {
    riad_hvt_console_write(text, length)
}

@_cdecl("riad_platform_abort")
func riadPlatformAbort(_ message: UnsafePointer<CChar>) -> Never { riad_hvt_abort(message) }
