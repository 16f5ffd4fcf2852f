// The answer to an A query: RFC 1035 section 4.1.3 (resource records:
// NAME, TYPE, CLASS, TTL, RDLENGTH, RDATA), section 3.4.1 (A RDATA: four
// octets) and 3.3.1 (CNAME RDATA: a name). Aliases are followed within the
// message as a stub resolver does (RFC 1034 section 3.6.2: the answer to a
// query for an alias holds the CNAME and then the records of the canonical
// name); TTLs with the top bit set count as 0 (RFC 2181 section 8).

/// One IPv4 address of the answer and how long it may be cached.
public struct DNSAddressRecord: Sendable, Hashable {
    public var address: IPv4Address
    /// Seconds: the smaller of the A record's TTL and those of the aliases
    /// that led to it.
    public var ttl: UInt32

    public init(address: IPv4Address, ttl: UInt32) {
        self.address = address
        self.ttl = ttl
    }
}

/// Up to eight address records, inline: no allocation. Records past the
/// eighth are checked but not kept.
public struct DNSAddressRecords: RandomAccessCollection, Sendable, Hashable {
    public static let capacity = 8
    private var storage:
        (
            DNSAddressRecord, DNSAddressRecord, DNSAddressRecord, DNSAddressRecord,
            DNSAddressRecord, DNSAddressRecord, DNSAddressRecord, DNSAddressRecord
        )
    public private(set) var count = 0

    public init() {
        let empty = DNSAddressRecord(address: .unspecified, ttl: 0)
        storage = (empty, empty, empty, empty, empty, empty, empty, empty)
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }

    public subscript(index: Int) -> DNSAddressRecord {
        precondition(index >= 0 && index < count, "address record index out of range")
        switch index {
        case 0: return storage.0
        case 1: return storage.1
        case 2: return storage.2
        case 3: return storage.3
        case 4: return storage.4
        case 5: return storage.5
        case 6: return storage.6
        default: return storage.7
        }
    }

    /// Adds `record` at the end; returns false (and adds nothing) when full.
    @discardableResult
    public mutating func append(_ record: DNSAddressRecord) -> Bool {
        switch count {
        case 0: storage.0 = record
        case 1: storage.1 = record
        case 2: storage.2 = record
        case 3: storage.3 = record
        case 4: storage.4 = record
        case 5: storage.5 = record
        case 6: storage.6 = record
        case 7: storage.7 = record
        default: return false
        }
        count += 1
        return true
    }

    public static func == (lhs: DNSAddressRecords, rhs: DNSAddressRecords) -> Bool {
        lhs.elementsEqual(rhs)
    }

    public func hash(into hasher: inout Hasher) {
        for record in self { hasher.combine(record) }
    }
}

/// A response to an A query: its header, the response code, and the IPv4
/// addresses of the name asked for (through aliases).
///
/// An error from the server is not a parse error: NXDOMAIN parses, with
/// `responseCode == .nameError` and no addresses. A name that exists but
/// has no A record parses with `.noError` and no addresses.
public struct DNSResponse: Sendable, Hashable, CustomStringConvertible {
    public var header: DNSHeader
    public var addresses = DNSAddressRecords()
    /// How many aliases (CNAME records) led from the name asked for to the
    /// name whose addresses these are.
    public var aliasCount = 0

    public init(header: DNSHeader) {
        self.header = header
    }

    public var responseCode: DNSResponseCode { header.responseCode }

    /// Aliases followed at most: more is a loop, or a chain nobody needs.
    public static let maximumAliases = 8

    /// Parses a response to `query`: it must be a response, carry the
    /// query's id and ask its question (RFC 5452 section 9.1).
    ///
    /// - Throws: what `parse(_:)` throws; `.malformed("id")` or
    ///   `.malformed("question")` for a response to another query.
    public static func parse(_ bytes: UnsafeRawBufferPointer, for query: DNSQuery) throws(WireError)
        -> DNSResponse
    {
        let response = try parse(bytes)
        guard response.header.id == query.id else { throw .malformed("id") }
        // A server refusing the query may not repeat the question (RFC 1035
        // leaves it open); there is then nothing to compare.
        if response.header.questionCount == 1 {
            guard try DNSNameReader.equal(bytes, DNSMessage.headerLength, dotted: query.name.utf8) else {
                throw .malformed("question")
            }
        }
        return response
    }

