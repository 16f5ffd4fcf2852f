import CPlatformUnix
import Riad
import _Concurrency

/// The unix kernel's event loop: Riad's `EventLoop` on CLOCK_MONOTONIC and
/// the platform's epoll, fed by the concurrency runtime's global-executor
/// hooks (Sources/RiadConcurrency/concurrency.c calls the `riad_executor_*`
/// and `riad_platform_*` functions below), exactly as on hvt.
public final class UnixBackend: EventLoopBackend, @unchecked Sendable {
    public typealias Job = UnsafeMutableRawPointer

    /// Set by `UnixEventLoop.run` before the first job. (The kernel has one
    /// thread: the loop's.)
    var platform: UnixPlatform?

    public func now() -> UInt64 { platform?.monotonicNanoseconds() ?? 0 }

    public func run(_ job: UnsafeMutableRawPointer) { riad_run_job(job) }

    public func wait(until deadline: UInt64?) -> UInt64 {
        guard let platform else { return 0 }
        guard let deadline else {
            // Input only: a stale expiry must not end the wait at once.
            _ = riad_unix_timer_disarm(platform.timerFD)
            return riad_unix_epoll_ready(platform.epollFD, -1)
        }
        return platform.yield(until: deadline)
    }
}

public enum UnixEventLoop {
    static let backend = UnixBackend()

    /// The kernel's one loop.
    public static let shared = EventLoop(backend: backend)

    /// Runs `body` as the kernel's main task on the loop, and the loop until
    /// that task has finished; returns its status.
    public static func run(platform: UnixPlatform, _ body: @escaping @Sendable () async -> Int32) -> Int32 {
        backend.platform = platform
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
            platform.abort("the main task waits for something that can never happen")
        }
        return result.status
    }
}

final class MainResult: @unchecked Sendable {
    var status: Int32 = 0
    var finished = false
}

extension UnixPlatform {
    public func sleep(until deadline: UInt64) async throws(RiadError) {
        try await UnixEventLoop.shared.sleep(until: deadline)
    }

    public func waitForInput(handle: UInt64) async throws(RiadError) {
        try await UnixEventLoop.shared.waitForInput(handle: handle)
    }

    public func waitForInput(handle: UInt64, until deadline: UInt64) async throws(RiadError) {
        try await UnixEventLoop.shared.waitForInput(handle: handle, until: deadline)
    }

    public func notify(handle: UInt64) {
        UnixEventLoop.shared.notify(handle: handle)
    }
}

@_cdecl("riad_executor_enqueue")
func riadExecutorEnqueue(_ job: UnsafeMutableRawPointer) {
    UnixEventLoop.shared.enqueue(job)
}

@_cdecl("riad_executor_enqueue_at")
func riadExecutorEnqueueAt(_ deadline: UInt64, _ job: UnsafeMutableRawPointer) {
    UnixEventLoop.shared.enqueue(job, at: deadline)
}

@_cdecl("riad_executor_run_until")
func riadExecutorRunUntil(
    _ condition: @convention(c) (UnsafeMutableRawPointer?) -> Bool, _ context: UnsafeMutableRawPointer?
) {
    while !condition(context) {
        if !UnixEventLoop.shared.runReadyJobs() { return }
    }
}

@_cdecl("riad_executor_run_forever")
func riadExecutorRunForever() -> Never {
    UnixEventLoop.shared.run()
    riad_unix_exit(0)
}

@_cdecl("riad_platform_monotonic_ns")
func riadPlatformMonotonicNanoseconds() -> UInt64 { UnixEventLoop.backend.now() }

/// Swift's clocks (continuous: CLOCK_BOOTTIME; suspending: CLOCK_MONOTONIC)
/// run at the loop's rate: keep the time left, move it to the loop's scale.
@_cdecl("riad_platform_clock_to_loop")
func riadPlatformClockToLoop(_ deadline: UInt64, _ clock: Int32) -> UInt64 {
    let clockNow = clock == 1 ? riad_unix_boottime_ns() : riad_unix_monotonic_ns()
    let left = deadline > clockNow ? deadline - clockNow : 0
    return UnixEventLoop.backend.now() &+ left
}

@_cdecl("riad_platform_write_error")
func riadPlatformWriteError(_ text: UnsafePointer<CChar>, _ length: Int) {
    _ = riad_unix_write_all(2, text, length)
}

@_cdecl("riad_platform_abort")
func riadPlatformAbort(_ message: UnsafePointer<CChar>) -> Never {
    UnixPlatform.write("Riad: abort: " + String(cString: message) + "\n", to: 1)
    riad_unix_exit(ExitStatus.abort)
}

extension UnixPlatform {
    /// glibc's figures for the heap (the high-water mark is the largest
    /// seen when asked: glibc keeps none), and the event loop's counters.
    public var runtimeStatistics: RuntimeStatistics? {
        let inUse = riad_unix_heap_in_use()
        UnixHeapWatermark.highest = max(UnixHeapWatermark.highest, inUse)
        let loop = UnixEventLoop.shared
        return RuntimeStatistics(
            heapInUse: inUse, heapHighWater: UnixHeapWatermark.highest, jobsRun: loop.jobsRun,
            idleNanoseconds: loop.idleNanoseconds)
    }
}

/// The kernel has one thread.
enum UnixHeapWatermark {
    nonisolated(unsafe) static var highest: UInt64 = 0
}
