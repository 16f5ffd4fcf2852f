/// A named group of fields that measure one thing: the network interface
/// `service`, the heap, the HTTP server.
///
/// A source is *stored* when the application updates its fields as things
/// happen (`requests.increment()`), or *sampled* when its `sampler` copies
/// numbers kept elsewhere (a stack's counters, the heap's statistics) into
/// its fields just before each report. Both are the same type: a sampler is
/// all that makes a source sampled.
///
/// ```swift
/// let heap = metrics.source("heap")
/// let inUse = heap.gauge("in_use", unit: .bytes, help: "Heap bytes allocated.")
/// heap.sampler = { inUse.set(Int64(clamping: runtimeHeapInUse())) }
/// ```
///
/// Fields are added once, at start-up; encoders write them in the order
/// they were added. Sources with the same name and different tags (one per
/// network interface) are one Prometheus metric family with one series per
/// source.
public final class MetricSource {
    /// The source's name: InfluxDB's measurement, and the middle of
    /// Prometheus's metric names (`riad_<source>_<field>`).
    public let name: String
    /// The source's own tags, sorted by key (the kernel-wide tags of
    /// `Metrics` are added when encoding).
    public let tags: [MetricTag]
    /// The fields, in the order they were added.
    public private(set) var fields: [MetricField] = []
    /// Called before each report of this source while it is enabled, to copy
    /// numbers kept elsewhere into the fields. Never called while disabled.
    public var sampler: (() -> Void)?

    let storage: FieldStorage

    init(name: String, tags: [MetricTag], isEnabled: Bool) {
        self.name = name
        self.tags = tags.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        storage = FieldStorage(isEnabled: isEnabled)
    }

    /// Whether the source is on: fields are updated and reported only then.
    /// `Metrics.enable`/`disable` decide it.
    public var isEnabled: Bool { storage.isEnabled }

    /// Adds a counter.
    ///
    /// - Parameters:
    ///   - name: The field's name, `snake_case`, without the unit or
    ///     `_total` (encoders add them).
    ///   - unit: What one step counts; `.nanoseconds` for time spent.
    ///   - help: One sentence for Prometheus's `# HELP`.
    public func counter(_ name: String, unit: MetricUnit = .none, help: String = "") -> Counter {
        Counter(storage: storage, slot: add(name, .counter, unit, help, bounds: []))
    }

    /// Adds a signed integer gauge.
    public func gauge(_ name: String, unit: MetricUnit = .none, help: String = "") -> Gauge {
        Gauge(storage: storage, slot: add(name, .gauge, unit, help, bounds: []))
    }

    /// Adds a floating-point gauge.
    public func floatGauge(_ name: String, unit: MetricUnit = .none, help: String = "") -> FloatGauge {
        FloatGauge(storage: storage, slot: add(name, .floatGauge, unit, help, bounds: []))
    }

    /// Adds a histogram with buckets at `bounds` (finite and increasing; the
    /// `+Inf` bucket is implicit).
    public func histogram(
        _ name: String, unit: MetricUnit = .none, bounds: [Double], help: String = ""
    ) -> Histogram {
        for index in bounds.indices {
            precondition(bounds[index].isFinite, "histogram bounds must be finite")
            precondition(index == 0 || bounds[index - 1] < bounds[index], "histogram bounds must increase")
        }
        let slot = add(name, .histogram, unit, help, bounds: bounds)
        return Histogram(storage: storage, slot: slot, bounds: bounds)
    }

    private func add(_ name: String, _ kind: MetricKind, _ unit: MetricUnit, _ help: String, bounds: [Double])
        -> Int
    {
        precondition(!fields.contains { $0.name.sameBytes(as: name) }, "field added twice to a source")
        let slots = kind == .histogram ? 2 + bounds.count : 1
        let slot = storage.reserve(slots)
        fields.append(MetricField(name: name, kind: kind, unit: unit, help: help, slot: slot, bounds: bounds))
        return slot
    }

    /// The raw slot `index` (for encoders).
    func slot(_ index: Int) -> UInt64 {
        storage.values[index]
    }
}

/// The description of one field of a source.
public struct MetricField: Sendable {
    public let name: String
    public let kind: MetricKind
    public let unit: MetricUnit
    public let help: String
    /// The field's first slot in its source's storage.
    let slot: Int
    /// A histogram's bucket bounds; empty for other kinds.
    public let bounds: [Double]
}
