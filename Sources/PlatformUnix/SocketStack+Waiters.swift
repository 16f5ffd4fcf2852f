import _Concurrency

/// Tasks waiting on a `SocketStack` for a host socket to become ready, each
/// until a deadline.
///
/// A waiter names only the socket's descriptor, not what it waits for: an
/// event on the socket wakes every task waiting on it, and each one retries
/// its call (the host tells "not yet" with EAGAIN, and the task waits
/// again). A unikernel has few waiters at a time (one or two per
/// connection), so a small array scanned per batch of events is enough.
struct SocketWaiters {
    struct Waiter {
        let id: UInt64
        let fd: Int32
        let deadline: UInt64
        let continuation: UnsafeContinuation<Void, Never>
    }

    private var waiters: [Waiter] = []
    private var nextID: UInt64 = 1

    var isEmpty: Bool { waiters.isEmpty }

    mutating func add(fd: Int32, until deadline: UInt64, _ continuation: UnsafeContinuation<Void, Never>)
        -> UInt64
    {
        let id = nextID
        nextID &+= 1
        waiters.append(Waiter(id: id, fd: fd, deadline: deadline, continuation: continuation))
        return id
    }

    /// Removes a waiter before it is woken; its continuation, nil if it
    /// was woken already.
    mutating func remove(_ id: UInt64) -> UnsafeContinuation<Void, Never>? {
        guard let index = waiters.firstIndex(where: { $0.id == id }) else { return nil }
        return waiters.remove(at: index).continuation
    }

    /// The earliest deadline of a waiter.
    var nextDeadline: UInt64? {
        var earliest: UInt64? = nil
        for waiter in waiters where waiter.deadline != .max {
            earliest = min(earliest ?? .max, waiter.deadline)
        }
        return earliest
    }

    /// Resumes the waiters on a descriptor in `ready` and those whose
    /// deadline has passed.
    mutating func wake(now: UInt64, ready: UnsafeBufferPointer<Int32>) {
        wake { waiter in waiter.deadline <= now || ready.contains(waiter.fd) }
    }

    /// Resumes the waiters on `fd`: it is being closed or shut down, and
    /// they must find out (a closed descriptor has no more events, and its
    /// number may soon name another socket).
    mutating func wake(fd: Int32) {
        wake { waiter in waiter.fd == fd }
    }

    /// Resumes every waiter: the network is going down.
    mutating func wakeAll() {
        wake { _ in true }
    }

    private mutating func wake(where due: (Waiter) -> Bool) {
        guard !waiters.isEmpty else { return }
        // In place: this runs after every batch of events.
        var kept = 0
        for index in waiters.indices {
            let waiter = waiters[index]
            if due(waiter) {
                waiter.continuation.resume()
            } else {
                waiters[kept] = waiter
                kept += 1
            }
        }
        waiters.removeLast(waiters.count - kept)
    }
}

/// The identity of a suspended task's waiter, shared with its
/// cancellation handler.
final class SocketPendingWait: @unchecked Sendable {
    var id: UInt64 = 0
}
