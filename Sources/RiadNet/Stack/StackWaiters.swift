import _Concurrency

/// Tasks waiting on a stack for something to become true, each until a
/// deadline. Few at a time in a unikernel (one or two per connection), so
/// a small array, checked after every turn of the network task.
struct StackWaiters {
    enum Condition: Equatable {
        case readable(TCPConnectionID)
        case writable(TCPConnectionID)
        case connected(TCPConnectionID)
        case acceptable(TCPListenerID)
        case datagram(UInt16)
        case configured
        case resolved(DNSResolver.QueryID)
    }

    struct Waiter {
        let id: UInt64
        let condition: Condition
        let deadline: UInt64
        let continuation: UnsafeContinuation<Void, Never>
    }

    private var waiters: [Waiter] = []
    private var nextID: UInt64 = 1

    /// An identity for a waiter about to be added: known to the task's
    /// cancellation handler before it suspends, without a shared box.
    mutating func reserveID() -> UInt64 {
        let id = nextID
        nextID &+= 1
        return id
    }

    mutating func add(
        id: UInt64, _ condition: Condition, until deadline: UInt64,
        _ continuation: UnsafeContinuation<Void, Never>
    ) {
        waiters.append(Waiter(id: id, condition: condition, deadline: deadline, continuation: continuation))
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

    /// Resumes the waiters whose condition holds or whose deadline passed.
    mutating func wake(now: UInt64, _ holds: (Condition) -> Bool) {
        guard !waiters.isEmpty else { return }
        var kept = 0
        for index in waiters.indices {
            let waiter = waiters[index]
            if waiter.deadline <= now || holds(waiter.condition) {
                waiter.continuation.resume()
            } else {
                waiters[kept] = waiter
                kept += 1
            }
        }
        waiters.removeLast(waiters.count - kept)
    }
}
