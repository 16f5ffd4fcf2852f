import Riad

// Just enough JSON for iperf3's control messages: the reader of what the
// client sends (the writer of the results is in JSONWriter.swift). It
// takes bytes from the network, so every step is bounds-checked, numbers
// saturate instead of overflowing, and nesting is limited: hostile input
// is an error, never a trap.

/// A parsed JSON value.
enum JSONValue {
    case null
    case bool(Bool)
    /// The number truncated towards zero and saturated to Int64, as iperf3
    /// reads its parameters (cJSON's `valueint`): they are all integers.
    case number(Int64)
    /// The string's UTF-8 bytes, escapes decoded.
    case string([UInt8])
    case array([JSONValue])
    /// Members in their order; a repeated key keeps its first value when
    /// looked up, as in cJSON.
    case object([JSONMember])

    /// The value of `key` if this is an object that has it.
    subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        for member in members where key.utf8.elementsEqual(member.key) { return member.value }
        return nil
    }

    var integer: Int64? {
        if case .number(let value) = self { return value }
        return nil
    }
}

struct JSONMember {
    let key: [UInt8]
    let value: JSONValue
}

/// Parses one JSON document (RFC 8259) from bytes a peer sent.
struct JSONReader {
    /// Deeper nesting is refused: it bounds the recursion (iperf3's
    /// messages nest three levels).
    static let maximumDepth = 16

    private let bytes: [UInt8]
    private var index = 0

    private init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// The document in `bytes`; whitespace and NUL bytes may follow it.
    ///
    /// - Throws: `.protocolError` naming the byte where the JSON goes wrong.
    static func parse(_ bytes: [UInt8]) throws(RiadError) -> JSONValue {
        var reader = JSONReader(bytes)
        reader.skipWhitespace()
        let value = try reader.value(depth: 0)
        while let byte = reader.peek, byte == 0 || isWhitespace(byte) { reader.index += 1 }
        guard reader.peek == nil else { throw reader.failure("text after the JSON value") }
        return value
    }

    private var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    private static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    private mutating func skipWhitespace() {
        while let byte = peek, Self.isWhitespace(byte) { index += 1 }
    }

    private func failure(_ what: String) -> RiadError {
        RiadError(.protocolError, "bad JSON at byte \(index): \(what)")
    }

    /// Consumes `word` (a literal such as `true`) or fails.
    private mutating func expect(_ word: String) throws(RiadError) {
        for byte in word.utf8 {
            guard peek == byte else { throw failure("expected \(word)") }
            index += 1
        }
    }

    private mutating func value(depth: Int) throws(RiadError) -> JSONValue {
        guard let byte = peek else { throw failure("unexpected end") }
        switch byte {
        case UInt8(ascii: "{"):
            return try object(depth: depth + 1)
        case UInt8(ascii: "["):
            return try array(depth: depth + 1)
        case UInt8(ascii: "\""):
            return .string(try string())
        case UInt8(ascii: "t"):
            try expect("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try expect("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try expect("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return .number(try number())
        default:
            throw failure("unexpected byte \(byte)")
        }
    }

    private mutating func object(depth: Int) throws(RiadError) -> JSONValue {
        guard depth <= Self.maximumDepth else { throw failure("nested too deeply") }
        index += 1  // {
        var members: [JSONMember] = []
        skipWhitespace()
        if peek == UInt8(ascii: "}") {
            index += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard peek == UInt8(ascii: "\"") else { throw failure("expected a key") }
            let key = try string()
            skipWhitespace()
            try expect(":")
            skipWhitespace()
            members.append(JSONMember(key: key, value: try value(depth: depth)))
            skipWhitespace()
            guard let next = peek else { throw failure("unexpected end") }
            index += 1
            if next == UInt8(ascii: "}") { return .object(members) }
            guard next == UInt8(ascii: ",") else { throw failure("expected , or }") }
        }
    }

    private mutating func array(depth: Int) throws(RiadError) -> JSONValue {
        guard depth <= Self.maximumDepth else { throw failure("nested too deeply") }
        index += 1  // [
        var elements: [JSONValue] = []
        skipWhitespace()
        if peek == UInt8(ascii: "]") {
            index += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try value(depth: depth))
            skipWhitespace()
            guard let next = peek else { throw failure("unexpected end") }
            index += 1
            if next == UInt8(ascii: "]") { return .array(elements) }
            guard next == UInt8(ascii: ",") else { throw failure("expected , or ]") }
        }
    }

    private mutating func string() throws(RiadError) -> [UInt8] {
        index += 1  // "
        var text: [UInt8] = []
        while true {
            guard let byte = peek else { throw failure("unterminated string") }
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                return text
            case UInt8(ascii: "\\"):
                try escape(into: &text)
            case 0..<0x20:
                throw failure("control byte in a string")
            default:
                text.append(byte)
            }
        }
    }

