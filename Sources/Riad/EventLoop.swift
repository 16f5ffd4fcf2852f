import _Concurrency

/// The one event loop of a kernel: a single-threaded cooperative executor
/// for Swift concurrency, with timers and device readiness.
///
/// Every target drives it the same way (Lwt's model, in Swift's syntax):
/// run the ready jobs in order; when none is ready, ask the platform to wait
/// until the earliest timer or until a device has input; then wake exactly
/// the jobs and tasks waiting for what happened. Nothing here reads a clock
/// or touches a device: the platform is the `EventLoopBackend`, so tests
/// drive the loop with a virtual clock.
///
/// Jobs are opaque to the loop (`Job`): on a kernel they are the concurrency
/// runtime's job pointers, in tests whatever the test executor enqueues.
/// The kernel is single-threaded: all methods MUST be called from the
/// loop's thread.
public final class EventLoop<Backend: EventLoopBackend> {
    public typealias Job = Backend.Job

    let backend: Backend
    private var ready = JobQueue<Job>()
    private var timers = TimerHeap<TimerAction<Job>>()
    private var inputWaiters: [InputWaiter] = []
    private var nextTimerID: UInt64 = 1
    private var stopped = false

    /// Counters for monitoring: jobs run, and nanoseconds spent waiting.
    public private(set) var jobsRun: UInt64 = 0
    public private(set) var idleNanoseconds: UInt64 = 0

    public init(backend: Backend) {
        self.backend = backend
    }

    // MARK: Scheduling (called by the platform's executor hooks)

    /// Makes `job` ready to run after the jobs already ready.
    public func enqueue(_ job: Job) {
        ready.append(job)
    }

    /// Makes `job` ready at monotonic time `deadline` (nanoseconds).
    public func enqueue(_ job: Job, at deadline: UInt64) {
        _ = addTimer(at: deadline, .job(job))
    }

    /// The number of jobs ready to run now.
    public var readyCount: Int { ready.count }

    /// The earliest timer's deadline, if any.
    public var nextDeadline: UInt64? { timers.first?.deadline }

    // MARK: Running

    /// Runs until `stop()` is called, or until nothing is left to do (no
    /// ready job, no timer, no task waiting for input).
    public func run() {
        stopped = false
        while !stopped {
            if !runReadyJobs() { break }
        }
    }

    /// Ends `run()` after the current job.
    public func stop() {
        stopped = true
    }

    /// One turn: runs every job that is ready, then waits once for the next
    /// timer or input if nothing became ready. Returns false when there is
    /// nothing left to wait for.
    @discardableResult
    public func runReadyJobs() -> Bool {
        fireDueTimers(now: backend.now())
        var budget = ready.count
        while budget > 0, let job = ready.popFirst() {
            jobsRun &+= 1
            backend.run(job)
            budget -= 1
            if stopped { return true }
        }
        fireDueTimers(now: backend.now())
        if !ready.isEmpty {
            // Busy: still look at the devices without waiting, so that a task
            // waiting for input is not starved by tasks that never idle.
            if !inputWaiters.isEmpty { wakeInputWaiters(backend.wait(until: 0)) }
            return true
        }
        guard !timers.isEmpty || !inputWaiters.isEmpty else { return false }
        let before = backend.now()
        let readySet = backend.wait(until: timers.first?.deadline)
        let after = backend.now()
        idleNanoseconds &+= after &- before
        wakeInputWaiters(readySet)
        fireDueTimers(now: after)
        return true
    }

    // MARK: Timers

    /// Adds a timer; returns its identity for `cancelTimer`.
    func addTimer(at deadline: UInt64, _ action: TimerAction<Job>) -> UInt64 {
        let id = reserveID()
        timers.insert(TimerEntry(deadline: deadline, id: id, action: action))
        return id
    }

    /// Adds a timer under an identity taken before with `reserveID`.
    func addTimer(id: UInt64, at deadline: UInt64, _ action: TimerAction<Job>) {
        timers.insert(TimerEntry(deadline: deadline, id: id, action: action))
    }

