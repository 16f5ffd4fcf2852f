// IPv4 packets: RFC 791 section 3.1 (the header), RFC 1122 section 3.2.1
// (what a host must check), RFC 2474 and RFC 3168 (the DS field and ECN
// bits that replaced Type of Service), RFC 6864 (the Identification field).
//
// Options are skipped: a header longer than 20 bytes is accepted and its
// options are not interpreted (RFC 1122 section 3.2.1.8 lets a host ignore
// the ones it does not implement, which here is all of them). Packets are
// emitted without options.

import Riad

/// Field offsets of the IPv4 header (RFC 791 section 3.1).
private enum Layout {
    static let versionAndHeaderLength = 0
    static let differentiatedServices = 1
    static let totalLength = 2
    static let identification = 4
    static let flagsAndFragmentOffset = 6
    static let timeToLive = 8
    static let `protocol` = 9
    static let checksum = 10
    static let source = 12
    static let destination = 16
    /// The header without options; IHL 5.
    static let minimumHeaderLength = 20

    // Bits of the flags and fragment offset word.
    static let reservedFlag: UInt16 = 0x8000
    static let dontFragmentFlag: UInt16 = 0x4000
    static let moreFragmentsFlag: UInt16 = 0x2000
    static let fragmentOffsetMask: UInt16 = 0x1fff
}

/// A read-only view of an IPv4 packet in place.
///
/// ```swift
/// let packet = try IPv4PacketView(checking: frame.payload)
/// let ip = try IPv4Repr.parse(packet)
/// if ip.protocol == .udp { let datagram = try UDPDatagramView(checking: packet.payload) }
/// ```
public struct IPv4PacketView {
    /// The buffer the packet starts; it may run past the packet's end
    /// (Ethernet padding), which `payload` leaves out.
    public let bytes: UnsafeRawBufferPointer

    /// A view of `bytes`, checked so that every accessor is in bounds: the
    /// version is 4 and the header length and the total length fit each
    /// other and the buffer.
    ///
    /// - Throws: `.truncated` if the buffer is shorter than the header or
    ///   the total length; `.malformed` for another version, a header
    ///   length below 20 bytes or a total length below the header length.
    public init(checking bytes: UnsafeRawBufferPointer) throws(WireError) {
        try self.init(checkingHeader: bytes)
        guard bytes.count >= totalLength else { throw .truncated }
    }

    /// A view of an IPv4 header quoted in an ICMP error (RFC 792): only the
    /// header and the start of the data are present, so the total length
    /// may run past the buffer (`payload` stops at the buffer's end).
    init(checkingHeader bytes: UnsafeRawBufferPointer) throws(WireError) {
        guard bytes.count >= Layout.minimumHeaderLength else { throw .truncated }
        self.bytes = bytes
        guard version == 4 else { throw .malformed("IPv4 version") }
        guard headerLength >= Layout.minimumHeaderLength else { throw .malformed("IPv4 header length") }
        guard bytes.count >= headerLength else { throw .truncated }
        guard Int(totalLength) >= headerLength else { throw .malformed("IPv4 total length") }
    }

    fileprivate init(unchecked bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// 4.
    public var version: UInt8 { bytes[Layout.versionAndHeaderLength] >> 4 }
    /// The header's length in bytes (IHL times 4), options included.
    public var headerLength: Int { Int(bytes[Layout.versionAndHeaderLength] & 0xf) * 4 }
    /// The differentiated services code point, 6 bits (RFC 2474).
    public var dscp: UInt8 { bytes[Layout.differentiatedServices] >> 2 }
    /// The explicit congestion notification bits, 2 bits (RFC 3168).
    public var ecn: UInt8 { bytes[Layout.differentiatedServices] & 0x3 }
    /// The packet's length, header and payload, in bytes.
    public var totalLength: UInt16 { bytes.wireUInt16(at: Layout.totalLength) }
    public var identification: UInt16 { bytes.wireUInt16(at: Layout.identification) }
    /// Bit 0 of the flags, which must be zero (RFC 791).
    public var reservedFlag: Bool { flagsAndFragmentOffset & Layout.reservedFlag != 0 }
    public var dontFragment: Bool { flagsAndFragmentOffset & Layout.dontFragmentFlag != 0 }
    public var moreFragments: Bool { flagsAndFragmentOffset & Layout.moreFragmentsFlag != 0 }
    /// Where this fragment's data goes in the original payload, in bytes
    /// (the field counts 8-byte units).
    public var fragmentOffset: Int { Int(flagsAndFragmentOffset & Layout.fragmentOffsetMask) * 8 }
    public var timeToLive: UInt8 { bytes[Layout.timeToLive] }
    public var `protocol`: IPProtocol { IPProtocol(rawValue: bytes[Layout.protocol]) }
    public var checksum: UInt16 { bytes.wireUInt16(at: Layout.checksum) }
    public var source: IPv4Address { IPv4Address(wire: bytes, at: Layout.source) }
    public var destination: IPv4Address { IPv4Address(wire: bytes, at: Layout.destination) }

    private var flagsAndFragmentOffset: UInt16 { bytes.wireUInt16(at: Layout.flagsAndFragmentOffset) }

    /// The options, uninterpreted: empty for a 20-byte header.
    public var options: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(
            rebasing: bytes[Layout.minimumHeaderLength..<max(Layout.minimumHeaderLength, headerEnd)])
    }
    /// The payload: from the end of the header to the total length (or to
    /// the end of the buffer, for a header quoted in an ICMP error).
    public var payload: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: bytes[payloadRange]) }
    /// The payload's position in `bytes`.
    public var payloadRange: Range<Int> {
        let end = min(Int(totalLength), bytes.count)
        return min(headerLength, end)..<end
    }

    /// The header length, or the buffer's if it is shorter: the checking
    /// initializers make them the same, but a view of a packet being
    /// written (`MutableIPv4PacketView.view`) must not trap either.
    private var headerEnd: Int { min(headerLength, bytes.count) }

    /// Whether the header checksum verifies: the header, its checksum
    /// included, sums to zero (RFC 1071 section 1).
    public var checksumIsValid: Bool {
        InternetChecksum.of(UnsafeRawBufferPointer(rebasing: bytes[0..<headerEnd])) == 0
    }
}

