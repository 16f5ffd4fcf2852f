/// A strict reader of InfluxDB line protocol, to check what the encoder
/// writes: it refuses everything the line protocol reference does not
/// allow (and NaN, infinities, trailing backslashes, empty tag values,
/// duplicate fields, missing timestamps).
struct LineProtocolPoint: Equatable {
    enum Value: Equatable {
        case integer(Int64)
        case unsigned(UInt64)
        case float(Double)
    }

    var measurement: String
    var tags: [String: String]
    /// Tag keys in the order written.
    var tagOrder: [String]
    var fields: [String: Value]
    var fieldOrder: [String]
    var timestamp: Int64
}

struct LineProtocolError: Error, CustomStringConvertible {
    let description: String
}

enum LineProtocolParser {
    /// Parses every line of `text`, which must end with a newline.
    static func parse(_ text: String) throws -> [LineProtocolPoint] {
        guard text.isEmpty || text.hasSuffix("\n") else {
            throw LineProtocolError(description: "no final newline")
        }
        return try text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map {
            try parseLine(Array($0.utf8))
        }
    }

    static func parseLine(_ line: [UInt8]) throws -> LineProtocolPoint {
        var index = 0
        func fail(_ why: String) -> LineProtocolError {
            LineProtocolError(description: "\(why) at \(index) in `\(String(decoding: line, as: UTF8.self))`")
        }
        /// Reads an escaped element up to one of `stops` (unescaped).
        func element(stops: Set<UInt8>, escapable: Set<UInt8>) throws -> String {
            var bytes: [UInt8] = []
            while index < line.count, !stops.contains(line[index]) {
                let byte = line[index]
                if byte == UInt8(ascii: "\\") {
                    guard index + 1 < line.count else { throw fail("trailing backslash") }
                    let next = line[index + 1]
                    if escapable.contains(next) {
                        bytes.append(next)
                        index += 2
                        continue
                    }
                    // Line protocol would keep it as a backslash, but the
                    // encoder writes backslashes only as escapes.
                    throw fail("backslash before \(Character(UnicodeScalar(next)))")
                }
                if byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") { throw fail("newline") }
                if byte == UInt8(ascii: "\"") { throw fail("quote in an identifier") }
                bytes.append(byte)
                index += 1
            }
            guard !bytes.isEmpty else { throw fail("empty element") }
            return String(decoding: bytes, as: UTF8.self)
        }
        let comma = UInt8(ascii: ",")
        let space = UInt8(ascii: " ")
        let equals = UInt8(ascii: "=")

        guard line.first != UInt8(ascii: "#") else { throw fail("a comment") }
        let measurement = try element(stops: [comma, space], escapable: [comma, space])
        var tags: [String: String] = [:]
        var tagOrder: [String] = []
        while index < line.count && line[index] == comma {
            index += 1
            let key = try element(stops: [equals, comma, space], escapable: [comma, space, equals])
            guard index < line.count, line[index] == equals else { throw fail("tag without =") }
            index += 1
            let value = try element(stops: [equals, comma, space], escapable: [comma, space, equals])
            guard tags[key] == nil else { throw fail("duplicate tag") }
            tags[key] = value
            tagOrder.append(key)
        }
        guard index < line.count, line[index] == space else { throw fail("no field set") }
        index += 1
        var fields: [String: LineProtocolPoint.Value] = [:]
        var fieldOrder: [String] = []
        repeat {
            if !fieldOrder.isEmpty { index += 1 }
            let key = try element(stops: [equals, comma, space], escapable: [comma, space, equals])
            guard index < line.count, line[index] == equals else { throw fail("field without =") }
            index += 1
            let start = index
            while index < line.count && line[index] != comma && line[index] != space { index += 1 }
            let text = String(decoding: line[start..<index], as: UTF8.self)
            guard let value = fieldValue(text) else { throw fail("bad field value `\(text)`") }
            guard fields[key] == nil else { throw fail("duplicate field") }
            fields[key] = value
            fieldOrder.append(key)
        } while index < line.count && line[index] == comma
        guard index < line.count, line[index] == space else { throw fail("no timestamp") }
        index += 1
        let stamp = String(decoding: line[index...], as: UTF8.self)
        guard stamp.allSatisfy(\.isNumber), let timestamp = Int64(stamp) else { throw fail("bad timestamp") }
        return LineProtocolPoint(
            measurement: measurement, tags: tags, tagOrder: tagOrder, fields: fields, fieldOrder: fieldOrder,
            timestamp: timestamp)
    }

    /// Integers `-?[0-9]+i` in Int64, unsigned `[0-9]+u`, floats as Go's
    /// ParseFloat reads them in decimal (no NaN, no Inf, no hex).
    static func fieldValue(_ text: String) -> LineProtocolPoint.Value? {
        if text.hasSuffix("i") {
            let digits = text.dropLast()
            guard isInteger(digits, signed: true), let value = Int64(digits) else { return nil }
            return .integer(value)
        }
        if text.hasSuffix("u") {
            let digits = text.dropLast()
            guard isInteger(digits, signed: false), let value = UInt64(digits) else { return nil }
            return .unsigned(value)
        }
        let float = #/^[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?$/#
        guard text.wholeMatch(of: float) != nil, let value = Double(text), value.isFinite else { return nil }
        return .float(value)
    }

    private static func isInteger(_ text: Substring, signed: Bool) -> Bool {
        var digits = text
        if signed, digits.first == "-" { digits = digits.dropFirst() }
        return !digits.isEmpty && digits.allSatisfy { $0.isASCII && $0.isNumber }
    }
}