    /// A fresh identity for a timer or waiter. Taken before a task
    /// suspends, it is known to the task's cancellation handler without a
    /// shared box (which would be an allocation per wait).
    func reserveID() -> UInt64 {
        let id = nextTimerID
        nextTimerID &+= 1
        return id
    }

    /// Removes a timer before it fires; returns its action, nil if it fired.
    func cancelTimer(_ id: UInt64) -> TimerAction<Job>? {
        timers.remove(id: id)?.action
    }

    private func fireDueTimers(now: UInt64) {
        while let first = timers.first, first.deadline <= now {
            let entry = timers.popFirst()!
            switch entry.action {
            case .job(let job): ready.append(job)
            case .resume(let continuation): continuation.resume()
            case .endInputWait(let waiter): removeInputWaiter(waiter)?.resume()
            }
        }
    }

    // MARK: Input

    struct InputWaiter {
        let handle: UInt64
        let id: UInt64
        let continuation: UnsafeContinuation<Void, Never>
        /// The timer ending the wait at its deadline; 0 if none.
        var timer: UInt64 = 0
    }

    /// Registers a task waiting for input on `handle`, until `deadline` if
    /// one is given, under `id` (from `reserveID`).
    func addInputWaiter(
        id: UInt64, handle: UInt64, until deadline: UInt64? = nil,
        continuation: UnsafeContinuation<Void, Never>
    ) {
        var waiter = InputWaiter(handle: handle, id: id, continuation: continuation)
        if let deadline { waiter.timer = addTimer(at: deadline, .endInputWait(id)) }
        inputWaiters.append(waiter)
    }

    /// Removes a waiter (and its timer) before it is woken; returns its
    /// continuation, nil if it was woken already.
    func removeInputWaiter(_ id: UInt64) -> UnsafeContinuation<Void, Never>? {
        guard let index = inputWaiters.firstIndex(where: { $0.id == id }) else { return nil }
        let waiter = inputWaiters.remove(at: index)
        if waiter.timer != 0 { _ = cancelTimer(waiter.timer) }
        return waiter.continuation
    }

    /// Wakes the tasks waiting for input on `handle` as if it had input: a
    /// network stack's own task, waiting for frames or its next timer, is
    /// told this way that an application call changed its timers.
    public func notify(handle: UInt64) {
        guard handle < 64 else { return }
        wakeInputWaiters(1 << handle)
    }

    /// Resumes exactly the tasks waiting on a handle in `readySet`.
    private func wakeInputWaiters(_ readySet: UInt64) {
        guard readySet != 0, !inputWaiters.isEmpty else { return }
        // In place: a busy network kernel comes here for every frame.
        var kept = 0
        for index in inputWaiters.indices {
            let waiter = inputWaiters[index]
            if waiter.handle < 64 && readySet & (1 << waiter.handle) != 0 {
                if waiter.timer != 0 { _ = cancelTimer(waiter.timer) }
                waiter.continuation.resume()
            } else {
                inputWaiters[kept] = waiter
                kept += 1
            }
        }
        inputWaiters.removeLast(inputWaiters.count - kept)
    }
}

/// What a platform gives the event loop.
public protocol EventLoopBackend: AnyObject {
    associatedtype Job

    /// Monotonic nanoseconds.
    func now() -> UInt64

    /// Runs one job to its next suspension.
    func run(_ job: Job)

    /// Blocks until monotonic time `deadline` (forever if nil) or until a
    /// device has input; returns the handles with input (bit h for handle h).
    func wait(until deadline: UInt64?) -> UInt64
}

/// What a timer does when it fires.
enum TimerAction<Job> {
    /// Make a job ready (Task.sleep and the runtime's delayed jobs).
    case job(Job)
    /// Resume a task suspended in `EventLoop.sleep`.
    case resume(UnsafeContinuation<Void, Never>)
    /// End the input wait with this identity: its deadline has come.
    case endInputWait(UInt64)
}
