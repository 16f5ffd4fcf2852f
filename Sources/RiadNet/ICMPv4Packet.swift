// ICMP for IPv4: RFC 792 (the messages), RFC 1122 section 3.2.2 (what a
// host must do with them), RFC 1191 (the next-hop MTU in "fragmentation
// needed"), RFC 1812 section 5.2.7.1 (the unreachable codes after 5).

import Riad

/// An ICMP message type (RFC 792; the IANA "ICMP Type Numbers" registry).
public struct ICMPv4Type: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: UInt8

    public init(rawValue: UInt8) {
        self.rawValue = rawValue
    }

    public static let echoReply = ICMPv4Type(rawValue: 0)
    public static let destinationUnreachable = ICMPv4Type(rawValue: 3)
    public static let redirect = ICMPv4Type(rawValue: 5)
    public static let echoRequest = ICMPv4Type(rawValue: 8)
    public static let timeExceeded = ICMPv4Type(rawValue: 11)
    public static let parameterProblem = ICMPv4Type(rawValue: 12)

    /// "echo reply", "destination unreachable", or "type 13".
    public var description: String {
        switch self {
        case .echoReply: return "echo reply"
        case .destinationUnreachable: return "destination unreachable"
        case .redirect: return "redirect"
        case .echoRequest: return "echo request"
        case .timeExceeded: return "time exceeded"
        case .parameterProblem: return "parameter problem"
        default:
            var text = WireText("type ")
            text.add(decimal: Int(rawValue))
            return text.string
        }
    }
}

/// Why a destination was unreachable: the code of a destination unreachable
/// message (RFC 792; RFC 1122 section 3.2.2.1 for 6 to 12; RFC 1812
/// section 5.2.7.1 for 13 to 15). Every byte is a value: RFC 1122 asks a
/// host to handle codes it does not know as their nearest kin.
public struct ICMPv4UnreachableCode: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: UInt8

    public init(rawValue: UInt8) {
        self.rawValue = rawValue
    }

    public static let networkUnreachable = ICMPv4UnreachableCode(rawValue: 0)
    public static let hostUnreachable = ICMPv4UnreachableCode(rawValue: 1)
    /// What a host answers to an unknown protocol (RFC 1122 section 3.2.2.1).
    public static let protocolUnreachable = ICMPv4UnreachableCode(rawValue: 2)
    /// What a host answers to UDP for a port nobody listens on (RFC 1122
    /// section 4.1.3.1).
    public static let portUnreachable = ICMPv4UnreachableCode(rawValue: 3)
    /// DF was set and the packet was too big; the message carries the next
    /// hop's MTU (RFC 1191 section 4).
    public static let fragmentationNeeded = ICMPv4UnreachableCode(rawValue: 4)
    public static let sourceRouteFailed = ICMPv4UnreachableCode(rawValue: 5)
    public static let communicationProhibited = ICMPv4UnreachableCode(rawValue: 13)

    /// "port unreachable", "fragmentation needed", or "unreachable code 9".
    public var description: String {
        switch self {
        case .networkUnreachable: return "net unreachable"
        case .hostUnreachable: return "host unreachable"
        case .protocolUnreachable: return "protocol unreachable"
        case .portUnreachable: return "port unreachable"
        case .fragmentationNeeded: return "fragmentation needed"
        case .sourceRouteFailed: return "source route failed"
        case .communicationProhibited: return "communication prohibited"
        default:
            var text = WireText("unreachable code ")
            text.add(decimal: Int(rawValue))
            return text.string
        }
    }
}

/// Why a packet was dropped on the way: the code of a time exceeded message
/// (RFC 792).
public struct ICMPv4TimeExceededCode: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: UInt8

    public init(rawValue: UInt8) {
        self.rawValue = rawValue
    }

    /// The time to live reached zero at a router.
    public static let timeToLiveExceeded = ICMPv4TimeExceededCode(rawValue: 0)
    /// The destination gave up reassembling the fragments.
    public static let reassemblyTimeExceeded = ICMPv4TimeExceededCode(rawValue: 1)

    /// "time exceeded in transit", "reassembly time exceeded", or "time
    /// exceeded code 7".
    public var description: String {
        switch self {
        case .timeToLiveExceeded: return "time exceeded in transit"
        case .reassemblyTimeExceeded: return "reassembly time exceeded"
        default:
            var text = WireText("time exceeded code ")
            text.add(decimal: Int(rawValue))
            return text.string
        }
    }
}

/// Field offsets of an ICMP message (RFC 792).
private enum Layout {
    static let type = 0
    static let code = 1
    static let checksum = 2
    /// Four bytes whose meaning depends on the type.
    static let restOfHeader = 4
    static let identifier = 4
    static let sequenceNumber = 6
    static let nextHopMTU = 6
    static let headerLength = 8
}

