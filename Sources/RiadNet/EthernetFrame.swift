// Ethernet II frames: IEEE 802.3 clause 3.2 (the MAC frame), RFC 894 (IPv4
// over Ethernet), the IEEE EtherType registry.
//
// A frame here runs from the destination address to the end of the payload:
// no preamble, no frame check sequence (the device strips and adds them),
// as `NetworkDevice` lends it.

import Riad

/// The type of an Ethernet II frame's payload (IEEE 802.3 clause 3.2.6).
///
/// Values below 0x0600 are not types but IEEE 802.3 lengths (an LLC frame);
/// `EthernetRepr.parse` refuses them.
public struct EtherType: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: UInt16

    public init(rawValue: UInt16) {
        self.rawValue = rawValue
    }

    /// 0x0800, RFC 894.
    public static let ipv4 = EtherType(rawValue: 0x0800)
    /// 0x0806, RFC 826.
    public static let arp = EtherType(rawValue: 0x0806)
    /// 0x86dd, RFC 2464.
    public static let ipv6 = EtherType(rawValue: 0x86dd)
    /// 0x8100, an IEEE 802.1Q VLAN tag.
    public static let vlan = EtherType(rawValue: 0x8100)

    /// The smallest value that is a type rather than an 802.3 length.
    public static let minimumType: UInt16 = 0x0600

    /// "IPv4", "ARP", "IPv6", "802.1Q", or the number: "0x88cc".
    public var description: String {
        switch self {
        case .ipv4: return "IPv4"
        case .arp: return "ARP"
        case .ipv6: return "IPv6"
        case .vlan: return "802.1Q"
        default:
            var text = WireText()
            text.add(hex: UInt64(rawValue), digits: 4)
            return text.string
        }
    }
}

/// Field offsets of the Ethernet II header.
private enum Layout {
    static let destination = 0
    static let source = 6
    static let etherType = 12
    static let headerLength = 14
}

extension MACAddress {
    /// The address at `offset` in a buffer its caller has checked.
    @inline(__always)
    init(wire bytes: UnsafeRawBufferPointer, at offset: Int) {
        self.init(
            rawValue: UInt64(bytes.wireUInt16(at: offset)) << 32 | UInt64(bytes.wireUInt32(at: offset + 2)))
    }

    /// Writes the six octets at `offset` in a buffer its caller has checked.
    @inline(__always)
    func write(to bytes: UnsafeMutableRawBufferPointer, at offset: Int) {
        bytes.setWireUInt16(UInt16(truncatingIfNeeded: rawValue >> 32), at: offset)
        bytes.setWireUInt32(UInt32(truncatingIfNeeded: rawValue), at: offset + 2)
    }
}

/// A read-only view of an Ethernet II frame in place.
///
/// ```swift
/// let frame = try EthernetFrameView(checking: bytes)
/// if frame.etherType == .arp { let arp = try ARPPacketView(checking: frame.payload) }
/// ```
public struct EthernetFrameView {
    /// The whole frame, header first.
    public let bytes: UnsafeRawBufferPointer

    /// A view of `bytes`; throws `.truncated` if they cannot hold the header.
    public init(checking bytes: UnsafeRawBufferPointer) throws(WireError) {
        guard bytes.count >= Layout.headerLength else { throw .truncated }
        self.bytes = bytes
    }

    /// A view of bytes already known to hold the header.
    fileprivate init(unchecked bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    public var destination: MACAddress { MACAddress(wire: bytes, at: Layout.destination) }
    public var source: MACAddress { MACAddress(wire: bytes, at: Layout.source) }
    public var etherType: EtherType { EtherType(rawValue: bytes.wireUInt16(at: Layout.etherType)) }
    /// Everything after the header, padding included (a short IPv4 packet
    /// is padded to the 60-byte minimum frame: its own length says where it
    /// ends).
    public var payload: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: bytes[payloadRange]) }
    /// The payload's position in `bytes`.
    public var payloadRange: Range<Int> { Layout.headerLength..<bytes.count }
}

