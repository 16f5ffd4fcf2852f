import _Concurrency

/// Batches of line protocol waiting for the sink, oldest first, bounded in
/// bytes.
///
/// When a new batch does not fit, the oldest batches make room (recent
/// numbers are worth more than old ones), except the one being sent, which
/// stays until the sender is done with it; a batch larger than the whole
/// capacity is dropped itself. Every drop is counted, so the loss shows up
/// in the reporter's own source once the sink is back.
struct PendingBatches {
    struct Batch {
        /// Numbers batches in the order they were queued, so the sender can
        /// tell whether the batch it sent is still the first.
        let sequence: UInt64
        let bytes: [UInt8]
        let points: Int
    }

    /// What `push` dropped to keep within the capacity.
    struct Dropped {
        var batches = 0
        var points = 0
        var bytes = 0
    }

    let capacity: Int
    private(set) var batches: [Batch] = []
    private(set) var byteCount = 0
    private var nextSequence: UInt64 = 0
    /// The batch the sender is writing: never dropped.
    private var inFlight: UInt64?

    init(capacity: Int) {
        self.capacity = capacity
    }

    var first: Batch? { batches.first }
    var isEmpty: Bool { batches.isEmpty }

    /// Queues `bytes` (holding `points` lines), dropping old batches if it
    /// does not fit.
    mutating func push(_ bytes: [UInt8], points: Int) -> Dropped {
        var dropped = Dropped()
        let reserved = batches.first { $0.sequence == inFlight }?.bytes.count ?? 0
        guard bytes.count + reserved <= capacity else {
            dropped.batches = 1
            dropped.points = points
            dropped.bytes = bytes.count
            return dropped
        }
        while byteCount + bytes.count > capacity {
            let index = batches[0].sequence == inFlight ? 1 : 0
            let victim = batches.remove(at: index)
            byteCount -= victim.bytes.count
            dropped.batches += 1
            dropped.points += victim.points
            dropped.bytes += victim.bytes.count
        }
        batches.append(Batch(sequence: nextSequence, bytes: bytes, points: points))
        nextSequence &+= 1
        byteCount += bytes.count
        return dropped
    }

    /// Marks the first batch as being sent, and returns it.
    mutating func startSending() -> Batch? {
        inFlight = batches.first?.sequence
        return batches.first
    }

    /// The sender is done with `batch`: removes it if `sent` (or refused
    /// for good), keeps it first otherwise.
    mutating func finishSending(_ batch: Batch, remove: Bool) {
        inFlight = nil
        if remove, let first = batches.first, first.sequence == batch.sequence {
            batches.removeFirst()
            byteCount -= first.bytes.count
        }
    }
}

/// Wakes one waiting task: the sender waits on it for a batch. Signals
/// given while nobody waits are remembered (one is enough).
///
/// Used from the kernel's one thread, like the event loop.
final class WakeSignal: @unchecked Sendable {
    private var waiter: UnsafeContinuation<Void, Never>?
    private var pending = false

    func signal() {
        if let waiter {
            self.waiter = nil
            waiter.resume()
        } else {
            pending = true
        }
    }

    /// Returns after the next signal (at once if one came since the last
    /// wait), or when the task is cancelled.
    func wait() async {
        if pending {
            pending = false
            return
        }
        await withTaskCancellationHandler {
            await withUnsafeContinuation { (continuation: UnsafeContinuation<Void, Never>) in
                if Task.isCancelled {
                    continuation.resume()
                } else {
                    waiter = continuation
                }
            }
        } onCancel: {
            // The kernel has one thread: this runs between jobs.
            if let waiter = self.waiter {
                self.waiter = nil
                waiter.resume()
            }
        }
        pending = false
    }
}
