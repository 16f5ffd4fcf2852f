/// A timer: fires at `deadline`; `id` orders timers with equal deadlines
/// (first added, first fired) and identifies the timer for cancellation.
struct TimerEntry<Action> {
    let deadline: UInt64
    let id: UInt64
    let action: Action

    func precedes(_ other: TimerEntry) -> Bool {
        deadline < other.deadline || (deadline == other.deadline && id < other.id)
    }
}

/// A binary min-heap of timers: insert and pop in O(log n), cancellation by
/// identity in O(n) (cancellations are rare next to expiries).
struct TimerHeap<Action> {
    private var entries: [TimerEntry<Action>] = []

    var isEmpty: Bool { entries.isEmpty }
    var count: Int { entries.count }
    var first: TimerEntry<Action>? { entries.first }

    mutating func insert(_ entry: TimerEntry<Action>) {
        entries.append(entry)
        siftUp(entries.count - 1)
    }

    mutating func popFirst() -> TimerEntry<Action>? {
        guard !entries.isEmpty else { return nil }
        return remove(at: 0)
    }

    mutating func remove(id: UInt64) -> TimerEntry<Action>? {
        guard let index = entries.firstIndex(where: { $0.id == id }) else { return nil }
        return remove(at: index)
    }

    private mutating func remove(at index: Int) -> TimerEntry<Action> {
        let removed = entries[index]
        let last = entries.removeLast()
        if index < entries.count {
            entries[index] = last
            siftDown(index)
            siftUp(index)
        }
        return removed
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard entries[child].precedes(entries[parent]) else { return }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            guard left < entries.count else { return }
            var smallest = left
            if left + 1 < entries.count && entries[left + 1].precedes(entries[left]) { smallest = left + 1 }
            guard entries[smallest].precedes(entries[parent]) else { return }
            entries.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
