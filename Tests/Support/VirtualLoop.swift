import Riad

/// An event loop on a virtual clock, for tests: time moves only when the
/// loop would wait, and jumps straight to the next deadline, so tests of
/// timers are exact and instant. `inputs` scripts device readiness.
public final class VirtualBackend: EventLoopBackend, @unchecked Sendable {
    public typealias Job = UnownedJob

    public var time: UInt64 = 0
    /// (time, handle): device `handle` has input from `time` on.
    public var inputs: [(time: UInt64, handle: UInt64)] = []
    public var waits = 0
    public var executor: VirtualExecutor!

    public func now() -> UInt64 { time }

    public func run(_ job: UnownedJob) {
        job.runSynchronously(on: executor.asUnownedTaskExecutor())
    }

    public func wait(until deadline: UInt64?) -> UInt64 {
        waits += 1
        let nextInput = inputs.map(\.time).min()
        let target = [deadline, nextInput].compactMap { $0 }.min() ?? time
        time = max(time, target)
        var ready: UInt64 = 0
        inputs.removeAll { input in
            guard input.time <= time else { return false }
            ready |= 1 << input.handle
            return true
        }
        return ready
    }
}

/// Sends every job of the tasks that prefer it to the virtual loop.
public final class VirtualExecutor: TaskExecutor, @unchecked Sendable {
    public let backend = VirtualBackend()
    public lazy var loop = EventLoop(backend: backend)

    public init() { backend.executor = self }

    public func enqueue(_ job: consuming ExecutorJob) {
        loop.enqueue(UnownedJob(job))
    }

    /// Starts `body` as a task on the loop.
    @discardableResult
    public func spawn<T: Sendable>(_ body: @escaping @Sendable () async -> T) -> Task<T, Never> {
        Task(executorPreference: self) { await body() }
    }
}
