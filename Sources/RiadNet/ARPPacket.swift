// ARP, the Address Resolution Protocol: RFC 826, for IPv4 over Ethernet
// only (hardware type 1 from the IANA ARP parameters, protocol type 0x0800).
// RFC 5227 (address conflict detection) and RFC 5944's gratuitous ARP use
// the same two operations.

import Riad

/// Field offsets of the ARP packet (RFC 826 "Packet format").
private enum Layout {
    static let hardwareType = 0
    static let protocolType = 2
    static let hardwareLength = 4
    static let protocolLength = 5
    static let operation = 6
    /// The end of the fixed part; the four addresses follow.
    static let fixedLength = 8
    // The addresses for Ethernet and IPv4 (6-byte and 4-byte addresses).
    static let senderHardwareAddress = 8
    static let senderProtocolAddress = 14
    static let targetHardwareAddress = 18
    static let targetProtocolAddress = 24
    static let ethernetIPv4Length = 28

    /// ar$hrd for Ethernet (IANA "Hardware Types").
    static let ethernet: UInt16 = 1
}

/// A read-only view of an ARP packet of any hardware and protocol, in place.
public struct ARPPacketView {
    /// The packet, from the hardware type to the end of the target
    /// protocol address, and whatever followed it in the buffer.
    public let bytes: UnsafeRawBufferPointer

    /// A view of `bytes`; throws `.truncated` if they cannot hold the fixed
    /// part and the four addresses of the lengths it gives.
    public init(checking bytes: UnsafeRawBufferPointer) throws(WireError) {
        guard bytes.count >= Layout.fixedLength else { throw .truncated }
        self.bytes = bytes
        // At most 8 + 2 * (255 + 255): no overflow.
        guard bytes.count >= length else { throw .truncated }
    }

    fileprivate init(unchecked bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// ar$hrd: 1 for Ethernet.
    public var hardwareType: UInt16 { bytes.wireUInt16(at: Layout.hardwareType) }
    /// ar$pro: an EtherType, 0x0800 for IPv4.
    public var protocolType: EtherType { EtherType(rawValue: bytes.wireUInt16(at: Layout.protocolType)) }
    /// ar$hln: 6 for Ethernet.
    public var hardwareLength: UInt8 { bytes[Layout.hardwareLength] }
    /// ar$pln: 4 for IPv4.
    public var protocolLength: UInt8 { bytes[Layout.protocolLength] }
    /// ar$op: 1 for a request, 2 for a reply.
    public var operation: UInt16 { bytes.wireUInt16(at: Layout.operation) }

    /// The packet's length by its address lengths: 28 for Ethernet and IPv4.
    public var length: Int { Layout.fixedLength + 2 * (Int(hardwareLength) + Int(protocolLength)) }

    /// ar$sha
    public var senderHardwareAddress: UnsafeRawBufferPointer { address(0, hardware: true) }
    /// ar$spa
    public var senderProtocolAddress: UnsafeRawBufferPointer { address(0, hardware: false) }
    /// ar$tha
    public var targetHardwareAddress: UnsafeRawBufferPointer { address(1, hardware: true) }
    /// ar$tpa
    public var targetProtocolAddress: UnsafeRawBufferPointer { address(1, hardware: false) }

    /// The sender's (0) or the target's (1) address of either kind.
    private func address(_ party: Int, hardware: Bool) -> UnsafeRawBufferPointer {
        let hardwareLength = Int(self.hardwareLength)
        let protocolLength = Int(self.protocolLength)
        var start = Layout.fixedLength + party * (hardwareLength + protocolLength)
        if !hardware { start += hardwareLength }
        let count = hardware ? hardwareLength : protocolLength
        // The checking initializer makes the clamps no-ops; a view of a
        // packet being written (`MutableARPPacketView.view`) must not trap.
        start = min(start, bytes.count)
        return UnsafeRawBufferPointer(rebasing: bytes[start..<min(start + count, bytes.count)])
    }
}

/// A writable view of an Ethernet/IPv4 ARP packet (28 bytes) being built.
public struct MutableARPPacketView {
    public let bytes: UnsafeMutableRawBufferPointer

    /// A view of `bytes`; throws `.truncated` if they cannot hold the 28
    /// bytes of an Ethernet/IPv4 packet.
    public init(checking bytes: UnsafeMutableRawBufferPointer) throws(WireError) {
        guard bytes.count >= Layout.ethernetIPv4Length else { throw .truncated }
        self.bytes = bytes
    }

    /// The same packet, read-only.
    public var view: ARPPacketView { ARPPacketView(unchecked: UnsafeRawBufferPointer(bytes)) }

