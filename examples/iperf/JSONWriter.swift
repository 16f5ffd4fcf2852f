// The results iperf3's client reads, as compact JSON, and the numbers in
// them and on the console as text.

/// Writes compact JSON, commas placed as values follow one another.
struct JSONWriter {
    private(set) var bytes: [UInt8] = []
    /// Whether the next value or key needs a comma before it.
    private var needsComma = false

    mutating func openObject() {
        separate()
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
    }

    mutating func closeObject() {
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    mutating func openArray() {
        separate()
        bytes.append(UInt8(ascii: "["))
        needsComma = false
    }

    mutating func closeArray() {
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }

    /// A member's key; its value follows.
    mutating func key(_ name: String) {
        string(name)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    mutating func integer(_ value: Int64) {
        separate()
        bytes.append(contentsOf: String(value).utf8)
        needsComma = true
    }

    /// A non-negative number with `places` decimals (`2.000512`).
    mutating func decimal(_ value: Double, places: Int) {
        separate()
        bytes.append(contentsOf: Decimal.text(value, places: places).utf8)
        needsComma = true
    }

    mutating func string(_ text: String) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                bytes.append(UInt8(ascii: "\\"))
                bytes.append(byte)
            case 0..<0x20:
                bytes.append(contentsOf: "\\u00".utf8)
                bytes.append(Decimal.hexDigit(byte >> 4))
                bytes.append(Decimal.hexDigit(byte & 0xF))
            default:
                bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
        needsComma = true
    }

    private mutating func separate() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
    }
}

/// Numbers as text without Foundation (and without `Double.description`,
/// which Embedded Swift lacks).
enum Decimal {
    /// `value` rounded to `places` decimals (at most 9); negative, NaN and
    /// infinite values are 0, values past 10^9 saturate: enough for
    /// seconds, percentages and Gbit/s.
    static func text(_ value: Double, places: Int) -> String {
        let places = max(0, min(places, 9))
        var scale: UInt64 = 1
        for _ in 0..<places { scale *= 10 }
        var units: UInt64 = 0
        if value.isFinite && value > 0 {
            let scaled = value * Double(scale) + 0.5
            units = scaled < 1e18 ? UInt64(scaled) : 1_000_000_000 * scale
        }
        var text = String(units / scale)
        guard places > 0 else { return text }
        let fraction = String(units % scale)
        text += "."
        for _ in 0..<(places - fraction.utf8.count) { text += "0" }
        return text + fraction
    }

    static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }
}