/// A read-only view of an ICMP message in place: the whole IPv4 payload.
public struct ICMPv4PacketView {
    /// The message, from its type to the end of its data: exactly the IPv4
    /// payload, since the checksum covers all of it.
    public let bytes: UnsafeRawBufferPointer

    /// A view of `bytes`; throws `.truncated` if they cannot hold the
    /// 8-byte header.
    public init(checking bytes: UnsafeRawBufferPointer) throws(WireError) {
        guard bytes.count >= Layout.headerLength else { throw .truncated }
        self.bytes = bytes
    }

    fileprivate init(unchecked bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    public var type: ICMPv4Type { ICMPv4Type(rawValue: bytes[Layout.type]) }
    public var code: UInt8 { bytes[Layout.code] }
    public var checksum: UInt16 { bytes.wireUInt16(at: Layout.checksum) }
    /// The four bytes after the checksum, whatever the type.
    public var restOfHeader: UInt32 { bytes.wireUInt32(at: Layout.restOfHeader) }
    /// Echo request and reply: which pinger.
    public var identifier: UInt16 { bytes.wireUInt16(at: Layout.identifier) }
    /// Echo request and reply: which ping.
    public var sequenceNumber: UInt16 { bytes.wireUInt16(at: Layout.sequenceNumber) }
    /// Fragmentation needed: the next hop's MTU, or 0 from a router older
    /// than RFC 1191.
    public var nextHopMTU: UInt16 { bytes.wireUInt16(at: Layout.nextHopMTU) }
    /// Everything after the 8-byte header: an echo's data, or an error's
    /// quoted packet.
    public var payload: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[Layout.headerLength...])
    }

    /// The packet an error message quotes (destination unreachable, time
    /// exceeded, and the other errors): its header and the start of its
    /// payload, which the view's `payload` gives.
    ///
    /// - Throws: `.truncated` or `.malformed` if the payload does not start
    ///   with an IPv4 header.
    public func quotedPacket() throws(WireError) -> IPv4PacketView {
        try IPv4PacketView(checkingHeader: payload)
    }

    /// Whether the checksum verifies: the message, its checksum included,
    /// sums to zero (RFC 792).
    public var checksumIsValid: Bool { InternetChecksum.of(bytes) == 0 }
}

/// A writable view of an ICMP message being built in place.
public struct MutableICMPv4PacketView {
    /// The message: its length is the IPv4 payload's, for the checksum.
    public let bytes: UnsafeMutableRawBufferPointer

    /// A view of `bytes`; throws `.truncated` if they cannot hold the
    /// 8-byte header.
    public init(checking bytes: UnsafeMutableRawBufferPointer) throws(WireError) {
        guard bytes.count >= Layout.headerLength else { throw .truncated }
        self.bytes = bytes
    }

    init(unchecked bytes: UnsafeMutableRawBufferPointer) {
        self.bytes = bytes
    }

    /// The same message, read-only.
    public var view: ICMPv4PacketView { ICMPv4PacketView(unchecked: UnsafeRawBufferPointer(bytes)) }

    public var type: ICMPv4Type {
        get { view.type }
        nonmutating set { bytes[Layout.type] = newValue.rawValue }
    }
    public var code: UInt8 {
        get { view.code }
        nonmutating set { bytes[Layout.code] = newValue }
    }
    public var checksum: UInt16 {
        get { view.checksum }
        nonmutating set { bytes.setWireUInt16(newValue, at: Layout.checksum) }
    }
    public var restOfHeader: UInt32 {
        get { view.restOfHeader }
        nonmutating set { bytes.setWireUInt32(newValue, at: Layout.restOfHeader) }
    }
    public var identifier: UInt16 {
        get { view.identifier }
        nonmutating set { bytes.setWireUInt16(newValue, at: Layout.identifier) }
    }
    public var sequenceNumber: UInt16 {
        get { view.sequenceNumber }
        nonmutating set { bytes.setWireUInt16(newValue, at: Layout.sequenceNumber) }
    }
    public var nextHopMTU: UInt16 {
        get { view.nextHopMTU }
        nonmutating set { bytes.setWireUInt16(newValue, at: Layout.nextHopMTU) }
    }
    /// Everything after the 8-byte header, for the data.
    public var payload: UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(rebasing: bytes[Layout.headerLength...])
    }

    /// Computes the checksum over the whole message and writes it.
    public func fillChecksum() {
        checksum = 0
        checksum = InternetChecksum.of(view.bytes)
    }
}
