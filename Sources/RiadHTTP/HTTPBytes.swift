// The byte-level grammar HTTP is written in (RFC 9110 section 5.6, RFC 5234
// appendix B.1), on UTF-8 bytes: no Character or String comparison, so the
// same code is small in Embedded Swift and never needs Unicode tables.

/// Bytes with a name in the grammar.
enum ASCII {
    static let tab: UInt8 = 0x09
    static let lf: UInt8 = 0x0a
    static let cr: UInt8 = 0x0d
    static let space: UInt8 = 0x20
    static let colon: UInt8 = 0x3a
    static let semicolon: UInt8 = 0x3b
    static let comma: UInt8 = 0x2c
    static let slash: UInt8 = 0x2f
    static let dot: UInt8 = 0x2e
    static let question: UInt8 = 0x3f
    static let hash: UInt8 = 0x23
    static let zero: UInt8 = 0x30
    static let nine: UInt8 = 0x39

    /// `tchar` (RFC 9110 section 5.6.2): the bytes of a token, such as a
    /// method or a field name.
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "A")...UInt8(ascii: "Z"):
            return true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"),
            UInt8(ascii: "&"), UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"),
            UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
            UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    /// A byte allowed in a field value (RFC 9110 section 5.5: VCHAR,
    /// obs-text, SP and HTAB). Every other control byte, NUL, CR and LF
    /// among them, is refused: RFC 9110 5.5 lets a recipient reject them,
    /// and passing them on is how headers get injected.
    static func isFieldValueByte(_ byte: UInt8) -> Bool {
        byte == tab || (byte >= space && byte != 0x7f)
    }

    /// A byte allowed in a request-target: visible ASCII (RFC 9112 section
    /// 3.2 via RFC 3986's characters; anything else is not a valid URI).
    static func isTargetByte(_ byte: UInt8) -> Bool {
        byte > space && byte < 0x7f
    }

    static func isDigit(_ byte: UInt8) -> Bool {
        byte >= zero && byte <= nine
    }

    /// The value of a hexadecimal digit, nil for other bytes.
    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    static func lowercased(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
    }

    /// Equal ignoring ASCII case, as field names, methods' comparisons in
    /// lists and coding names are (RFC 9110 sections 5.1, 7.8, 8.4.1).
    static func equalsIgnoringCase<A: Collection, B: Collection>(_ a: A, _ b: B) -> Bool
    where A.Element == UInt8, B.Element == UInt8 {
        guard a.count == b.count else { return false }
        var j = b.startIndex
        for byte in a {
            if lowercased(byte) != lowercased(b[j]) { return false }
            j = b.index(after: j)
        }
        return true
    }

    /// `bytes` without optional whitespace (OWS: SP and HTAB) at either end.
    static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var start = bytes.startIndex
        var end = bytes.endIndex
        while start < end, bytes[start] == space || bytes[start] == tab { start += 1 }
        while end > start, bytes[end - 1] == space || bytes[end - 1] == tab { end -= 1 }
        return bytes[start..<end]
    }

    /// A non-negative decimal of 1 or more digits and nothing else, nil if
    /// anything else is there; values beyond `Int.max` saturate (every limit
    /// refuses them anyway).
    static func decimal(_ bytes: ArraySlice<UInt8>) -> Int? {
        guard !bytes.isEmpty else { return nil }
        var value = 0
        for byte in bytes {
            guard isDigit(byte) else { return nil }
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(Int(byte - zero))
            value = overflow1 || overflow2 ? .max : sum
        }
        return value
    }

    /// Calls `body` with each element of a comma-separated list (RFC 9110
    /// section 5.6.1), trimmed; empty elements are skipped, as recipients
    /// must accept them. Stops early when `body` returns false.
    static func forEachListElement(
        _ bytes: ArraySlice<UInt8>, _ body: (ArraySlice<UInt8>) -> Bool
    ) {
        var start = bytes.startIndex
        while start <= bytes.endIndex {
            var end = start
            while end < bytes.endIndex, bytes[end] != comma { end += 1 }
            let element = trimmed(bytes[start..<end])
            if !element.isEmpty, !body(element) { return }
            start = end + 1
        }
    }
}

/// Appends `value` in decimal.
func appendDecimal(_ value: Int, to bytes: inout [UInt8]) {
    if value < 0 { bytes.append(UInt8(ascii: "-")) }
    appendDecimal(magnitude: value.magnitude, to: &bytes)
}

private func appendDecimal(magnitude: UInt, to bytes: inout [UInt8]) {
    if magnitude >= 10 { appendDecimal(magnitude: magnitude / 10, to: &bytes) }
    bytes.append(ASCII.zero + UInt8(truncatingIfNeeded: magnitude % 10))
}

/// Appends `value` in lower-case hexadecimal, as chunk sizes are written.
func appendHexadecimal(_ value: Int, to bytes: inout [UInt8]) {
    let digits: StaticString = "0123456789abcdef"
    var shift = (Int.bitWidth - 4)
    while shift > 0, (value >> shift) & 0xf == 0 { shift -= 4 }
    while shift >= 0 {
        bytes.append(digits.utf8Start[(value >> shift) & 0xf])
        shift -= 4
    }
}

/// Appends the UTF-8 bytes of a string literal.
func appendLiteral(_ text: StaticString, to bytes: inout [UInt8]) {
    bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
}
