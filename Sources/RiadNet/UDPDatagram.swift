// UDP datagrams: RFC 768, with RFC 1122 section 4.1.3 (what a host must
// check) over IPv4.

import Riad

/// Field offsets of the UDP header (RFC 768 "Format").
private enum Layout {
    static let sourcePort = 0
    static let destinationPort = 2
    static let length = 4
    static let checksum = 6
    static let headerLength = 8
}

/// A read-only view of a UDP datagram in place.
///
/// ```swift
/// let datagram = try UDPDatagramView(checking: packet.payload)
/// let udp = try UDPRepr.parse(datagram, source: ip.source, destination: ip.destination)
/// deliver(datagram.payload, to: udp.destinationPort)
/// ```
public struct UDPDatagramView {
    /// The buffer the datagram starts; it may run past the datagram's
    /// length field, which `payload` respects.
    public let bytes: UnsafeRawBufferPointer

    /// A view of `bytes`, checked so that every accessor is in bounds.
    ///
    /// - Throws: `.truncated` if the buffer is shorter than the header or
    ///   than the length field; `.malformed("UDP length")` for a length
    ///   below the 8-byte header.
    public init(checking bytes: UnsafeRawBufferPointer) throws(WireError) {
        guard bytes.count >= Layout.headerLength else { throw .truncated }
        self.bytes = bytes
        guard length >= Layout.headerLength else { throw .malformed("UDP length") }
        guard bytes.count >= length else { throw .truncated }
    }

    fileprivate init(unchecked bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// 0 when the sender expects no reply (RFC 768).
    public var sourcePort: UInt16 { bytes.wireUInt16(at: Layout.sourcePort) }
    public var destinationPort: UInt16 { bytes.wireUInt16(at: Layout.destinationPort) }
    /// The datagram's length in bytes, header included.
    public var length: Int { Int(bytes.wireUInt16(at: Layout.length)) }
    /// 0 when the sender computed none (RFC 768).
    public var checksum: UInt16 { bytes.wireUInt16(at: Layout.checksum) }
    /// The data, from the end of the header to the length.
    public var payload: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: bytes[payloadRange]) }
    /// The data's position in `bytes`.
    public var payloadRange: Range<Int> {
        // The checking initializer makes the clamps no-ops; a view of a
        // datagram being written must not trap either.
        Layout.headerLength..<max(Layout.headerLength, min(length, bytes.count))
    }

    /// Whether the checksum verifies over the pseudo-header and the
    /// datagram (RFC 768); true when the sender sent none.
    public func checksumIsValid(source: IPv4Address, destination: IPv4Address) -> Bool {
        if checksum == 0 { return true }
        let datagramLength = min(length, bytes.count)
        var sum = pseudoHeaderChecksum(
            source: source, destination: destination, protocol: .udp,
            length: UInt16(truncatingIfNeeded: datagramLength))
        sum.add(UnsafeRawBufferPointer(rebasing: bytes[..<datagramLength]))
        return sum.value == 0
    }
}

/// A writable view of a UDP datagram being built in place.
public struct MutableUDPDatagramView {
    /// The datagram: its length is the length field's, for the checksum.
    public let bytes: UnsafeMutableRawBufferPointer

    /// A view of `bytes`; throws `.truncated` if they cannot hold the
    /// 8-byte header.
    public init(checking bytes: UnsafeMutableRawBufferPointer) throws(WireError) {
        guard bytes.count >= Layout.headerLength else { throw .truncated }
        self.bytes = bytes
    }

    fileprivate init(unchecked bytes: UnsafeMutableRawBufferPointer) {
        self.bytes = bytes
    }

    /// The same datagram, read-only.
    public var view: UDPDatagramView { UDPDatagramView(unchecked: UnsafeRawBufferPointer(bytes)) }

    public var sourcePort: UInt16 {
        get { view.sourcePort }
        nonmutating set { bytes.setWireUInt16(newValue, at: Layout.sourcePort) }
    }
    public var destinationPort: UInt16 {
        get { view.destinationPort }
        nonmutating set { bytes.setWireUInt16(newValue, at: Layout.destinationPort) }
    }
    public var length: Int {
        get { view.length }
        nonmutating set { bytes.setWireUInt16(UInt16(truncatingIfNeeded: newValue), at: Layout.length) }
    }
    public var checksum: UInt16 {
        get { view.checksum }
        nonmutating set { bytes.setWireUInt16(newValue, at: Layout.checksum) }
    }
    /// Everything after the header, for the data.
    public var payload: UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(rebasing: bytes[Layout.headerLength...])
    }

    /// Computes the checksum over the pseudo-header and the first `length`
    /// bytes and writes it; a computed 0 is sent as 0xffff, since 0 means
    /// "no checksum" (RFC 768). Set the length first; a length past the
    /// buffer's end counts to the end.
    public func fillChecksum(source: IPv4Address, destination: IPv4Address) {
        let datagramLength = min(length, bytes.count)
        checksum = 0
        var sum = pseudoHeaderChecksum(
            source: source, destination: destination, protocol: .udp,
            length: UInt16(truncatingIfNeeded: datagramLength))
        sum.add(UnsafeRawBufferPointer(rebasing: view.bytes[..<datagramLength]))
        let value = sum.value
        checksum = value == 0 ? 0xffff : value
    }
}

