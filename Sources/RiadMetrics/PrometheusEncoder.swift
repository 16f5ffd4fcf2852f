import Riad

// Prometheus's text exposition format, version 0.0.4 (Prometheus docs,
// "Exposition formats"):
//
//     # HELP riad_http_requests_total Requests answered.
//     # TYPE riad_http_requests_total counter
//     riad_http_requests_total{method="GET",name="web1",status="200"} 5
//
// - Metric names are `<prefix>_<source>_<field>[_<unit>]`, `_total` added
//   to counters; every byte outside [a-zA-Z0-9_] becomes `_`, so names match
//   [a-zA-Z_:][a-zA-Z0-9_:]* (colons are left to recording rules, as
//   promtool's lint asks).
// - All the series of one name form one family, with one `# HELP` and one
//   `# TYPE`, whichever sources they come from: the text format requires a
//   family's lines to be together.
// - Labels are the source's tags with the kernel-wide ones, sorted; label
//   names sanitised like metric names ([a-zA-Z_][a-zA-Z0-9_]*, not starting
//   with the reserved `__`, and not `le` or `quantile`, which promtool
//   reserves for histograms and summaries); label values escaped (`\\`,
//   `\"`, `\n`).
// - Values: integers in decimal, floats via `DecimalText`, `NaN`, `+Inf`,
//   `-Inf`. Histograms: cumulative `_bucket{le="..."}` lines ending with
//   `le="+Inf"`, then `_sum` and `_count`.
// - No timestamps: Prometheus stamps a scrape itself.

/// Encodes sources as Prometheus's text format 0.0.4.
public struct PrometheusEncoder: Sendable {
    /// The first part of every metric name.
    public var prefix: String

    public init(prefix: String = "riad") {
        self.prefix = prefix
    }

    /// One metric family: a name, its type and help, and the fields (of
    /// one or more sources) that are its series.
    private struct Family {
        var name: [UInt8]
        var kind: MetricKind
        var help: String
        var members: [(source: MetricSource, field: MetricField)]
    }

    /// Appends every enabled source's fields. Does not sample: call
    /// `metrics.sample()` first.
    public func encode(_ metrics: Metrics, into output: inout [UInt8]) {
        var families: [Family] = []
        for source in metrics.sources where source.isEnabled {
            for field in source.fields {
                let name = metricName(source, field)
                if let index = families.firstIndex(where: { $0.name == name }) {
                    // A name taken by a field of another kind: leave it out
                    // rather than write a family Prometheus refuses.
                    guard families[index].kind == field.kind else { continue }
                    families[index].members.append((source, field))
                } else {
                    families.append(
                        Family(name: name, kind: field.kind, help: field.help, members: [(source, field)]))
                }
            }
        }
        for family in families {
            if !family.help.utf8.isEmpty {
                append("# HELP ", to: &output)
                output.append(contentsOf: family.name)
                output.append(UInt8(ascii: " "))
                appendEscaped(family.help, quotes: false, to: &output)
                output.append(UInt8(ascii: "\n"))
            }
            append("# TYPE ", to: &output)
            output.append(contentsOf: family.name)
            switch family.kind {
            case .counter: append(" counter\n", to: &output)
            case .gauge, .floatGauge: append(" gauge\n", to: &output)
            case .histogram: append(" histogram\n", to: &output)
            }
            for (source, field) in family.members {
                appendSeries(family.name, source, field, tags: metrics.effectiveTags(of: source), to: &output)
            }
        }
    }

    private func appendSeries(
        _ name: [UInt8], _ source: MetricSource, _ field: MetricField, tags: [MetricTag],
        to output: inout [UInt8]
    ) {
        // Nanoseconds are reported in seconds, Prometheus's base unit.
        let scale = field.unit == .nanoseconds ? 1e-9 : 1.0
        switch field.kind {
        case .counter:
            output.append(contentsOf: name)
            appendLabels(tags, le: nil, to: &output)
            let value = source.slot(field.slot)
            if scale == 1 {
                DecimalText.append(value, to: &output)
            } else {
                appendFloat(Double(value) * scale, &output)
            }
        case .gauge:
            output.append(contentsOf: name)
            appendLabels(tags, le: nil, to: &output)
            let value = Int64(bitPattern: source.slot(field.slot))
            if scale == 1 {
                DecimalText.append(value, to: &output)
            } else {
                appendFloat(Double(value) * scale, &output)
            }
        case .floatGauge:
            output.append(contentsOf: name)
            appendLabels(tags, le: nil, to: &output)
            appendFloat(Double(bitPattern: source.slot(field.slot)) * scale, &output)
        case .histogram:
            let count = source.slot(field.slot)
            var cumulative: UInt64 = 0
            for (index, bound) in field.bounds.enumerated() {
                cumulative &+= source.slot(field.slot + 2 + index)
                output.append(contentsOf: name)
                append("_bucket", to: &output)
                appendLabels(tags, le: bound * scale, to: &output)
                DecimalText.append(cumulative, to: &output)
                output.append(UInt8(ascii: "\n"))
            }
            output.append(contentsOf: name)
            append("_bucket", to: &output)
            appendLabels(tags, le: .infinity, to: &output)
            DecimalText.append(count, to: &output)
            output.append(UInt8(ascii: "\n"))
            output.append(contentsOf: name)
            append("_sum", to: &output)
            appendLabels(tags, le: nil, to: &output)
            appendFloat(Double(bitPattern: source.slot(field.slot + 1)) * scale, &output)
            output.append(UInt8(ascii: "\n"))
            output.append(contentsOf: name)
            append("_count", to: &output)
            appendLabels(tags, le: nil, to: &output)
            DecimalText.append(count, to: &output)
        }
        output.append(UInt8(ascii: "\n"))
    }

