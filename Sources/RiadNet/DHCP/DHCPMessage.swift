// The DHCPv4 message: RFC 2131 section 2 "Protocol Summary" (the BOOTP
// header of RFC 951 with a variable options field), section 3 (the magic
// cookie), RFC 2132 (the options) and its section 9.6 (message types).
//
//     0                   1                   2                   3
//     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//    +---------------+---------------+---------------+---------------+
//    |     op (1)    |   htype (1)   |   hlen (1)    |   hops (1)    |
//    |                            xid (4)                            |
//    |           secs (2)            |           flags (2)           |
//    |          ciaddr (4)  yiaddr (4)  siaddr (4)  giaddr (4)       |
//    |                          chaddr (16)                          |
//    |                          sname  (64)                          |
//    |                          file   (128)                         |
//    |            magic cookie 99.130.83.99, then options            |

import Riad

/// The DHCP message types (RFC 2132 section 9.6, option 53).
public enum DHCPMessageType: UInt8, Sendable, Hashable {
    case discover = 1
    case offer = 2
    case request = 3
    case decline = 4
    case ack = 5
    case nak = 6
    case release = 7
    case inform = 8

    /// Whether a client sends it: the BOOTP op is BOOTREQUEST (1) for
    /// these and BOOTREPLY (2) for the server's (RFC 2131 section 3.1).
    public var isFromClient: Bool {
        switch self {
        case .offer, .ack, .nak: return false
        default: return true
        }
    }

    /// "DISCOVER", "ACK"...
    public var name: StaticString {
        switch self {
        case .discover: return "DISCOVER"
        case .offer: return "OFFER"
        case .request: return "REQUEST"
        case .decline: return "DECLINE"
        case .ack: return "ACK"
        case .nak: return "NAK"
        case .release: return "RELEASE"
        case .inform: return "INFORM"
        }
    }
}

/// A read-only view of a DHCP message whose fixed part (the BOOTP header
/// and the magic cookie) has been checked to be present.
public struct DHCPMessage {
    /// Offsets of the fixed fields (RFC 2131 section 2, figure 1).
    enum Field {
        static let op = 0
        static let hardwareType = 1
        static let hardwareLength = 2
        static let hops = 3
        static let transactionID = 4
        static let secondsElapsed = 8
        static let flags = 10
        static let clientAddress = 12
        static let yourAddress = 16
        static let serverAddress = 20
        static let relayAgentAddress = 24
        static let clientHardwareAddress = 28
        static let serverName = 44
        static let bootFile = 108
        static let magicCookie = 236
        static let options = 240
    }

    /// BOOTREQUEST and BOOTREPLY (RFC 951, RFC 2131 section 2).
    public static let bootRequest: UInt8 = 1
    public static let bootReply: UInt8 = 2
    /// 99.130.83.99 (RFC 2131 section 3, RFC 2132 section 2).
    public static let magicCookie: UInt32 = 0x6382_5363
    /// The BROADCAST bit of `flags` (RFC 2131 section 2, figure 2).
    public static let broadcastFlag: UInt16 = 0x8000
    /// The fixed part: 236 octets of BOOTP header and the 4-octet cookie.
    public static let fixedLength = 240
    /// RFC 1542 section 2.1: BOOTP messages are at least 300 octets, and
    /// some relays and servers still drop shorter ones.
    public static let minimumEmittedLength = 300

    /// The UDP payload: fixed part and options.
    public let bytes: UnsafeRawBufferPointer

    /// Checks that the fixed part and the magic cookie are there.
    ///
    /// - Throws: `.truncated` for fewer than 240 octets,
    ///   `.malformed("magic cookie")` for a BOOTP message that is not DHCP.
    public init(_ bytes: UnsafeRawBufferPointer) throws(WireError) {
        guard bytes.count >= DHCPMessage.fixedLength else { throw .truncated }
        guard bytes.wireUInt32(at: Field.magicCookie) == DHCPMessage.magicCookie else {
            throw .malformed("magic cookie")
        }
        self.bytes = bytes
    }