    private mutating func escape(into text: inout [UInt8]) throws(RiadError) {
        guard let byte = peek else { throw failure("unterminated escape") }
        index += 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): text.append(byte)
        case UInt8(ascii: "b"): text.append(0x08)
        case UInt8(ascii: "f"): text.append(0x0C)
        case UInt8(ascii: "n"): text.append(0x0A)
        case UInt8(ascii: "r"): text.append(0x0D)
        case UInt8(ascii: "t"): text.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try hex4()
            if scalar >= 0xD800 && scalar < 0xDC00 {
                // A high surrogate: whole only with the low one after it.
                guard peek == UInt8(ascii: "\\"), index + 1 < bytes.count,
                    bytes[index + 1] == UInt8(ascii: "u")
                else {
                    appendUTF8(0xFFFD, to: &text)
                    return
                }
                index += 2
                let low = try hex4()
                guard low >= 0xDC00 && low < 0xE000 else {
                    appendUTF8(0xFFFD, to: &text)
                    appendUTF8(low >= 0xD800 && low < 0xE000 ? 0xFFFD : low, to: &text)
                    return
                }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if scalar >= 0xDC00 && scalar < 0xE000 {
                scalar = 0xFFFD
            }
            appendUTF8(scalar, to: &text)
        default:
            throw failure("unknown escape")
        }
    }

    private mutating func hex4() throws(RiadError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let byte = peek else { throw failure("unterminated escape") }
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw failure("bad \\u escape")
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    private func appendUTF8(_ scalar: UInt32, to text: inout [UInt8]) {
        switch scalar {
        case 0..<0x80:
            text.append(UInt8(scalar))
        case 0x80..<0x800:
            text.append(0xC0 | UInt8(scalar >> 6))
            text.append(0x80 | UInt8(scalar & 0x3F))
        case 0x800..<0x10000:
            text.append(0xE0 | UInt8(scalar >> 12))
            text.append(0x80 | UInt8(scalar >> 6 & 0x3F))
            text.append(0x80 | UInt8(scalar & 0x3F))
        default:
            text.append(0xF0 | UInt8(truncatingIfNeeded: scalar >> 18))
            text.append(0x80 | UInt8(scalar >> 12 & 0x3F))
            text.append(0x80 | UInt8(scalar >> 6 & 0x3F))
            text.append(0x80 | UInt8(scalar & 0x3F))
        }
    }

    /// `-?digits[.digits][(e|E)[+-]digits]`, truncated towards zero and
    /// saturated: `1.5e3` is 1500, `1e400` is Int64.max, `2.9` is 2.
    private mutating func number() throws(RiadError) -> Int64 {
        let negative = peek == UInt8(ascii: "-")
        if negative { index += 1 }
        // The significant digits, as many as fit, and the power of ten
        // they are to be scaled by.
        var mantissa: UInt64 = 0
        var scale = 0
        var digits = 0
        while let byte = peek, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
            if !accumulate(&mantissa, byte) { scale += 1 }
            index += 1
            digits += 1
        }
        guard digits > 0 else { throw failure("a number without digits") }
        if peek == UInt8(ascii: ".") {
            index += 1
            var fraction = 0
            while let byte = peek, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                if accumulate(&mantissa, byte) { scale -= 1 }
                index += 1
                fraction += 1
            }
            guard fraction > 0 else { throw failure("a number without digits after .") }
        }
        if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            index += 1
            var exponentNegative = false
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") {
                exponentNegative = peek == UInt8(ascii: "-")
                index += 1
            }
            var exponent = 0
            var exponentDigits = 0
            while let byte = peek, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                // Beyond 10^40 every Int64 has saturated or vanished.
                if exponent < 1000 { exponent = exponent * 10 + Int(byte - UInt8(ascii: "0")) }
                index += 1
                exponentDigits += 1
            }
            guard exponentDigits > 0 else { throw failure("an exponent without digits") }
            scale += exponentNegative ? -exponent : exponent
        }
        var magnitude = mantissa
        if scale > 0 {
            for _ in 0..<min(scale, 40) where magnitude != 0 {
                let (product, overflow) = magnitude.multipliedReportingOverflow(by: 10)
                magnitude = overflow ? .max : product
            }
        } else if scale < 0 {
            for _ in 0..<min(-scale, 40) { magnitude /= 10 }
        }
        if negative { return magnitude > UInt64(Int64.max) ? .min : -Int64(magnitude) }
        return magnitude > UInt64(Int64.max) ? .max : Int64(magnitude)
    }

    /// Appends a decimal digit to `mantissa` if it fits; false if not.
    private func accumulate(_ mantissa: inout UInt64, _ byte: UInt8) -> Bool {
        guard mantissa <= (UInt64.max - 9) / 10 else { return false }
        mantissa = mantissa * 10 + UInt64(byte - UInt8(ascii: "0"))
        return true
    }
}
