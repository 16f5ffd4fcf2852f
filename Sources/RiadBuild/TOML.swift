/// A small reader for the subset of TOML that unikernel manifests use:
/// comments, `key = value` with strings, integers, booleans and arrays of
/// those, `[table]` and `[[array-of-tables]]` headers, and dotted-free bare
/// keys. Anything else is an error that names the file and line.
///
/// Values keep the line they were written on, so that the manifest's own
/// checks can point at the line too.
public enum TOMLValue: Equatable {
    case string(String)
    case integer(Int)
    case boolean(Bool)
    case array([TOMLValue])

    /// The TOML type name, for messages ("expected a string, found an integer").
    public var typeName: String {
        switch self {
        case .string: return "a string"
        case .integer: return "an integer"
        case .boolean: return "a boolean"
        case .array: return "an array"
        }
    }
}

/// One `key = value` line.
public struct TOMLEntry: Equatable {
    public let key: String
    public let value: TOMLValue
    public let line: Int
}

/// A table: the top level, a `[name]` or one element of `[[name]]`.
public struct TOMLTable: Equatable {
    /// The header's name; "" for the top level.
    public let name: String
    public let line: Int
    public var entries: [TOMLEntry] = []

    public subscript(key: String) -> TOMLEntry? { entries.first { $0.key == key } }
}

public struct TOMLError: Error, Equatable, CustomStringConvertible {
    public let file: String
    public let line: Int
    public let message: String
    public var description: String { "\(file):\(line): \(message)" }
}

public enum TOML {
    /// Parses `text`; `file` names it in errors. Returns the tables in order,
    /// the top level first.
    public static func parse(_ text: String, file: String) throws(TOMLError) -> [TOMLTable] {
        var tables = [TOMLTable(name: "", line: 1)]
        var seenTables: Set<String> = []
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            func fail(_ message: String) -> TOMLError {
                TOMLError(file: file, line: lineNumber, message: message)
            }
            var scanner = Scanner(Array(rawLine.utf8))
            scanner.skipSpaces()
            if scanner.atEndOfLine { continue }
            if scanner.peek == UInt8(ascii: "[") {
                let isArray = scanner.starts(with: "[[")
                scanner.advance(isArray ? 2 : 1)
                scanner.skipSpaces()
                let name = scanner.bareKey()
                scanner.skipSpaces()
                guard !name.isEmpty, scanner.consume(isArray ? "]]" : "]") else {
                    throw fail("expected a table header like [name] or [[name]]")
                }
                scanner.skipSpaces()
                guard scanner.atEndOfLine else { throw fail("unexpected text after the table header") }
                if !isArray {
                    guard seenTables.insert(name).inserted else {
                        throw fail("table [\(name)] is defined twice")
                    }
                }
                tables.append(TOMLTable(name: name, line: lineNumber))
                continue
            }
            let key = scanner.bareKey()
            guard !key.isEmpty else {
                throw fail("expected `key = value`, found `\(String(decoding: rawLine.utf8, as: UTF8.self))`")
            }
            scanner.skipSpaces()
            guard scanner.consume("=") else { throw fail("expected `=` after key `\(key)`") }
            scanner.skipSpaces()
            let value: TOMLValue
            do { value = try scanner.value() } catch { throw fail("\(error.reason) (key `\(key)`)") }
            scanner.skipSpaces()
            guard scanner.atEndOfLine else { throw fail("unexpected text after the value of `\(key)`") }
            guard tables[tables.count - 1][key] == nil else {
                throw fail("key `\(key)` is given twice")
            }
            tables[tables.count - 1].entries.append(TOMLEntry(key: key, value: value, line: lineNumber))
        }
        return tables
    }
}

struct ScanError: Error { let reason: String }

/// A cursor over one line's bytes.
private struct Scanner {
    let bytes: [UInt8]
    var index = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var peek: UInt8? { index < bytes.count ? bytes[index] : nil }
    var atEndOfLine: Bool { peek == nil || peek == UInt8(ascii: "#") || peek == UInt8(ascii: "\r") }

    mutating func advance(_ count: Int = 1) { index += count }

    mutating func skipSpaces() {
        while let byte = peek, byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") { index += 1 }
    }

    func starts(with text: String) -> Bool { bytes[index...].starts(with: text.utf8) }

    mutating func consume(_ text: String) -> Bool {
        guard starts(with: text) else { return false }
        index += text.utf8.count
        return true
    }

    mutating func bareKey() -> String {
        let start = index
        while let byte = peek,
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        {
            index += 1
        }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    mutating func value() throws(ScanError) -> TOMLValue {
        guard let byte = peek else { throw ScanError(reason: "expected a value") }
        switch byte {
        case UInt8(ascii: "\""):
            return .string(try string())
        case UInt8(ascii: "["):
            advance()
            var elements: [TOMLValue] = []
            while true {
                skipSpaces()
                if consume("]") { return .array(elements) }
                elements.append(try value())
                skipSpaces()
                if consume(",") { continue }
                guard consume("]") else { throw ScanError(reason: "expected `,` or `]` in the array") }
                return .array(elements)
            }
        default:
            let word = bareKey()
            if word == "true" { return .boolean(true) }
            if word == "false" { return .boolean(false) }
            if let number = Int(word.filter { $0 != "_" }) { return .integer(number) }
            throw ScanError(reason: "expected a string, number, boolean or array, found `\(word)`")
        }
    }

    mutating func string() throws(ScanError) -> String {
        advance()
        var result: [UInt8] = []
        while let byte = peek {
            advance()
            if byte == UInt8(ascii: "\"") { return String(decoding: result, as: UTF8.self) }
            if byte == UInt8(ascii: "\\") {
                guard let escaped = peek else { break }
                advance()
                switch escaped {
                case UInt8(ascii: "n"): result.append(10)
                case UInt8(ascii: "t"): result.append(9)
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): result.append(escaped)
                default: throw ScanError(reason: "unsupported escape \\\(Character(UnicodeScalar(escaped)))")
                }
                continue
            }
            result.append(byte)
        }
        throw ScanError(reason: "unterminated string")
    }
}