    public var op: UInt8 { bytes[Field.op] }
    /// 1 for Ethernet (RFC 1700 "ARP hardware types").
    public var hardwareType: UInt8 { bytes[Field.hardwareType] }
    public var hardwareLength: UInt8 { bytes[Field.hardwareLength] }
    public var hops: UInt8 { bytes[Field.hops] }
    public var transactionID: UInt32 { bytes.wireUInt32(at: Field.transactionID) }
    public var secondsElapsed: UInt16 { bytes.wireUInt16(at: Field.secondsElapsed) }
    public var flags: UInt16 { bytes.wireUInt16(at: Field.flags) }
    /// ciaddr
    public var clientAddress: IPv4Address { IPv4Address(wire: bytes, at: Field.clientAddress) }
    /// yiaddr
    public var yourAddress: IPv4Address { IPv4Address(wire: bytes, at: Field.yourAddress) }
    /// siaddr
    public var serverAddress: IPv4Address { IPv4Address(wire: bytes, at: Field.serverAddress) }
    /// giaddr
    public var relayAgentAddress: IPv4Address { IPv4Address(wire: bytes, at: Field.relayAgentAddress) }
    /// The first six octets of chaddr: the client's Ethernet address.
    public var clientHardwareAddress: MACAddress {
        var value: UInt64 = 0
        for index in 0..<6 { value = value << 8 | UInt64(bytes[Field.clientHardwareAddress + index]) }
        return MACAddress(rawValue: value)
    }

    /// The options field, after the magic cookie.
    public var options: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[DHCPMessage.fixedLength...])
    }
}

/// Up to three IPv4 addresses, inline: the DNS servers of option 6. A
/// list is in order of preference (RFC 2132 section 3.8), so the first
/// three are the ones worth keeping.
public struct DHCPAddressList: RandomAccessCollection, Sendable, Hashable {
    public static let capacity = 3
    private var first = IPv4Address.unspecified
    private var second = IPv4Address.unspecified
    private var third = IPv4Address.unspecified
    public private(set) var count = 0

    public init() {}

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }

    public subscript(index: Int) -> IPv4Address {
        precondition(index >= 0 && index < count, "address index out of range")
        switch index {
        case 0: return first
        case 1: return second
        default: return third
        }
    }

    /// Adds `address` at the end; returns false (and adds nothing) when full.
    @discardableResult
    public mutating func append(_ address: IPv4Address) -> Bool {
        switch count {
        case 0: first = address
        case 1: second = address
        case 2: third = address
        default: return false
        }
        count += 1
        return true
    }

    public static func == (lhs: DHCPAddressList, rhs: DHCPAddressList) -> Bool {
        lhs.elementsEqual(rhs)
    }

    public func hash(into hasher: inout Hasher) {
        for address in self { hasher.combine(address) }
    }
}

/// Up to 32 octets, inline: a client identifier (RFC 2132 section 9.14)
/// or a parameter request list (section 9.8).
public struct DHCPOptionBytes: RandomAccessCollection, Sendable, Hashable {
    public static let capacity = 32
    private var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    public private(set) var count = 0

    public init() {}

    /// The bytes of `bytes`; nil if there are more than 32.
    public init?<Bytes: Collection>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        guard bytes.count <= DHCPOptionBytes.capacity else { return nil }
        for byte in bytes { append(byte) }
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }

    public subscript(index: Int) -> UInt8 {
        precondition(index >= 0 && index < count, "option byte index out of range")
        let shift = UInt64(8 * (7 - index % 8))
        switch index / 8 {
        case 0: return UInt8(truncatingIfNeeded: words.0 >> shift)
        case 1: return UInt8(truncatingIfNeeded: words.1 >> shift)
        case 2: return UInt8(truncatingIfNeeded: words.2 >> shift)
        default: return UInt8(truncatingIfNeeded: words.3 >> shift)
        }
    }

    /// Adds `byte` at the end; returns false (and adds nothing) when full.
    @discardableResult
    public mutating func append(_ byte: UInt8) -> Bool {
        guard count < DHCPOptionBytes.capacity else { return false }
        let bits = UInt64(byte) << UInt64(8 * (7 - count % 8))
        switch count / 8 {
        case 0: words.0 |= bits
        case 1: words.1 |= bits
        case 2: words.2 |= bits
        default: words.3 |= bits
        }
        count += 1
        return true
    }

    public static func == (lhs: DHCPOptionBytes, rhs: DHCPOptionBytes) -> Bool {
        lhs.count == rhs.count && lhs.words == rhs.words
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(count)
        hasher.combine(words.0)
        hasher.combine(words.1)
        hasher.combine(words.2)
        hasher.combine(words.3)
    }
}
