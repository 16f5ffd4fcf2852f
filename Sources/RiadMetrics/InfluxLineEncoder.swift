// InfluxDB line protocol, as InfluxDB 1.x and Telegraf read it:
//
//     <measurement>[,<tag_key>=<tag_value>...] <field_key>=<field_value>[,...] <timestamp>
//
// One line (a point) per enabled source: the measurement is the source's
// name, the tags its tags with the kernel-wide ones, sorted by key (the
// order InfluxDB stores them in), the timestamp nanoseconds since 1970.
//
// Escaping (line protocol reference, "Special characters"): commas and
// spaces in measurements; commas, equals signs and spaces in tag keys, tag
// values and field keys, each with a backslash. Line protocol cannot carry
// a newline in any of them, nor escape a backslash that would end an element
// (InfluxDB 1.x reads `\` before a separator as escaping it): newlines and
// carriage returns become spaces and backslashes become `/`. Tags with an
// empty key or value are left out (InfluxDB refuses them).

/// Encodes sources as InfluxDB line protocol.
///
/// Field values: counters and integer gauges as integers (`42i`), floats
/// plainly (`0.25`); histograms as `<field>_count` (integer), `<field>_sum`
/// (float) and one cumulative `<field>_le_<bound>` integer per bucket (the
/// `+Inf` bucket is `_count`). NaN and infinities, which line protocol
/// cannot express, are left out; a point left with no field is not written.
///
/// ```swift
/// var batch: [UInt8] = []
/// InfluxLineEncoder().encode(metrics, timestamp: platform.wallClockNanoseconds(), into: &batch)
/// // http,interface=service,name=web1 requests=5i 1700000000000000000
/// ```
public struct InfluxLineEncoder: Sendable {
    /// How unsigned counters are written.
    public enum UnsignedEncoding: Sendable {
        /// As signed integers (`42i`), which every InfluxDB reads; values
        /// above 2^63 - 1 are written as 2^63 - 1.
        case integer
        /// As unsigned integers (`42u`): InfluxDB 1.8 (with the feature
        /// enabled) and 2.x only.
        case unsigned
    }

    public var unsignedEncoding: UnsignedEncoding

    public init(unsignedEncoding: UnsignedEncoding = .integer) {
        self.unsignedEncoding = unsignedEncoding
    }

    /// Appends one line per enabled source that has a field to report.
    /// Does not sample: call `metrics.sample()` first.
    ///
    /// - Returns: The number of lines (points) written.
    @discardableResult
    public func encode(_ metrics: Metrics, timestamp: UInt64, into output: inout [UInt8]) -> Int {
        var points = 0
        for source in metrics.sources where source.isEnabled {
            if encode(source, tags: metrics.effectiveTags(of: source), timestamp: timestamp, into: &output) {
                points += 1
            }
        }
        return points
    }

    /// Appends the line of `source` with `tags` (sorted by key). Returns
    /// false, writing nothing, if no field had a value line protocol can
    /// carry.
    @discardableResult
    public func encode(
        _ source: MetricSource, tags: [MetricTag], timestamp: UInt64, into output: inout [UInt8]
    )
        -> Bool
    {
        let start = output.count
        appendEscaped(source.name, escaping: .measurement, to: &output)
        for tag in tags where !tag.key.utf8.isEmpty && !tag.value.utf8.isEmpty {
            output.append(UInt8(ascii: ","))
            appendEscaped(tag.key, escaping: .key, to: &output)
            output.append(UInt8(ascii: "="))
            appendEscaped(tag.value, escaping: .key, to: &output)
        }
        output.append(UInt8(ascii: " "))
        var fields = 0
        for field in source.fields {
            fields += appendField(field, of: source, separatorFirst: fields > 0, to: &output)
        }
        guard fields > 0 else {
            output.removeSubrange(start...)
            return false
        }
        output.append(UInt8(ascii: " "))
        DecimalText.append(timestamp, to: &output)
        output.append(UInt8(ascii: "\n"))
        return true
    }

    /// Appends `field`'s key=value pairs; returns how many.
    private func appendField(
        _ field: MetricField, of source: MetricSource, separatorFirst: Bool, to output: inout [UInt8]
    ) -> Int {
        var written = 0
        func key(_ suffix: String) {
            if separatorFirst || written > 0 { output.append(UInt8(ascii: ",")) }
            appendEscaped(field.name, escaping: .key, to: &output)
            appendUnitSuffix(field, to: &output)
            appendEscaped(suffix, escaping: .key, to: &output)
            output.append(UInt8(ascii: "="))
            written += 1
        }
        switch field.kind {
        case .counter:
            key("")
            appendUnsigned(source.slot(field.slot), to: &output)
        case .gauge:
            key("")
            DecimalText.append(Int64(bitPattern: source.slot(field.slot)), to: &output)
            output.append(UInt8(ascii: "i"))
        case .floatGauge:
            let value = Double(bitPattern: source.slot(field.slot))
            guard value.isFinite else { return 0 }
            key("")
            DecimalText.append(value, to: &output)
        case .histogram:
            key("_count")
            appendUnsigned(source.slot(field.slot), to: &output)
            let sum = Double(bitPattern: source.slot(field.slot + 1))
            if sum.isFinite {
                key("_sum")
                DecimalText.append(sum, to: &output)
            }
            var cumulative: UInt64 = 0
            for (index, bound) in field.bounds.enumerated() {
                cumulative &+= source.slot(field.slot + 2 + index)
                var suffix: [UInt8] = Array("_le_".utf8)
                DecimalText.append(bound, to: &suffix)
                key(String(decoding: suffix, as: UTF8.self))
                appendUnsigned(cumulative, to: &output)
            }
        }
        return written
    }

    private func appendUnsigned(_ value: UInt64, to output: inout [UInt8]) {
        switch unsignedEncoding {
        case .integer:
            DecimalText.append(Swift.min(value, UInt64(Int64.max)), to: &output)
            output.append(UInt8(ascii: "i"))
        case .unsigned:
            DecimalText.append(value, to: &output)
            output.append(UInt8(ascii: "u"))
        }
    }

    /// `_bytes`, `_seconds` or `_ns`, unless the name ends with it already.
    private func appendUnitSuffix(_ field: MetricField, to output: inout [UInt8]) {
        let suffix: StaticString
        switch field.unit {
        case .none: return
        case .bytes: suffix = "_bytes"
        case .seconds: suffix = "_seconds"
        case .nanoseconds: suffix = "_ns"
        }
        let bytes = UnsafeBufferPointer(start: suffix.utf8Start, count: suffix.utf8CodeUnitCount)
        guard !field.name.utf8.reversed().starts(with: bytes.reversed()) else { return }
        output.append(contentsOf: bytes)
    }

    enum Element {
        /// Escape commas and spaces.
        case measurement
        /// Escape commas, equals signs and spaces (tag keys and values,
        /// field keys).
        case key
    }

    func appendEscaped(_ text: String, escaping element: Element, to output: inout [UInt8]) {
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: ","), UInt8(ascii: " "):
                output.append(UInt8(ascii: "\\"))
                output.append(byte)
            case UInt8(ascii: "="):
                if element == .key { output.append(UInt8(ascii: "\\")) }
                output.append(byte)
            case UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                output.append(UInt8(ascii: "\\"))
                output.append(UInt8(ascii: " "))
            case UInt8(ascii: "\\"):
                output.append(UInt8(ascii: "/"))
            default:
                output.append(byte)
            }
        }
    }
}