    /// Parses a response to an A query, whatever its id and name: the header,
    /// the question, and every record of every section (names, lengths,
    /// pointers); then collects the A records of the question's name, or of
    /// the name its aliases lead to.
    ///
    /// - Throws: `.truncated` if a section ends early; `.malformed("QR")`
    ///   for a query, `.malformed("opcode")`, `.malformed("question")` for
    ///   other than one A/IN question (none is allowed with an error code),
    ///   `.malformed(...)` for a bad name or record.
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(WireError) -> DNSResponse {
        let message = try DNSMessage(bytes)
        var response = DNSResponse(header: DNSHeader(message))
        let header = response.header
        guard header.isResponse else { throw .malformed("QR") }
        guard header.opcode == 0 else { throw .malformed("opcode") }
        guard header.questionCount == 1 || (header.questionCount == 0 && header.responseCode != .noError)
        else { throw .malformed("question") }

        var position = DNSMessage.headerLength
        if header.questionCount == 1 {
            position = try DNSNameReader.skip(bytes, at: position)
            guard bytes.count - position >= 4 else { throw .truncated }
            guard bytes.wireUInt16(at: position) == DNSType.a,
                bytes.wireUInt16(at: position + 2) == DNSType.classIN
            else { throw .malformed("question") }
            position += 4
        }

        // Check every record once; remember where the answers are.
        let answers = position
        let records = Int(header.answerCount) + Int(header.authorityCount) + Int(header.additionalCount)
        for _ in 0..<records {
            position = try Record(bytes, at: position).end
        }
        guard header.questionCount == 1 else { return response }

        // Follow aliases from the question's name (RFC 1034 section 3.6.2).
        var name = DNSMessage.headerLength
        var ttl = UInt32.max
        var aliased = true
        while aliased {
            aliased = false
            position = answers
            for _ in 0..<header.answerCount {
                let record = try Record(bytes, at: position)
                position = record.end
                if record.type == DNSType.cname, record.recordClass == DNSType.classIN,
                    try DNSNameReader.equal(bytes, record.name, name)
                {
                    guard response.aliasCount < maximumAliases else { throw .malformed("CNAME chain") }
                    response.aliasCount += 1
                    name = record.data.lowerBound
                    ttl = Swift.min(ttl, record.ttl)
                    aliased = true
                    break
                }
            }
        }

        position = answers
        for _ in 0..<header.answerCount {
            let record = try Record(bytes, at: position)
            position = record.end
            if record.type == DNSType.a, record.recordClass == DNSType.classIN,
                try DNSNameReader.equal(bytes, record.name, name)
            {
                response.addresses.append(
                    DNSAddressRecord(
                        address: IPv4Address(wire: bytes, at: record.data.lowerBound),
                        ttl: Swift.min(ttl, record.ttl)))
            }
        }
        return response
    }

    /// One resource record, checked (RFC 1035 section 4.1.3).
    private struct Record {
        var name: Int
        var type: UInt16
        var recordClass: UInt16
        var ttl: UInt32
        var data: Range<Int>
        var end: Int { data.upperBound }

        init(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws(WireError) {
            name = offset
            let fields = try DNSNameReader.skip(bytes, at: offset)
            guard bytes.count - fields >= 10 else { throw .truncated }
            type = bytes.wireUInt16(at: fields)
            recordClass = bytes.wireUInt16(at: fields + 2)
            let rawTTL = bytes.wireUInt32(at: fields + 4)
            ttl = rawTTL & 0x8000_0000 == 0 ? rawTTL : 0
            let length = Int(bytes.wireUInt16(at: fields + 8))
            let start = fields + 10
            guard bytes.count - start >= length else { throw .truncated }
            data = start..<start + length
            guard recordClass == DNSType.classIN else { return }
            if type == DNSType.a {
                guard length == 4 else { throw .malformed("A record") }
            } else if type == DNSType.cname {
                // The alias's name must fill the record exactly.
                let nameEnd = try DNSNameReader.skip(bytes, at: start)
                guard nameEnd == data.upperBound else { throw .malformed("CNAME record") }
            }
        }
    }

    /// One line: "DNS 4660 NOERROR 1/0/0 A 93.184.216.34 ttl 300",
    /// "DNS 4660 NXDOMAIN 0/1/0".
    public var description: String {
        var text = WireText("DNS ")
        text.add(decimal: Int(header.id))
        text.add(" " as StaticString)
        text.add(header.responseCode.description)
        if header.isTruncated { text.add(" TC" as StaticString) }
        text.add(" " as StaticString)
        text.add(decimal: Int(header.answerCount))
        text.add("/" as StaticString)
        text.add(decimal: Int(header.authorityCount))
        text.add("/" as StaticString)
        text.add(decimal: Int(header.additionalCount))
        if aliasCount > 0 {
            text.add(" aliases " as StaticString)
            text.add(decimal: aliasCount)
        }
        for record in addresses {
            text.add(" A " as StaticString)
            text.add(record.address.description)
            text.add(" ttl " as StaticString)
            text.add(decimal: Int(record.ttl))
        }
        return text.string
    }
}
