// The values of a source's fields, and the typed handles that update them.
//
// Every field's value lives in 64-bit slots of its source's `FieldStorage`;
// a handle is the storage and a slot index. Updating a field reads the
// source's switch (one branch when it is off) and adds to a slot: no
// allocation, no lookup by name.

/// The slots of one source's fields, and the switch that says whether they
/// are updated.
@usableFromInline final class FieldStorage {
    /// Whether the source is enabled. `Metrics` sets it from its rules.
    @usableFromInline var isEnabled: Bool
    /// The slots: counters as `UInt64`, gauges as the bit pattern of an
    /// `Int64` or a `Double`. Reallocated (never on an update) when a field
    /// is added.
    @usableFromInline private(set) var values: UnsafeMutablePointer<UInt64>
    private(set) var count = 0
    private var capacity: Int

    init(isEnabled: Bool) {
        self.isEnabled = isEnabled
        capacity = 8
        values = UnsafeMutablePointer<UInt64>.allocate(capacity: capacity)
        values.initialize(repeating: 0, count: capacity)
    }

    deinit {
        values.deallocate()
    }

    /// Adds `slots` zeroed slots; returns the index of the first.
    func reserve(_ slots: Int) -> Int {
        let first = count
        if count + slots > capacity {
            var grown = capacity * 2
            while grown < count + slots { grown *= 2 }
            let moved = UnsafeMutablePointer<UInt64>.allocate(capacity: grown)
            moved.initialize(repeating: 0, count: grown)
            moved.update(from: values, count: count)
            values.deallocate()
            values = moved
            capacity = grown
        }
        count += slots
        return first
    }
}

/// A monotonic count: requests served, frames received, bytes sent.
///
/// ```swift
/// let requests = source.counter("requests", help: "Requests answered.")
/// requests.increment()
/// ```
public struct Counter {
    @usableFromInline let storage: FieldStorage
    @usableFromInline let slot: Int

    init(storage: FieldStorage, slot: Int) {
        self.storage = storage
        self.slot = slot
    }

    /// Adds `amount` (wrapping at 2^64), if the source is enabled.
    @inlinable
    public func increment(by amount: UInt64 = 1) {
        guard storage.isEnabled else { return }
        storage.values[slot] &+= amount
    }

    /// Sets the count, for a sampled source that copies a counter kept
    /// elsewhere (a stack's frames received). The value should not go down.
    @inlinable
    public func set(_ value: UInt64) {
        guard storage.isEnabled else { return }
        storage.values[slot] = value
    }

    /// The current count.
    public var value: UInt64 { storage.values[slot] }
}

/// A signed integer that goes up and down: bytes in use, open connections.
public struct Gauge {
    @usableFromInline let storage: FieldStorage
    @usableFromInline let slot: Int

    init(storage: FieldStorage, slot: Int) {
        self.storage = storage
        self.slot = slot
    }

    /// Sets the value, if the source is enabled.
    @inlinable
    public func set(_ value: Int64) {
        guard storage.isEnabled else { return }
        storage.values[slot] = UInt64(bitPattern: value)
    }

    /// Adds `amount` (negative to subtract), wrapping, if the source is
    /// enabled.
    @inlinable
    public func increment(by amount: Int64 = 1) {
        guard storage.isEnabled else { return }
        storage.values[slot] = UInt64(bitPattern: Int64(bitPattern: storage.values[slot]) &+ amount)
    }

    /// Subtracts `amount`, wrapping, if the source is enabled.
    @inlinable
    public func decrement(by amount: Int64 = 1) {
        increment(by: 0 &- amount)
    }

    /// The current value.
    public var value: Int64 { Int64(bitPattern: storage.values[slot]) }
}

/// A floating-point value that goes up and down: a temperature, a ratio.
public struct FloatGauge {
    @usableFromInline let storage: FieldStorage
    @usableFromInline let slot: Int

    init(storage: FieldStorage, slot: Int) {
        self.storage = storage
        self.slot = slot
    }

    /// Sets the value, if the source is enabled.
    @inlinable
    public func set(_ value: Double) {
        guard storage.isEnabled else { return }
        storage.values[slot] = value.bitPattern
    }

    /// Adds `amount`, if the source is enabled.
    @inlinable
    public func increment(by amount: Double) {
        guard storage.isEnabled else { return }
        storage.values[slot] = (Double(bitPattern: storage.values[slot]) + amount).bitPattern
    }

    /// The current value.
    public var value: Double { Double(bitPattern: storage.values[slot]) }
}

/// Observations counted into buckets with fixed upper bounds, as
/// Prometheus histograms have them: request latencies, payload sizes.
///
/// Slots: the number of observations, their sum (a `Double`), then one
/// count per bound of the observations that fell in that bucket alone
/// (`bounds[i - 1] < v <= bounds[i]`). Encoders add them up into the
/// cumulative counts both formats want; the `+Inf` bucket is the number of
/// observations.
public struct Histogram {
    @usableFromInline let storage: FieldStorage
    @usableFromInline let slot: Int
    /// The buckets' upper bounds, increasing.
    public let bounds: [Double]

    init(storage: FieldStorage, slot: Int, bounds: [Double]) {
        self.storage = storage
        self.slot = slot
        self.bounds = bounds
    }

    /// Counts `value` into its bucket, if the source is enabled. NaN is
    /// ignored: it would make the sum NaN for good.
    @inlinable
    public func observe(_ value: Double) {
        guard storage.isEnabled, !value.isNaN else { return }
        let values = storage.values + slot
        values[0] &+= 1
        values[1] = (Double(bitPattern: values[1]) + value).bitPattern
        // Binary search for the first bound >= value; past the last bound
        // only the count (the +Inf bucket) records it.
        var low = 0
        var high = bounds.count
        while low < high {
            let middle = (low + high) / 2
            if bounds[middle] < value { low = middle + 1 } else { high = middle }
        }
        if low < bounds.count { values[2 + low] &+= 1 }
    }

    /// The number of observations.
    public var count: UInt64 { storage.values[slot] }
    /// The sum of the observations.
    public var sum: Double { Double(bitPattern: storage.values[slot + 1]) }

    /// The cumulative count of bucket `index`: observations `<= bounds[index]`.
    public func cumulativeCount(_ index: Int) -> UInt64 {
        var total: UInt64 = 0
        for bucket in 0...index { total &+= storage.values[slot + 2 + bucket] }
        return total
    }
}
