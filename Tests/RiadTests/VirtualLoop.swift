import Riad

/// An event loop on a virtual clock, for tests: time moves only when the
/// loop would wait, and jumps straight to the next deadline, so tests of
/// timers are exact and instant. `inputs` scripts device readiness.
final class VirtualBackend: EventLoopBackend, @unchecked Sendable {
    typealias Job = UnownedJob

    var time: UInt64 = 0
    /// (time, handle): device `handle` has input from `time` on.
    var inputs: [(time: UInt64, handle: UInt64)] = []
    var waits = 0
    var executor: VirtualExecutor!

    func now() -> UInt64 { time }

    func run(_ job: UnownedJob) {
        job.runSynchronously(on: executor.asUnownedTaskExecutor())
    }

    func wait(until deadline: UInt64?) -> UInt64 {
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
final class VirtualExecutor: TaskExecutor, @unchecked Sendable {
    let backend = VirtualBackend()
    lazy var loop = EventLoop(backend: backend)

    init() { backend.executor = self }

    func enqueue(_ job: consuming ExecutorJob) {
        loop.enqueue(UnownedJob(job))
    }

    /// Starts `body` as a task on the loop.
    @discardableResult
    func spawn<T: Sendable>(_ body: @escaping @Sendable () async -> T) -> Task<T, Never> {
        Task(executorPreference: self) { await body() }
    }
}
