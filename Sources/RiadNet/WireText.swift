// One-line, tcpdump-style descriptions of packets, built from UTF-8 bytes:
// no Foundation formatting, no Character work, the same code in Embedded
// Swift and ordinary Swift. Descriptions are for logs and tests, not for
// the path of every packet, so building one may allocate.

/// A line of text under construction.
struct WireText {
    private(set) var bytes: [UInt8] = []

    init() {
        bytes.reserveCapacity(64)
    }

    init(_ text: String) {
        bytes = Array(text.utf8)
    }

    mutating func add(_ text: String) {
        bytes.append(contentsOf: text.utf8)
    }

    mutating func add(_ text: StaticString) {
        bytes.append(
            contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// `value` in decimal.
    mutating func add(decimal value: Int) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        appendDecimal(value.magnitude, to: &bytes)
    }

    /// `value` as "0x" and `digits` lower-case hexadecimal digits.
    mutating func add(hex value: UInt64, digits: Int) {
        let alphabet: StaticString = "0123456789abcdef"
        bytes.append(UInt8(ascii: "0"))
        bytes.append(UInt8(ascii: "x"))
        var shift = 4 * (digits - 1)
        while shift >= 0 {
            bytes.append(alphabet.utf8Start[Int((value >> UInt64(shift)) & 0xf)])
            shift -= 4
        }
    }

    var string: String { String(decoding: bytes, as: UTF8.self) }
}

/// Appends `value` in decimal to `text`.
func appendDecimal<Integer: UnsignedInteger>(_ value: Integer, to text: inout [UInt8]) {
    if value >= 10 { appendDecimal(value / 10, to: &text) }
    text.append(UInt8(ascii: "0") + UInt8(truncatingIfNeeded: value % 10))
}
