/// The one error type of the tender.
///
/// riad-hvt is a command-line program: every failure ends with one message
/// printed for a person and a non-zero exit. So an error carries nothing but
/// that message, written as one sentence that names the file, device or field
/// at fault, what was expected and what was found, for example
/// `kernel.hvt: segment 2 (vaddr 0x200000, 0x3000 bytes) overlaps segment 1`.
/// Throwing functions declare `throws(TenderError)`, so callers never need a
/// catch-all for errors of unknown type.
public struct TenderError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The whole message, ready to print after the program name.
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public init(message: String) {
        self.message = message
    }

    public var description: String { message }
}

extension TenderError {
    /// An error about `subject` (a file name, a device, an option):
    /// `"\(subject): \(problem)"`, the usual shape of a tender message.
    public static func about(_ subject: String, _ problem: String) -> TenderError {
        TenderError("\(subject): \(problem)")
    }

    /// `value` as `0x...` in lower-case hexadecimal. Addresses, sizes and
    /// offsets in messages are written this way so that they can be compared
    /// with the output of `readelf` and `objdump` directly.
    public static func hex<T: BinaryInteger>(_ value: T) -> String {
        "0x" + String(value, radix: 16)
    }
}
