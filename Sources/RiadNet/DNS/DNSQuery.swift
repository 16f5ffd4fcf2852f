// A DNS query for the IPv4 addresses of a name: RFC 1035 section 4.1.1
// (header) and 4.1.2 (question: QNAME, QTYPE A, QCLASS IN), one question per
// message as every server expects (RFC 9619 makes QDCOUNT > 1 an error).

/// A standard query for the A records of one name.
///
/// ```swift
/// let query = try DNSQuery(id: 0x1234, name: "example.com")
/// let length = query.emit(into: buffer)  // a UDP payload for port 53
/// ...
/// let response = try DNSResponse.parse(reply, for: query)
/// ```
public struct DNSQuery: Sendable, CustomStringConvertible {
    /// Chosen at random by the resolver, to match the response (RFC 5452
    /// section 9.2).
    public var id: UInt16
    /// The name asked for, dotted, without a trailing dot.
    public let name: String
    /// RD: ask the server to recurse, as a stub resolver does.
    public var recursionDesired = true

    /// A query for `name` ("example.com" or "example.com.").
    ///
    /// - Throws: `.malformed("name")`, `.malformed("label length")` or
    ///   `.malformed("name length")` unless the name is a host name
    ///   `DNSName.validate` accepts.
    public init(id: UInt16, name: String) throws(WireError) {
        nameLength = try DNSName.validate(name.utf8)
        self.id = id
        if name.utf8.last == UInt8(ascii: ".") {
            self.name = String(decoding: name.utf8.dropLast(), as: UTF8.self)
        } else {
            self.name = name
        }
    }

    /// The octets of the question's name on the wire.
    private let nameLength: Int

    /// The octets `emit` writes: header, name, type and class.
    public var bufferLength: Int { DNSMessage.headerLength + nameLength + 4 }

    /// Writes the query.
    ///
    /// - Parameter bytes: At least `bufferLength` octets.
    /// - Returns: `bufferLength`.
    @discardableResult
    public func emit(into bytes: UnsafeMutableRawBufferPointer) -> Int {
        precondition(bytes.count >= bufferLength, "DNS buffer too small")
        var header = DNSHeader(id: id)
        header.recursionDesired = recursionDesired
        header.questionCount = 1
        header.emit(into: bytes)
        let end = DNSName.write(name.utf8, to: bytes, at: DNSMessage.headerLength)
        bytes.setWireUInt16(DNSType.a, at: end)
        bytes.setWireUInt16(DNSType.classIN, at: end + 2)
        return end + 4
    }

    /// As tcpdump prints it: "DNS 4660+ A? example.com.".
    public var description: String {
        var text = WireText("DNS ")
        text.add(decimal: Int(id))
        if recursionDesired { text.add("+" as StaticString) }
        text.add(" A? " as StaticString)
        text.add(name)
        text.add("." as StaticString)
        return text.string
    }
}
