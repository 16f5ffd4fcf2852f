// Errors of the wire formats: why a packet's bytes were refused.
//
// Parsers in RiadNet never trap on input: every length, offset and field is
// checked, and a packet that fails a check is refused with one of these.
// The errors carry no allocation: what was wrong is a string literal.

/// Why a packet's bytes could not be parsed (or a value could not be emitted).
///
/// ```swift
/// guard version == 4 else { throw WireError.malformed("version") }
/// ```
public enum WireError: Error, Sendable, CustomStringConvertible {
    /// The buffer is shorter than the header, or than a length field says.
    case truncated
    /// A field holds a value the format forbids; the payload names the field.
    case malformed(StaticString)
    /// A checksum did not verify.
    case badChecksum
    /// The packet is well formed but uses something this stack does not
    /// implement (another hardware type, IPv4 options it must act on...).
    case unsupported(StaticString)

    /// "truncated", "malformed version", "bad checksum", "unsupported
    /// hardware type".
    public var description: String {
        switch self {
        case .truncated: return "truncated"
        case .malformed(let field): return "malformed " + WireError.text(field)
        case .badChecksum: return "bad checksum"
        case .unsupported(let what): return "unsupported " + WireError.text(what)
        }
    }

    private static func text(_ literal: StaticString) -> String {
        guard literal.hasPointerRepresentation else { return "?" }
        return String(
            decoding: UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount),
            as: UTF8.self)
    }
}

extension WireError: Equatable {
    /// Errors are equal when their cases and their field names are.
    public static func == (lhs: WireError, rhs: WireError) -> Bool {
        switch (lhs, rhs) {
        case (.truncated, .truncated), (.badChecksum, .badChecksum): return true
        case (.malformed(let a), .malformed(let b)), (.unsupported(let a), .unsupported(let b)):
            return sameText(a, b)
        default: return false
        }
    }

    private static func sameText(_ a: StaticString, _ b: StaticString) -> Bool {
        guard a.hasPointerRepresentation, b.hasPointerRepresentation else {
            return a.hasPointerRepresentation == b.hasPointerRepresentation
                && a.unicodeScalar == b.unicodeScalar
        }
        guard a.utf8CodeUnitCount == b.utf8CodeUnitCount else { return false }
        for index in 0..<a.utf8CodeUnitCount where a.utf8Start[index] != b.utf8Start[index] {
            return false
        }
        return true
    }
}
