// Where the InfluxReporter sends line protocol, and the little HTTP/1.1 it
// needs for InfluxDB 1.x's write endpoint (RFC 9112): one POST per batch on
// a kept-alive connection, and the status line and framing headers of the
// answer. Written here, over `TCPStream`, so that metrics do not depend on
// the HTTP client's API.

/// A line-protocol sink: Telegraf's `socket_listener` over TCP, or
/// InfluxDB's `/write` over HTTP.
public struct InfluxSink: Sendable {
    public enum Transport: Sendable {
        /// Lines over a TCP connection, nothing answered (Telegraf's
        /// `socket_listener` with `service_address = "tcp://:8094"`).
        case tcp
        /// `POST /write?db=DATABASE` (InfluxDB 1.x, and 2.x's 1.x
        /// compatibility API), each batch answered with 204.
        case http(database: String)
    }

    /// A host name or a dotted quad, resolved by the stack at each connection.
    public var host: String
    public var port: UInt16
    public var transport: Transport

    public init(host: String, port: UInt16, transport: Transport) {
        self.host = host
        self.port = port
        self.transport = transport
    }
}

/// The head of an HTTP/1.1 POST of `length` bytes of line protocol to
/// `/write?db=DATABASE` on `host:port`.
func influxWriteRequestHead(host: String, port: UInt16, database: String, length: Int) -> [UInt8] {
    var head: [UInt8] = Array("POST /write?db=".utf8)
    // The database is a query value: percent-encode all but RFC 3986's
    // unreserved characters (section 2.3).
    for byte in database.utf8 {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
            UInt8(ascii: "~"):
            head.append(byte)
        default:
            let digits: [UInt8] = Array("0123456789ABCDEF".utf8)
            head.append(UInt8(ascii: "%"))
            head.append(digits[Int(byte >> 4)])
            head.append(digits[Int(byte & 0x0f)])
        }
    }
    // RFC 9112 section 3.2: a client sends Host in every HTTP/1.1 request.
    head.append(contentsOf: " HTTP/1.1\r\nHost: ".utf8)
    head.append(contentsOf: host.utf8)
    head.append(UInt8(ascii: ":"))
    DecimalText.append(UInt64(port), to: &head)
    head.append(contentsOf: "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ".utf8)
    DecimalText.append(UInt64(length), to: &head)
    head.append(contentsOf: "\r\n\r\n".utf8)
    return head
}

/// What the reporter needs of a response: the status and how the message
/// ends (RFC 9112 section 6.3).
struct HTTPResponseHead {
    var status: Int
    /// Content-Length, if given.
    var contentLength: Int?
    /// The connection cannot carry another request: `Connection: close`,
    /// HTTP/1.0, or a body whose end only closing shows (chunked or no
    /// length) that we do not read.
    var closes: Bool

    /// Parses a head (status line and header fields, up to and including
    /// the empty line). Nil if it is not one.
    static func parse(_ head: ArraySlice<UInt8>) -> HTTPResponseHead? {
        var lines: [ArraySlice<UInt8>] = []
        var start = head.startIndex
        var index = head.startIndex
        while index + 1 < head.endIndex {
            if head[index] == UInt8(ascii: "\r") && head[index + 1] == UInt8(ascii: "\n") {
                lines.append(head[start..<index])
                index += 2
                start = index
            } else {
                index += 1
            }
        }
        // RFC 9112 section 4: HTTP-version SP status-code SP [reason-phrase].
        guard let statusLine = lines.first, statusLine.count >= 12,
            statusLine.starts(with: "HTTP/1.".utf8),
            statusLine[statusLine.startIndex + 8] == UInt8(ascii: " ")
        else { return nil }
        var status = 0
        for byte in statusLine[(statusLine.startIndex + 9)..<(statusLine.startIndex + 12)] {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            status = status * 10 + Int(byte - UInt8(ascii: "0"))
        }
        var response = HTTPResponseHead(
            status: status, contentLength: nil,
            closes: statusLine[statusLine.startIndex + 7] == UInt8(ascii: "0"))
        for line in lines.dropFirst() where !line.isEmpty {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return nil }
            let name = line[line.startIndex..<colon]
            let value = trimmed(line[(colon + 1)...])
            if equalsIgnoringCase(name, "content-length") {
                var length = 0
                for byte in value {
                    guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9"), length < 1 << 40 else {
                        return nil
                    }
                    length = length * 10 + Int(byte - UInt8(ascii: "0"))
                }
                guard !value.isEmpty else { return nil }
                response.contentLength = length
            } else if equalsIgnoringCase(name, "connection") && containsIgnoringCase(value, "close") {
                response.closes = true
            } else if equalsIgnoringCase(name, "transfer-encoding") {
                response.closes = true
            }
        }
        // 204 and 304 have no content (RFC 9110 sections 15.3.5, 15.4.5).
        if response.contentLength == nil && status != 204 && status != 304 { response.closes = true }
        return response
    }

    private static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var value = bytes
        while let first = value.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") {
            value = value.dropFirst()
        }
        while let last = value.last, last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") {
            value = value.dropLast()
        }
        return value
    }

    private static func lowercased(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte
    }

    private static func equalsIgnoringCase(_ bytes: ArraySlice<UInt8>, _ lowercase: StaticString) -> Bool {
        let expected = UnsafeBufferPointer(start: lowercase.utf8Start, count: lowercase.utf8CodeUnitCount)
        return bytes.count == expected.count && zip(bytes, expected).allSatisfy { lowercased($0) == $1 }
    }

    private static func containsIgnoringCase(_ bytes: ArraySlice<UInt8>, _ lowercase: StaticString) -> Bool {
        let expected = UnsafeBufferPointer(start: lowercase.utf8Start, count: lowercase.utf8CodeUnitCount)
        guard bytes.count >= expected.count else { return false }
        var start = bytes.startIndex
        while start + expected.count <= bytes.endIndex {
            if zip(bytes[start..<(start + expected.count)], expected).allSatisfy({ lowercased($0) == $1 }) {
                return true
            }
            start += 1
        }
        return false
    }
}