/// The header of a UDP datagram as values; the data stays in the caller's
/// buffer (`UDPDatagramView.payload` on receipt, after
/// `UDPRepr.headerLength` bytes when emitting).
///
/// When emitting, the caller writes the data at offset 8 first, then calls
/// `emit`, which writes the header and the checksum over both:
///
/// ```swift
/// let udp = UDPRepr(sourcePort: 5353, destinationPort: 53, payloadLength: query.count)
/// buffer[UDPRepr.headerLength...].copyMemory(from: query)
/// udp.emit(into: buffer, source: me, destination: server)
/// ```
public struct UDPRepr: Sendable, Hashable, CustomStringConvertible {
    public var sourcePort: UInt16
    public var destinationPort: UInt16
    /// The data's length in bytes.
    public var payloadLength: Int

    public init(sourcePort: UInt16, destinationPort: UInt16, payloadLength: Int) {
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.payloadLength = payloadLength
    }

    /// 8 bytes: two ports, the length and the checksum.
    public static let headerLength = Layout.headerLength

    /// The emitted datagram's length: header and data.
    public var bufferLength: Int { UDPRepr.headerLength + payloadLength }

    /// The header of `datagram`, which came from `source` to `destination`.
    ///
    /// - Parameter verifyChecksum: false when the device has verified it. A
    ///   datagram sent without a checksum (0) is always accepted.
    /// - Throws: `.badChecksum`; `.malformed("UDP destination port")` for
    ///   port 0, which is reserved and names no socket.
    public static func parse(
        _ datagram: UDPDatagramView, source: IPv4Address, destination: IPv4Address,
        verifyChecksum: Bool = true
    ) throws(WireError) -> UDPRepr {
        guard datagram.destinationPort != 0 else { throw .malformed("UDP destination port") }
        if verifyChecksum, !datagram.checksumIsValid(source: source, destination: destination) {
            throw .badChecksum
        }
        return UDPRepr(
            sourcePort: datagram.sourcePort, destinationPort: datagram.destinationPort,
            payloadLength: datagram.payload.count)
    }

    /// The header of the datagram at the start of `bytes`.
    public static func parse(
        _ bytes: UnsafeRawBufferPointer, source: IPv4Address, destination: IPv4Address,
        verifyChecksum: Bool = true
    ) throws(WireError) -> UDPRepr {
        try parse(
            UDPDatagramView(checking: bytes), source: source, destination: destination,
            verifyChecksum: verifyChecksum)
    }

    /// Writes the header at the start of `datagram`, then the checksum over
    /// the pseudo-header, the header and the data.
    ///
    /// - Parameters:
    ///   - datagram: At least `bufferLength` bytes, with the data already
    ///     at offset 8.
    ///   - source: The IPv4 source address, for the pseudo-header.
    ///   - destination: The IPv4 destination address.
    ///   - computeChecksum: false to send none (0, RFC 768) or to leave it
    ///     to the device.
    /// - Precondition: `payloadLength` is at most 65527.
    public func emit(
        into datagram: UnsafeMutableRawBufferPointer, source: IPv4Address, destination: IPv4Address,
        computeChecksum: Bool = true
    ) {
        precondition(
            payloadLength >= 0 && payloadLength <= 65535 - UDPRepr.headerLength,
            "UDP payload length out of range")
        precondition(datagram.count >= bufferLength, "UDP datagram does not fit")
        let header = MutableUDPDatagramView(unchecked: datagram)
        header.sourcePort = sourcePort
        header.destinationPort = destinationPort
        header.length = bufferLength
        header.checksum = 0
        if computeChecksum { header.fillChecksum(source: source, destination: destination) }
    }

    /// "UDP 5353 > 53 len 20", the length being the data's.
    public var description: String {
        var text = WireText("UDP ")
        text.add(decimal: Int(sourcePort))
        text.add(" > ")
        text.add(decimal: Int(destinationPort))
        text.add(" len ")
        text.add(decimal: payloadLength)
        return text.string
    }
}
