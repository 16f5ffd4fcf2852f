// The IPv4 header as values: RFC 791 section 3.1, with the host's checks
// from RFC 1122 section 3.2.1 and the fragmentation fields (RFC 791
// section 2.3 "Fragmentation", RFC 815) kept for reassembly.

/// The header of an IPv4 packet as values; the payload stays in the
/// caller's buffer (`IPv4PacketView.payload` on receipt, after
/// `IPv4Repr.headerLength` bytes when emitting).
///
/// ```swift
/// let ip = IPv4Repr(source: me, destination: peer, protocol: .udp, payloadLength: 12)
/// ip.emit(into: buffer)  // 20 bytes; the UDP datagram goes at buffer[20...]
/// ```
public struct IPv4Repr: Sendable, Hashable, CustomStringConvertible {
    public var source: IPv4Address
    public var destination: IPv4Address
    public var `protocol`: IPProtocol
    /// The payload's length in bytes: the total length less the header.
    public var payloadLength: Int
    public var timeToLive: UInt8
    /// The differentiated services code point, 0...63 (RFC 2474).
    public var dscp: UInt8
    /// The explicit congestion notification bits, 0...3 (RFC 3168).
    public var ecn: UInt8
    /// Which datagram a fragment belongs to, with the source, destination
    /// and protocol (RFC 791 section 3.2, RFC 6864).
    public var identification: UInt16
    /// DF: routers must drop the packet rather than fragment it.
    public var dontFragment: Bool
    /// MF: more fragments follow this one.
    public var moreFragments: Bool
    /// Where this fragment's data goes in the original payload, in bytes: a
    /// multiple of 8, at most 65528.
    public var fragmentOffset: Int

    public init(
        source: IPv4Address, destination: IPv4Address, protocol: IPProtocol, payloadLength: Int,
        timeToLive: UInt8 = IPv4Repr.defaultTimeToLive, dscp: UInt8 = 0, ecn: UInt8 = 0,
        identification: UInt16 = 0, dontFragment: Bool = false, moreFragments: Bool = false,
        fragmentOffset: Int = 0
    ) {
        self.source = source
        self.destination = destination
        self.protocol = `protocol`
        self.payloadLength = payloadLength
        self.timeToLive = timeToLive
        self.dscp = dscp
        self.ecn = ecn
        self.identification = identification
        self.dontFragment = dontFragment
        self.moreFragments = moreFragments
        self.fragmentOffset = fragmentOffset
    }

    /// 64, as RFC 1700 recommended and most hosts send.
    public static let defaultTimeToLive: UInt8 = 64
    /// The header `emit` writes: 20 bytes, no options. A received packet's
    /// header may be longer (up to 60 bytes with options): find its payload
    /// with `IPv4PacketView.payload`, not at this offset.
    public static let headerLength = 20
    /// The largest packet the total length field can describe.
    public static let maximumPacketLength = 65535

    /// The emitted packet's length: header and payload.
    public var bufferLength: Int { IPv4Repr.headerLength + payloadLength }

    /// Whether this packet is a fragment of a larger datagram (RFC 791
    /// section 3.2): more follow, or it is not the first.
    public var isFragment: Bool { moreFragments || fragmentOffset != 0 }

    /// The header of `packet`, fully checked.
    ///
    /// - Parameter verifyChecksum: false when the device has verified it.
    /// - Throws: `.badChecksum`; `.malformed` for a set reserved flag (RFC
    ///   791: "must be zero") or a fragment that would end past the largest
    ///   datagram (offset plus payload above 65515, the "ping of death": the
    ///   whole would exceed 65535 bytes). The view has checked the version and the lengths.
    public static func parse(_ packet: IPv4PacketView, verifyChecksum: Bool = true) throws(WireError)
        -> IPv4Repr
    {
        if verifyChecksum, !packet.checksumIsValid { throw .badChecksum }
        guard !packet.reservedFlag else { throw .malformed("IPv4 reserved flag") }
        let repr = IPv4Repr(fields: packet, payloadLength: Int(packet.totalLength) - packet.headerLength)
        // The reassembled datagram has at least a 20-byte header.
        guard repr.fragmentOffset + repr.payloadLength <= maximumPacketLength - headerLength else {
            throw .malformed("IPv4 fragment offset")
        }
        return repr
    }