    private func appendFloat(_ value: Double, _ output: inout [UInt8]) {
        DecimalText.append(value, to: &output)
    }

    /// `{key="value",...} ` (with `le` last for a bucket), or a space alone
    /// when there is no label.
    private func appendLabels(_ tags: [MetricTag], le: Double?, to output: inout [UInt8]) {
        var first = true
        func separator() {
            output.append(UInt8(ascii: first ? "{" : ","))
            first = false
        }
        for tag in tags where !tag.key.utf8.isEmpty && !tag.value.utf8.isEmpty {
            separator()
            appendLabelName(tag.key, to: &output)
            append("=\"", to: &output)
            appendEscaped(tag.value, quotes: true, to: &output)
            output.append(UInt8(ascii: "\""))
        }
        if let le {
            separator()
            append("le=\"", to: &output)
            DecimalText.append(le, to: &output)
            output.append(UInt8(ascii: "\""))
        }
        if !first { output.append(UInt8(ascii: "}")) }
        output.append(UInt8(ascii: " "))
    }

    /// A tag key as a label name: [a-zA-Z_][a-zA-Z0-9_]*, not starting with
    /// `__` (reserved for Prometheus), and neither `le` nor `quantile`
    /// (histograms' and summaries' own labels), which become `tag__...`,
    /// `exported_le` and `exported_quantile`.
    private func appendLabelName(_ key: String, to output: inout [UInt8]) {
        let bytes = key.utf8
        if let first = bytes.first, first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9") {
            output.append(UInt8(ascii: "_"))
        } else if bytes.starts(with: "__".utf8) {
            append("tag", to: &output)
        } else if bytes.elementsEqual("le".utf8) || bytes.elementsEqual("quantile".utf8) {
            append("exported_", to: &output)
        }
        appendSanitised(key, to: &output)
    }

    /// `<prefix>_<source>_<field>[_<unit>][_total]`, sanitised.
    private func metricName(_ source: MetricSource, _ field: MetricField) -> [UInt8] {
        var name: [UInt8] = []
        appendSanitised(prefix, to: &name)
        name.append(UInt8(ascii: "_"))
        appendSanitised(source.name, to: &name)
        name.append(UInt8(ascii: "_"))
        appendSanitised(field.name, to: &name)
        let unit: StaticString?
        switch field.unit {
        case .none: unit = nil
        case .bytes: unit = "_bytes"
        case .seconds, .nanoseconds: unit = "_seconds"
        }
        if let unit {
            let bytes = UnsafeBufferPointer(start: unit.utf8Start, count: unit.utf8CodeUnitCount)
            if !name.reversed().starts(with: bytes.reversed()) { name.append(contentsOf: bytes) }
        }
        if field.kind == .counter && !name.reversed().starts(with: "_total".utf8.reversed()) {
            name.append(contentsOf: "_total".utf8)
        }
        return name
    }

    private func appendSanitised(_ text: String, to output: inout [UInt8]) {
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"):
                output.append(byte)
            default:
                output.append(UInt8(ascii: "_"))
            }
        }
    }

    /// Escapes backslashes and newlines (`# HELP` text), and double quotes
    /// too in label values.
    private func appendEscaped(_ text: String, quotes: Bool, to output: inout [UInt8]) {
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\\"): append("\\\\", to: &output)
            case UInt8(ascii: "\n"): append("\\n", to: &output)
            case UInt8(ascii: "\"") where quotes: append("\\\"", to: &output)
            default: output.append(byte)
            }
        }
    }

    private func append(_ text: StaticString, to output: inout [UInt8]) {
        output.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }
}

/// The text a `/metrics` route answers with.
///
/// ```swift
/// let exporter = PrometheusExporter(metrics: metrics)
/// // in the route: status 200, Content-Type: PrometheusExporter.contentType,
/// // body: exporter.render()
/// ```
public struct PrometheusExporter {
    /// The Content-Type of the text format, version 0.0.4.
    public static let contentType = "text/plain; version=0.0.4"

    public let metrics: Metrics
    public var encoder: PrometheusEncoder

    public init(metrics: Metrics, prefix: String = "riad") {
        self.metrics = metrics
        encoder = PrometheusEncoder(prefix: prefix)
    }

    /// Samples the sampled sources and encodes every enabled source.
    public func render() -> [UInt8] {
        var output: [UInt8] = []
        render(into: &output)
        return output
    }

    /// Samples and appends the text to `output`.
    public func render(into output: inout [UInt8]) {
        metrics.sample()
        encoder.encode(metrics, into: &output)
    }

    /// Samples and appends the text to `buffer`.
    public func render(into buffer: inout ByteBuffer) {
        buffer.writeBytes(render())
    }
}
