// The DNS message header: RFC 1035 section 4.1.1, with the AD and CD bits
// of RFC 4035 section 3.2 and the response codes of RFC 1035 and the IANA
// registry (RFC 6895 section 2.3). Types and classes: RFC 1035 section 3.2.
//
//                                    1  1  1  1  1  1
//      0  1  2  3  4  5  6  7  8  9  0  1  2  3  4  5
//    +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
//    |                      ID                       |
//    |QR|   Opcode  |AA|TC|RD|RA| Z|AD|CD|   RCODE   |
//    |                    QDCOUNT                    |
//    |                    ANCOUNT                    |
//    |                    NSCOUNT                    |
//    |                    ARCOUNT                    |

/// A DNS response code (RFC 1035 section 4.1.1, RFC 6895 section 2.3).
public struct DNSResponseCode: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    /// The four bits of the header's RCODE.
    public var rawValue: UInt8

    public init(rawValue: UInt8) {
        self.rawValue = rawValue & 0xf
    }

    public static let noError = DNSResponseCode(rawValue: 0)
    /// The server could not interpret the query.
    public static let formatError = DNSResponseCode(rawValue: 1)
    /// The server failed (SERVFAIL).
    public static let serverFailure = DNSResponseCode(rawValue: 2)
    /// The name does not exist (NXDOMAIN), said by an authoritative server.
    public static let nameError = DNSResponseCode(rawValue: 3)
    public static let notImplemented = DNSResponseCode(rawValue: 4)
    public static let refused = DNSResponseCode(rawValue: 5)

    /// "NOERROR", "NXDOMAIN", or "RCODE 9".
    public var description: String {
        switch rawValue {
        case 0: return "NOERROR"
        case 1: return "FORMERR"
        case 2: return "SERVFAIL"
        case 3: return "NXDOMAIN"
        case 4: return "NOTIMP"
        case 5: return "REFUSED"
        default:
            var text = WireText("RCODE ")
            text.add(decimal: Int(rawValue))
            return text.string
        }
    }
}

/// Resource record types and classes this stack knows (RFC 1035 section
/// 3.2.2 and 3.2.4).
enum DNSType {
    static let a: UInt16 = 1
    static let cname: UInt16 = 5
    static let classIN: UInt16 = 1
}

/// A read-only view of a DNS message whose 12-octet header is there.
public struct DNSMessage {
    enum Field {
        static let id = 0
        static let flags = 2
        static let questionCount = 4
        static let answerCount = 6
        static let authorityCount = 8
        static let additionalCount = 10
    }

    public static let headerLength = 12

    /// The whole message: compression pointers count from its start.
    public let bytes: UnsafeRawBufferPointer

    /// - Throws: `.truncated` for fewer than 12 octets.
    public init(_ bytes: UnsafeRawBufferPointer) throws(WireError) {
        guard bytes.count >= DNSMessage.headerLength else { throw .truncated }
        self.bytes = bytes
    }

    public var id: UInt16 { bytes.wireUInt16(at: Field.id) }
    /// QR, Opcode, AA, TC, RD, RA, Z, AD, CD and RCODE as one word.
    public var flags: UInt16 { bytes.wireUInt16(at: Field.flags) }
    public var questionCount: UInt16 { bytes.wireUInt16(at: Field.questionCount) }
    public var answerCount: UInt16 { bytes.wireUInt16(at: Field.answerCount) }
    public var authorityCount: UInt16 { bytes.wireUInt16(at: Field.authorityCount) }
    public var additionalCount: UInt16 { bytes.wireUInt16(at: Field.additionalCount) }
}

/// The meaning of a DNS header.
public struct DNSHeader: Sendable, Hashable {
    public var id: UInt16
    /// QR: a response rather than a query.
    public var isResponse = false
    /// 0 for a standard query (QUERY), the only kind this stack sends.
    public var opcode: UInt8 = 0
    /// AA: the answer comes from an authority for the name.
    public var isAuthoritative = false
    /// TC: the message was truncated to fit; ask again over TCP (RFC 7766).
    public var isTruncated = false
    /// RD: the client asks the server to recurse.
    public var recursionDesired = false
    /// RA: the server recurses.
    public var recursionAvailable = false
    /// AD (RFC 4035 section 3.2.3): the server validated the data (DNSSEC).
    public var authenticData = false
    /// CD (RFC 4035 section 3.2.2): the client will validate.
    public var checkingDisabled = false
    public var responseCode = DNSResponseCode.noError
    public var questionCount: UInt16 = 0
    public var answerCount: UInt16 = 0
    public var authorityCount: UInt16 = 0
    public var additionalCount: UInt16 = 0

    public init(id: UInt16) {
        self.id = id
    }

    enum Bit {
        static let response: UInt16 = 0x8000
        static let authoritative: UInt16 = 0x0400
        static let truncated: UInt16 = 0x0200
        static let recursionDesired: UInt16 = 0x0100
        static let recursionAvailable: UInt16 = 0x0080
        static let authenticData: UInt16 = 0x0020
        static let checkingDisabled: UInt16 = 0x0010
    }

    /// The header of `message`. The Z bit, which "must be zero in all
    /// queries and responses" (RFC 1035 section 4.1.1), is ignored.
    public init(_ message: DNSMessage) {
        let flags = message.flags
        id = message.id
        isResponse = flags & Bit.response != 0
        opcode = UInt8(truncatingIfNeeded: flags >> 11) & 0xf
        isAuthoritative = flags & Bit.authoritative != 0
        isTruncated = flags & Bit.truncated != 0
        recursionDesired = flags & Bit.recursionDesired != 0
        recursionAvailable = flags & Bit.recursionAvailable != 0
        authenticData = flags & Bit.authenticData != 0
        checkingDisabled = flags & Bit.checkingDisabled != 0
        responseCode = DNSResponseCode(rawValue: UInt8(truncatingIfNeeded: flags))
        questionCount = message.questionCount
        answerCount = message.answerCount
        authorityCount = message.authorityCount
        additionalCount = message.additionalCount
    }

    /// Parses the header at the start of `bytes`.
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(WireError) -> DNSHeader {
        DNSHeader(try DNSMessage(bytes))
    }

    /// The flags word.
    public var flags: UInt16 {
        var flags = UInt16(opcode & 0xf) << 11 | UInt16(responseCode.rawValue)
        if isResponse { flags |= Bit.response }
        if isAuthoritative { flags |= Bit.authoritative }
        if isTruncated { flags |= Bit.truncated }
        if recursionDesired { flags |= Bit.recursionDesired }
        if recursionAvailable { flags |= Bit.recursionAvailable }
        if authenticData { flags |= Bit.authenticData }
        if checkingDisabled { flags |= Bit.checkingDisabled }
        return flags
    }

    /// Writes the 12 octets at the start of `bytes`, which must hold them.
    public func emit(into bytes: UnsafeMutableRawBufferPointer) {
        precondition(bytes.count >= DNSMessage.headerLength, "DNS buffer too small")
        bytes.setWireUInt16(id, at: DNSMessage.Field.id)
        bytes.setWireUInt16(flags, at: DNSMessage.Field.flags)
        bytes.setWireUInt16(questionCount, at: DNSMessage.Field.questionCount)
        bytes.setWireUInt16(answerCount, at: DNSMessage.Field.answerCount)
        bytes.setWireUInt16(authorityCount, at: DNSMessage.Field.authorityCount)
        bytes.setWireUInt16(additionalCount, at: DNSMessage.Field.additionalCount)
    }
}
