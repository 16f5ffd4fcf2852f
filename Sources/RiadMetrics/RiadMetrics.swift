// Metrics for Riad kernels (docs/monitoring.md), after MirageOS's `metrics`
// library: named sources with tags, typed fields, switched on and off at run
// time by source name or tag, and reporters that encode what is enabled.
//
// - `Metrics` is the kernel's registry (one per kernel); `MetricSource` a
//   source; `Counter`, `Gauge`, `FloatGauge`, `Histogram` its fields.
// - `InfluxLineEncoder` and `PrometheusEncoder` write the two wire formats;
//   `DecimalText` the numbers in them, without Foundation.
// - `InfluxReporter` pushes line protocol to Telegraf or InfluxDB over any
//   `NetworkStack`; `PrometheusExporter` renders the text for `/metrics`.
// - `HeapMetrics`, `LoopMetrics`, `HTTPMetrics` are built-in sources;
//   `MetricsArguments` declares `--metrics`, `--metrics-interval`, `--name`.
import Riad

/// A key and a value that say which instance a source measures, such as
/// `interface=service` or the kernel-wide `name=web1`.
///
/// Encoders give tags as InfluxDB tags and Prometheus labels, sorted by key;
/// a tag with an empty key or value is left out (InfluxDB refuses empty tag
/// values, and Prometheus treats an empty label as an absent one).
public struct MetricTag: Sendable {
    public var key: String
    public var value: String

    public init(_ key: String, _ value: String) {
        self.key = key
        self.value = value
    }
}

/// The unit of a field's values. Encoders add it to the field's name as a
/// suffix (`_bytes`, `_seconds`), as Prometheus's naming rules ask, unless
/// the name already ends with it.
public enum MetricUnit: Sendable {
    /// A count of things: no suffix.
    case none
    /// Bytes: `_bytes`.
    case bytes
    /// Seconds: `_seconds`.
    case seconds
    /// Nanoseconds, kept as integers in the kernel: InfluxDB gets them as
    /// they are (`_ns`); Prometheus, whose base unit is the second, gets
    /// them divided by 10^9 (`_seconds`).
    case nanoseconds
}

/// What kind of value a field holds.
public enum MetricKind: Sendable {
    /// A `UInt64` that only goes up (it wraps at 2^64).
    case counter
    /// An `Int64` that goes up and down.
    case gauge
    /// A `Double` that goes up and down.
    case floatGauge
    /// Observations counted into buckets with fixed upper bounds, with
    /// their number and sum.
    case histogram
}

extension String {
    /// Byte-wise equality: `==` on String would link the Unicode tables.
    func sameBytes(as other: String) -> Bool {
        utf8.elementsEqual(other.utf8)
    }
}
