import _Concurrency

/// Suspending on the loop: sleeping until a deadline, waiting for input.
///
/// Both suspend only the calling task; the loop goes on running others.
/// Both end early, throwing `.cancelled`, when the task is cancelled.
extension EventLoop {
    /// Suspends the calling task until monotonic time `deadline` (ns).
    ///
    /// - Throws: `RiadError(.cancelled)` if the task is or becomes cancelled
    ///   first; the timer is removed at once.
    public func sleep(until deadline: UInt64) async throws(RiadError) {
        let id = reserveID()
        await withTaskCancellationHandler {
            await withUnsafeContinuation { (continuation: UnsafeContinuation<Void, Never>) in
                if Task.isCancelled {
                    continuation.resume()
                } else {
                    self.addTimer(id: id, at: deadline, .resume(continuation))
                }
            }
        } onCancel: {
            // The kernel has one thread: this runs between jobs, never
            // concurrently with the loop.
            if case .resume(let continuation)? = self.cancelTimer(id) {
                continuation.resume()
            }
        }
        if Task.isCancelled { throw RiadError(.cancelled) }
    }

    /// Suspends the calling task for `nanoseconds`.
    public func sleep(nanoseconds: UInt64) async throws(RiadError) {
        try await sleep(until: backend.now() &+ nanoseconds)
    }

    /// Suspends the calling task until device `handle` has input (the
    /// platform's POLL or epoll reports it), or the task is cancelled.
    ///
    /// Readiness is level-triggered: input already waiting wakes the task at
    /// the loop's next poll of the devices.
    public func waitForInput(handle: UInt64) async throws(RiadError) {
        try await waitForInput(handle: handle, until: nil)
    }

    /// Suspends the calling task until device `handle` has input or
    /// monotonic time `deadline` comes, whichever is first (a network
    /// stack's wait: frames, or its next timer). Which one it was, the
    /// caller sees by looking at the device and the clock.
    public func waitForInput(handle: UInt64, until deadline: UInt64?) async throws(RiadError) {
        let id = reserveID()
        await withTaskCancellationHandler {
            await withUnsafeContinuation { (continuation: UnsafeContinuation<Void, Never>) in
                if Task.isCancelled {
                    continuation.resume()
                } else {
                    self.addInputWaiter(id: id, handle: handle, until: deadline, continuation: continuation)
                }
            }
        } onCancel: {
            self.removeInputWaiter(id)?.resume()
        }
        if Task.isCancelled { throw RiadError(.cancelled) }
    }
}

/// The loop is touched from one thread only (see `EventLoop`).
extension EventLoop: @unchecked Sendable {}
