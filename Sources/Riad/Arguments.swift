/// Runtime arguments of the form `--name=value` (or `--flag`), read from the
/// kernel's command line.
///
/// Each lookup names its argument and default; a value that does not parse
/// is reported with the argument's name and what was expected, and the
/// kernel stops with `ExitStatus.usage`, the same on every target.
public struct Arguments {
    /// The `--name=value` pairs, in order. A bare `--flag` has value "".
    public let pairs: [(name: String, value: String)]
    /// Words that do not start with `--`.
    public let positional: [String]

    public init(_ words: [String]) {
        var pairs: [(name: String, value: String)] = []
        var positional: [String] = []
        for word in words where !word.isEmpty {
            let bytes = Array(word.utf8)
            guard bytes.count > 2, bytes[0] == UInt8(ascii: "-"), bytes[1] == UInt8(ascii: "-")
            else {
                positional.append(word)
                continue
            }
            if let equals = bytes.firstIndex(of: UInt8(ascii: "=")) {
                pairs.append(
                    (
                        String(decoding: bytes[2..<equals], as: UTF8.self),
                        String(decoding: bytes[(equals + 1)...], as: UTF8.self)
                    ))
            } else {
                pairs.append((String(decoding: bytes[2...], as: UTF8.self), ""))
            }
        }
        self.pairs = pairs
        self.positional = positional
    }

    /// The last value given for `name`, if any.
    public func value(_ name: String) -> String? {
        var found: String?
        for pair in pairs where pair.name.utf8.elementsEqual(name.utf8) { found = pair.value }
        return found
    }

    /// The names given that are not in `known`: unknown arguments.
    public func unknown(known: [String]) -> [String] {
        pairs.map { $0.name }.filter { name in
            !known.contains { $0.utf8.elementsEqual(name.utf8) }
        }
    }

    /// Parses a non-negative decimal integer, nil if `text` is not one.
    public static func parseUnsigned(_ text: String) -> UInt64? {
        guard !text.utf8.isEmpty, text.utf8.count <= 20 else { return nil }
        var value: UInt64 = 0
        for byte in text.utf8 {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
            guard !o1, !o2 else { return nil }
            value = sum
        }
        return value
    }
}