    /// The header of the packet at the start of `bytes`. To reach the
    /// payload too, parse an `IPv4PacketView` and use its `payload`: the
    /// header may carry options.
    public static func parse(_ bytes: UnsafeRawBufferPointer, verifyChecksum: Bool = true) throws(WireError)
        -> IPv4Repr
    {
        try parse(IPv4PacketView(checking: bytes), verifyChecksum: verifyChecksum)
    }

    /// The header quoted in an ICMP error, whose payload is cut short: its
    /// checksum is not verified (a router's copy of a packet in error), and
    /// `payloadLength` is the original's, from its total length.
    static func parseQuoted(_ packet: IPv4PacketView) -> IPv4Repr {
        IPv4Repr(fields: packet, payloadLength: Int(packet.totalLength) - packet.headerLength)
    }

    private init(fields packet: IPv4PacketView, payloadLength: Int) {
        self.init(
            source: packet.source, destination: packet.destination, protocol: packet.protocol,
            payloadLength: payloadLength, timeToLive: packet.timeToLive, dscp: packet.dscp, ecn: packet.ecn,
            identification: packet.identification, dontFragment: packet.dontFragment,
            moreFragments: packet.moreFragments, fragmentOffset: packet.fragmentOffset)
    }

    /// Writes the 20-byte header, checksum included, at the start of
    /// `packet`; the payload goes after it and is not touched.
    ///
    /// - Parameters:
    ///   - packet: At least `headerLength` bytes.
    ///   - computeChecksum: false when the device computes it (the field is
    ///     left zero).
    /// - Precondition: the fields are in range: `payloadLength` at most
    ///   65515, `fragmentOffset` a multiple of 8 at most 65528, `dscp` below
    ///   64, `ecn` below 4.
    public func emit(into packet: UnsafeMutableRawBufferPointer, computeChecksum: Bool = true) {
        precondition(packet.count >= IPv4Repr.headerLength, "IPv4 header does not fit")
        precondition(
            payloadLength >= 0 && payloadLength <= IPv4Repr.maximumPacketLength - IPv4Repr.headerLength,
            "IPv4 payload length out of range")
        precondition(
            fragmentOffset >= 0 && fragmentOffset % 8 == 0 && fragmentOffset <= 65528,
            "IPv4 fragment offset out of range")
        precondition(dscp < 64 && ecn < 4, "IPv4 DSCP or ECN out of range")
        let header = MutableIPv4PacketView(unchecked: packet)
        header.bytes[0] = 0x45  // version 4, IHL 5
        header.bytes[1] = dscp << 2 | ecn
        header.totalLength = UInt16(truncatingIfNeeded: bufferLength)
        header.identification = identification
        // Flags and offset as one word: the reserved bit goes out as zero.
        header.bytes[6] = 0
        header.bytes[7] = 0
        header.dontFragment = dontFragment
        header.moreFragments = moreFragments
        header.fragmentOffset = fragmentOffset
        header.timeToLive = timeToLive
        header.protocol = self.protocol
        header.source = source
        header.destination = destination
        header.checksum = 0
        if computeChecksum { header.fillChecksum() }
    }

    /// "IPv4 10.0.0.1 > 10.0.0.2: UDP len 12", and for a fragment tcpdump's
    /// " frag id:length@offset", with "+" when more follow.
    public var description: String {
        var text = WireText()
        text.add("IPv4 ")
        text.add(source.description)
        text.add(" > ")
        text.add(destination.description)
        text.add(": ")
        text.add(self.protocol.description)
        text.add(" len ")
        text.add(decimal: payloadLength)
        if isFragment {
            text.add(" frag ")
            text.add(decimal: Int(identification))
            text.add(":")
            text.add(decimal: payloadLength)
            text.add("@")
            text.add(decimal: fragmentOffset)
            if moreFragments { text.add("+") }
        }
        return text.string
    }
}