/// A writable view of an IPv4 packet being built in place.
public struct MutableIPv4PacketView {
    public let bytes: UnsafeMutableRawBufferPointer

    /// A view of `bytes`; throws `.truncated` if they cannot hold a 20-byte
    /// header. Nothing else is checked: the contents are being written.
    public init(checking bytes: UnsafeMutableRawBufferPointer) throws(WireError) {
        guard bytes.count >= Layout.minimumHeaderLength else { throw .truncated }
        self.bytes = bytes
    }

    /// A view of bytes already known to hold a 20-byte header.
    init(unchecked bytes: UnsafeMutableRawBufferPointer) {
        self.bytes = bytes
    }

    /// The same packet, read-only. Its `options`, `payload` and checksum
    /// stop at the end of the buffer.
    public var view: IPv4PacketView { IPv4PacketView(unchecked: UnsafeRawBufferPointer(bytes)) }

    public var version: UInt8 {
        get { view.version }
        nonmutating set { setBits(newValue << 4, mask: 0xf0, at: Layout.versionAndHeaderLength) }
    }
    /// In bytes, a multiple of 4 from 20 to 60.
    public var headerLength: Int {
        get { view.headerLength }
        nonmutating set {
            setBits(UInt8(truncatingIfNeeded: newValue / 4), mask: 0x0f, at: Layout.versionAndHeaderLength)
        }
    }
    public var dscp: UInt8 {
        get { view.dscp }
        nonmutating set { setBits(newValue << 2, mask: 0xfc, at: Layout.differentiatedServices) }
    }
    public var ecn: UInt8 {
        get { view.ecn }
        nonmutating set { setBits(newValue, mask: 0x03, at: Layout.differentiatedServices) }
    }
    public var totalLength: UInt16 {
        get { view.totalLength }
        nonmutating set { bytes.setWireUInt16(newValue, at: Layout.totalLength) }
    }
    public var identification: UInt16 {
        get { view.identification }
        nonmutating set { bytes.setWireUInt16(newValue, at: Layout.identification) }
    }
    public var reservedFlag: Bool {
        get { view.reservedFlag }
        nonmutating set { setFlag(Layout.reservedFlag, newValue) }
    }
    public var dontFragment: Bool {
        get { view.dontFragment }
        nonmutating set { setFlag(Layout.dontFragmentFlag, newValue) }
    }
    public var moreFragments: Bool {
        get { view.moreFragments }
        nonmutating set { setFlag(Layout.moreFragmentsFlag, newValue) }
    }
    /// In bytes, a multiple of 8 up to 65528.
    public var fragmentOffset: Int {
        get { view.fragmentOffset }
        nonmutating set {
            let word = bytes.wireUInt16(at: Layout.flagsAndFragmentOffset) & ~Layout.fragmentOffsetMask
            let units = UInt16(truncatingIfNeeded: newValue / 8) & Layout.fragmentOffsetMask
            bytes.setWireUInt16(word | units, at: Layout.flagsAndFragmentOffset)
        }
    }
    public var timeToLive: UInt8 {
        get { view.timeToLive }
        nonmutating set { bytes[Layout.timeToLive] = newValue }
    }
    public var `protocol`: IPProtocol {
        get { view.protocol }
        nonmutating set { bytes[Layout.protocol] = newValue.rawValue }
    }
    public var checksum: UInt16 {
        get { view.checksum }
        nonmutating set { bytes.setWireUInt16(newValue, at: Layout.checksum) }
    }
    public var source: IPv4Address {
        get { view.source }
        nonmutating set { newValue.write(to: bytes, at: Layout.source) }
    }
    public var destination: IPv4Address {
        get { view.destination }
        nonmutating set { newValue.write(to: bytes, at: Layout.destination) }
    }
    /// The bytes after the header, for the next layer to fill.
    public var payload: UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(rebasing: bytes[min(headerLength, bytes.count)...])
    }

    /// Computes the header checksum and writes it. Set the header length
    /// first; a header length past the buffer's end counts to the end.
    public func fillChecksum() {
        checksum = 0
        let end = min(headerLength, bytes.count)
        checksum = InternetChecksum.of(UnsafeRawBufferPointer(rebasing: view.bytes[0..<end]))
    }

    private func setBits(_ value: UInt8, mask: UInt8, at offset: Int) {
        bytes[offset] = bytes[offset] & ~mask | value & mask
    }

    private func setFlag(_ flag: UInt16, _ on: Bool) {
        let word = bytes.wireUInt16(at: Layout.flagsAndFragmentOffset)
        bytes.setWireUInt16(on ? word | flag : word & ~flag, at: Layout.flagsAndFragmentOffset)
    }
}
