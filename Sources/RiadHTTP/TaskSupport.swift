// What the server and client need around Swift's tasks on a kernel's one
// thread.
import _Concurrency

/// Carries a value into a child task.
///
/// A kernel runs every task on one thread, so nothing is ever shared
/// between threads; the compiler cannot know that about the network
/// stack's generic types, which are not `Sendable`. Boxing a closure (rather
/// than the generic value itself) also keeps the generic type's metatype
/// out of the child task's captures.
final class UncheckedBox<Value>: @unchecked Sendable {
    var value: Value

    init(_ value: Value) {
        self.value = value
    }
}

/// A counting semaphore for connections: the accept loop waits for a free
/// slot before taking the next connection, which then waits in the
/// listener's backlog.
final class ConnectionSlots: @unchecked Sendable {
    private(set) var active = 0
    private var waiter: UnsafeContinuation<Void, Never>?

    func take() {
        active += 1
    }

    func release() {
        active -= 1
        wake()
    }

    private func wake() {
        let waiter = self.waiter
        self.waiter = nil
        waiter?.resume()
    }

    /// Waits until fewer than `limit` slots are taken; false if the task
    /// was cancelled first.
    func waitForSlot(limit: Int) async -> Bool {
        while active >= limit {
            if Task.isCancelled { return false }
            await withTaskCancellationHandler {
                await withUnsafeContinuation { (continuation: UnsafeContinuation<Void, Never>) in
                    if Task.isCancelled || active < limit {
                        continuation.resume()
                    } else {
                        waiter = continuation
                    }
                }
            } onCancel: {
                // The kernel has one thread: this runs between jobs.
                self.wake()
            }
        }
        return !Task.isCancelled
    }
}