/// A writable view of an Ethernet II frame being built in place.
public struct MutableEthernetFrameView {
    /// The whole frame, header first.
    public let bytes: UnsafeMutableRawBufferPointer

    /// A view of `bytes`; throws `.truncated` if they cannot hold the header.
    public init(checking bytes: UnsafeMutableRawBufferPointer) throws(WireError) {
        guard bytes.count >= Layout.headerLength else { throw .truncated }
        self.bytes = bytes
    }

    /// The same frame, read-only.
    public var view: EthernetFrameView {
        EthernetFrameView(unchecked: UnsafeRawBufferPointer(bytes))
    }

    public var destination: MACAddress {
        get { view.destination }
        nonmutating set { newValue.write(to: bytes, at: Layout.destination) }
    }
    public var source: MACAddress {
        get { view.source }
        nonmutating set { newValue.write(to: bytes, at: Layout.source) }
    }
    public var etherType: EtherType {
        get { view.etherType }
        nonmutating set { bytes.setWireUInt16(newValue.rawValue, at: Layout.etherType) }
    }
    /// Everything after the header, for the next layer to fill.
    public var payload: UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(rebasing: bytes[Layout.headerLength...])
    }
}

/// The header of an Ethernet II frame as values.
///
/// ```swift
/// let ethernet = try EthernetRepr.parse(frame)
/// let reply = EthernetRepr(source: myMAC, destination: ethernet.source, etherType: .arp)
/// reply.emit(into: buffer)  // then the ARP packet at buffer[EthernetRepr.headerLength...]
/// ```
public struct EthernetRepr: Sendable, Hashable, CustomStringConvertible {
    public var source: MACAddress
    public var destination: MACAddress
    public var etherType: EtherType

    public init(source: MACAddress, destination: MACAddress, etherType: EtherType) {
        self.source = source
        self.destination = destination
        self.etherType = etherType
    }

    /// 14 bytes: two addresses and the type.
    public static let headerLength = Layout.headerLength

    /// The length of a frame carrying `payloadLength` bytes, before any
    /// padding to the 60-byte minimum (IEEE 802.3 clause 4.2.3.3), which the
    /// device or the host adds.
    public static func bufferLength(payloadLength: Int) -> Int {
        headerLength + payloadLength
    }

    /// The header of `frame`.
    ///
    /// - Throws: `.unsupported("IEEE 802.3 length field")` for a frame whose
    ///   type field is a length (below 0x0600): an 802.2 LLC frame, not
    ///   Ethernet II.
    public static func parse(_ frame: EthernetFrameView) throws(WireError) -> EthernetRepr {
        let etherType = frame.etherType
        guard etherType.rawValue >= EtherType.minimumType else {
            throw .unsupported("IEEE 802.3 length field")
        }
        return EthernetRepr(source: frame.source, destination: frame.destination, etherType: etherType)
    }

    /// The header of the frame in `bytes`.
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(WireError) -> EthernetRepr {
        try parse(EthernetFrameView(checking: bytes))
    }

    /// Writes the header at the start of `frame`, which MUST hold at least
    /// `headerLength` bytes; the payload goes after it.
    public func emit(into frame: UnsafeMutableRawBufferPointer) {
        precondition(frame.count >= Layout.headerLength, "Ethernet header does not fit")
        destination.write(to: frame, at: Layout.destination)
        source.write(to: frame, at: Layout.source)
        frame.setWireUInt16(etherType.rawValue, at: Layout.etherType)
    }

    /// "Ethernet 02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff type IPv4"
    public var description: String {
        var text = WireText()
        text.add("Ethernet ")
        text.add(source.description)
        text.add(" > ")
        text.add(destination.description)
        text.add(" type ")
        text.add(etherType.description)
        return text.string
    }
}