    public var hardwareType: UInt16 {
        get { view.hardwareType }
        nonmutating set { bytes.setWireUInt16(newValue, at: Layout.hardwareType) }
    }
    public var protocolType: EtherType {
        get { view.protocolType }
        nonmutating set { bytes.setWireUInt16(newValue.rawValue, at: Layout.protocolType) }
    }
    /// Setting a length other than 6 makes the address accessors below wrong.
    public var hardwareLength: UInt8 {
        get { view.hardwareLength }
        nonmutating set { bytes[Layout.hardwareLength] = newValue }
    }
    /// Setting a length other than 4 makes the address accessors below wrong.
    public var protocolLength: UInt8 {
        get { view.protocolLength }
        nonmutating set { bytes[Layout.protocolLength] = newValue }
    }
    public var operation: UInt16 {
        get { view.operation }
        nonmutating set { bytes.setWireUInt16(newValue, at: Layout.operation) }
    }
    public var senderHardwareAddress: MACAddress {
        get { MACAddress(wire: view.bytes, at: Layout.senderHardwareAddress) }
        nonmutating set { newValue.write(to: bytes, at: Layout.senderHardwareAddress) }
    }
    public var senderProtocolAddress: IPv4Address {
        get { IPv4Address(wire: view.bytes, at: Layout.senderProtocolAddress) }
        nonmutating set { newValue.write(to: bytes, at: Layout.senderProtocolAddress) }
    }
    public var targetHardwareAddress: MACAddress {
        get { MACAddress(wire: view.bytes, at: Layout.targetHardwareAddress) }
        nonmutating set { newValue.write(to: bytes, at: Layout.targetHardwareAddress) }
    }
    public var targetProtocolAddress: IPv4Address {
        get { IPv4Address(wire: view.bytes, at: Layout.targetProtocolAddress) }
        nonmutating set { newValue.write(to: bytes, at: Layout.targetProtocolAddress) }
    }
}

/// The two ARP operations (RFC 826 ar$op); RARP (RFC 903) and InARP
/// (RFC 2390) are not implemented.
public enum ARPOperation: UInt16, Sendable, Hashable {
    case request = 1
    case reply = 2
}

/// An Ethernet/IPv4 ARP packet as values.
///
/// ```swift
/// let request = ARPRepr(
///     operation: .request, senderHardwareAddress: myMAC, senderProtocolAddress: myIP,
///     targetHardwareAddress: MACAddress(rawValue: 0), targetProtocolAddress: gateway)
/// request.emit(into: buffer)
/// ```
public struct ARPRepr: Sendable, Hashable, CustomStringConvertible {
    public var operation: ARPOperation
    public var senderHardwareAddress: MACAddress
    public var senderProtocolAddress: IPv4Address
    /// Ignored in a request: RFC 826 leaves it unset, RFC 5227 section
    /// 2.1.1 asks for zeros.
    public var targetHardwareAddress: MACAddress
    public var targetProtocolAddress: IPv4Address

    public init(
        operation: ARPOperation, senderHardwareAddress: MACAddress, senderProtocolAddress: IPv4Address,
        targetHardwareAddress: MACAddress, targetProtocolAddress: IPv4Address
    ) {
        self.operation = operation
        self.senderHardwareAddress = senderHardwareAddress
        self.senderProtocolAddress = senderProtocolAddress
        self.targetHardwareAddress = targetHardwareAddress
        self.targetProtocolAddress = targetProtocolAddress
    }

    /// 28 bytes: the length of every Ethernet/IPv4 ARP packet.
    public static let bufferLength = Layout.ethernetIPv4Length

    /// The packet in `packet`.
    ///
    /// - Throws: `.unsupported` for another hardware type, protocol type or
    ///   operation; `.malformed` for address lengths other than 6 and 4 with
    ///   Ethernet and IPv4 (RFC 826: the lengths follow from the types).
    public static func parse(_ packet: ARPPacketView) throws(WireError) -> ARPRepr {
        guard packet.hardwareType == Layout.ethernet else { throw .unsupported("ARP hardware type") }
        guard packet.protocolType == .ipv4 else { throw .unsupported("ARP protocol type") }
        guard packet.hardwareLength == 6 else { throw .malformed("ARP hardware address length") }
        guard packet.protocolLength == 4 else { throw .malformed("ARP protocol address length") }
        guard let operation = ARPOperation(rawValue: packet.operation) else {
            throw .unsupported("ARP operation")
        }
        // The view's check guarantees 28 bytes once the lengths are 6 and 4.
        let bytes = packet.bytes
        return ARPRepr(
            operation: operation,
            senderHardwareAddress: MACAddress(wire: bytes, at: Layout.senderHardwareAddress),
            senderProtocolAddress: IPv4Address(wire: bytes, at: Layout.senderProtocolAddress),
            targetHardwareAddress: MACAddress(wire: bytes, at: Layout.targetHardwareAddress),
            targetProtocolAddress: IPv4Address(wire: bytes, at: Layout.targetProtocolAddress))
    }

    /// The packet in `bytes`.
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(WireError) -> ARPRepr {
        try parse(ARPPacketView(checking: bytes))
    }

    /// Writes the 28-byte packet at the start of `packet`, which MUST hold
    /// at least `bufferLength` bytes.
    public func emit(into packet: UnsafeMutableRawBufferPointer) {
        precondition(packet.count >= Layout.ethernetIPv4Length, "ARP packet does not fit")
        packet.setWireUInt16(Layout.ethernet, at: Layout.hardwareType)
        packet.setWireUInt16(EtherType.ipv4.rawValue, at: Layout.protocolType)
        packet[Layout.hardwareLength] = 6
        packet[Layout.protocolLength] = 4
        packet.setWireUInt16(operation.rawValue, at: Layout.operation)
        senderHardwareAddress.write(to: packet, at: Layout.senderHardwareAddress)
        senderProtocolAddress.write(to: packet, at: Layout.senderProtocolAddress)
        targetHardwareAddress.write(to: packet, at: Layout.targetHardwareAddress)
        targetProtocolAddress.write(to: packet, at: Layout.targetProtocolAddress)
    }

    /// "ARP who-has 10.0.0.2 tell 10.0.0.1" or "ARP reply 10.0.0.2 is-at
    /// 02:00:00:00:00:02", as tcpdump says them.
    public var description: String {
        var text = WireText()
        switch operation {
        case .request:
            text.add("ARP who-has ")
            text.add(targetProtocolAddress.description)
            text.add(" tell ")
            text.add(senderProtocolAddress.description)
        case .reply:
            text.add("ARP reply ")
            text.add(senderProtocolAddress.description)
            text.add(" is-at ")
            text.add(senderHardwareAddress.description)
        }
        return text.string
    }
}
