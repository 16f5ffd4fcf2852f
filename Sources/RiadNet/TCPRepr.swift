// A TCP segment as a value: RFC 9293 section 3.1 (header), section 3.2
// (options, parsed by TCPOptions) and the checksum over the IPv4
// pseudo-header (section 3.1 "Checksum").

import Riad

/// The meaning of a TCP segment's header, parsed from bytes or to be
/// emitted; the payload is not copied but referred to by its place in the
/// bytes.
///
/// ```swift
/// let repr = try TCPRepr.parse(bytes, source: peer, destination: local)
/// let data = UnsafeRawBufferPointer(rebasing: bytes[repr.payload])
///
/// var reply = TCPRepr(sourcePort: 80, destinationPort: repr.sourcePort,
///                     sequenceNumber: iss, acknowledgmentNumber: repr.sequenceNumber + 1,
///                     flags: .syn, window: 64240)
/// let length = reply.emit(into: buffer, source: local, destination: peer)
/// ```
///
/// Parsing and emitting allocate nothing.
public struct TCPRepr: Sendable, Hashable, CustomStringConvertible {
    public var sourcePort: UInt16
    public var destinationPort: UInt16
    public var sequenceNumber: TCPSeqNumber
    /// The acknowledgment number, present exactly when the ACK bit is set
    /// (RFC 9293 section 3.1 "Acknowledgment Number").
    public var acknowledgmentNumber: TCPSeqNumber?
    /// The control bits other than ACK, which `acknowledgmentNumber` carries.
    public var flags: TCPFlags
    /// The window field as sent: unscaled, 16 bits (RFC 7323 section 2.3).
    public var window: UInt16
    /// Meaningful only with `.urg` (RFC 9293 section 3.1 "Urgent Pointer").
    public var urgentPointer: UInt16
    public var options: TCPOptions
    /// Where the payload lies in the segment's bytes: those parsed, or those
    /// emitted into, where it starts at `headerLength`.
    public var payload: Range<Int>

    public init(
        sourcePort: UInt16, destinationPort: UInt16, sequenceNumber: TCPSeqNumber,
        acknowledgmentNumber: TCPSeqNumber? = nil, flags: TCPFlags = [], window: UInt16,
        urgentPointer: UInt16 = 0, options: TCPOptions = TCPOptions(), payloadLength: Int = 0
    ) {
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.sequenceNumber = sequenceNumber
        self.acknowledgmentNumber = acknowledgmentNumber
        self.flags = flags.subtracting(.ack)
        self.window = window
        self.urgentPointer = urgentPointer
        self.options = options
        let header = TCPSegment.minimumHeaderLength + options.encodedLength
        self.payload = header..<header + payloadLength
    }

    /// Parses and validates a segment: its length and data offset, its
    /// checksum (unless `verifyChecksum` is false, for a device that checked
    /// it already), its ports and its options.
    ///
    /// - Parameters:
    ///   - bytes: The IPv4 payload: the TCP header and data, nothing after.
    ///   - source: The IPv4 source address, for the pseudo-header.
    ///   - destination: The IPv4 destination address.
    /// - Throws: `.truncated`, `.badChecksum`, `.malformed(...)`.
    public static func parse(
        _ bytes: UnsafeRawBufferPointer, source: IPv4Address, destination: IPv4Address,
        verifyChecksum: Bool = true
    ) throws(WireError) -> TCPRepr {
        let segment = try TCPSegment(bytes)
        if verifyChecksum, !segment.verifyChecksum(source: source, destination: destination) {
            throw .badChecksum
        }
        // Port 0 is reserved (RFC 6335 section 6): no connection uses it.
        guard segment.sourcePort != 0, segment.destinationPort != 0 else { throw .malformed("port") }
        let options = try TCPOptions.parse(segment.options)
        let flags = segment.flags
        return TCPRepr(
            sourcePort: segment.sourcePort, destinationPort: segment.destinationPort,
            sequenceNumber: segment.sequenceNumber,
            acknowledgmentNumber: flags.contains(.ack) ? segment.acknowledgmentNumber : nil,
            flags: flags.subtracting(.ack), window: segment.window,
            urgentPointer: segment.urgentPointer, options: options, payloadRange: segment.payloadRange)
    }

    private init(
        sourcePort: UInt16, destinationPort: UInt16, sequenceNumber: TCPSeqNumber,
        acknowledgmentNumber: TCPSeqNumber?, flags: TCPFlags, window: UInt16,
        urgentPointer: UInt16, options: TCPOptions, payloadRange: Range<Int>
    ) {
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.sequenceNumber = sequenceNumber
        self.acknowledgmentNumber = acknowledgmentNumber
        self.flags = flags
        self.window = window
        self.urgentPointer = urgentPointer
        self.options = options
        self.payload = payloadRange
    }

    /// All the control bits, ACK included, as on the wire.
    public var controlBits: TCPFlags {
        acknowledgmentNumber == nil ? flags : flags.union(.ack)
    }

    /// The header `emit` writes: 20 octets and the options, 20...60.
    public var headerLength: Int { TCPSegment.minimumHeaderLength + options.encodedLength }

    /// The octets `emit` needs: header and payload.
    public var bufferLength: Int { headerLength + payload.count }

    /// SEG.LEN (RFC 9293 section 3.4): the sequence space the segment
    /// takes, the payload plus one for SYN and one for FIN.
    public var segmentLength: Int {
        payload.count + (flags.contains(.syn) ? 1 : 0) + (flags.contains(.fin) ? 1 : 0)
    }

    /// Writes the header in front of a payload already in place and fills
    /// in the checksum.
    ///
    /// - Parameters:
    ///   - bytes: At least `bufferLength` octets, whose
    ///     `headerLength..<headerLength + payload.count` hold the payload.
    ///   - source: The IPv4 source address, for the pseudo-header.
    ///   - destination: The IPv4 destination address.
    /// - Returns: The segment's length, `bufferLength`.
    ///   - partialChecksum: Leave the checksum to the device: the field
    ///     holds the pseudo-header's sum only (virtio-net's NEEDS_CSUM), and
    ///     the payload is not read.
    @discardableResult
    public func emit(
        into bytes: UnsafeMutableRawBufferPointer, source: IPv4Address, destination: IPv4Address,
        partialChecksum: Bool = false
    ) -> Int {
        let header = headerLength
        let total = header + payload.count
        precondition(bytes.count >= total, "TCP buffer too small")
        precondition(total <= Int(UInt16.max), "TCP segment too long for IPv4")
        bytes.setWireUInt16(sourcePort, at: TCPSegment.Field.sourcePort)
        bytes.setWireUInt16(destinationPort, at: TCPSegment.Field.destinationPort)
        bytes.setWireUInt32(sequenceNumber.rawValue, at: TCPSegment.Field.sequenceNumber)
        bytes.setWireUInt32(
            acknowledgmentNumber?.rawValue ?? 0, at: TCPSegment.Field.acknowledgmentNumber)
        bytes[TCPSegment.Field.dataOffset] = UInt8(header / 4) << 4
        bytes[TCPSegment.Field.flags] = controlBits.rawValue
        bytes.setWireUInt16(window, at: TCPSegment.Field.window)
        bytes.setWireUInt16(0, at: TCPSegment.Field.checksum)
        bytes.setWireUInt16(urgentPointer, at: TCPSegment.Field.urgentPointer)
        options.emit(
            into: UnsafeMutableRawBufferPointer(
                rebasing: bytes[TCPSegment.minimumHeaderLength..<header]))
        var sum = pseudoHeaderChecksum(
            source: source, destination: destination, protocol: .tcp, length: UInt16(total))
        if partialChecksum {
            bytes.setWireUInt16(sum.folded, at: TCPSegment.Field.checksum)
            return total
        }
        sum.add(UnsafeRawBufferPointer(rebasing: bytes[0..<total]))
        bytes.setWireUInt16(sum.value, at: TCPSegment.Field.checksum)
        return total
    }

    /// Copies `data` after the header, then writes the header as
    /// `emit(into:source:destination:)` does; `payload` is taken from `data`.
    @discardableResult
    public func emit(
        into bytes: UnsafeMutableRawBufferPointer, payload data: UnsafeRawBufferPointer,
        source: IPv4Address, destination: IPv4Address
    ) -> Int {
        var repr = self
        let header = headerLength
        repr.payload = header..<header + data.count
        precondition(bytes.count >= repr.bufferLength, "TCP buffer too small")
        if !data.isEmpty {
            UnsafeMutableRawBufferPointer(rebasing: bytes[repr.payload]).copyMemory(from: data)
        }
        return repr.emit(into: bytes, source: source, destination: destination)
    }

    /// One line in tcpdump's manner:
    /// "TCP 49152 > 80 [S] seq 100 win 64240 mss 1460 ws 7 sackOK ts 1 0 len 0".
    public var description: String {
        var text = WireText("TCP ")
        text.add(decimal: Int(sourcePort))
        text.add(" > " as StaticString)
        text.add(decimal: Int(destinationPort))
        text.add(" [" as StaticString)
        text.add(controlBits.tcpdumpLetters)
        text.add("] seq " as StaticString)
        text.add(decimal: Int(sequenceNumber.rawValue))
        if let ack = acknowledgmentNumber {
            text.add(" ack " as StaticString)
            text.add(decimal: Int(ack.rawValue))
        }
        text.add(" win " as StaticString)
        text.add(decimal: Int(window))
        if flags.contains(.urg) {
            text.add(" urg " as StaticString)
            text.add(decimal: Int(urgentPointer))
        }
        if let mss = options.maximumSegmentSize {
            text.add(" mss " as StaticString)
            text.add(decimal: Int(mss))
        }
        if let scale = options.windowScale {
            text.add(" ws " as StaticString)
            text.add(decimal: Int(scale))
        }
        if options.sackPermitted { text.add(" sackOK" as StaticString) }
        if !options.sackBlocks.isEmpty {
            text.add(" sack" as StaticString)
            for block in options.sackBlocks {
                text.add(" " as StaticString)
                text.add(decimal: Int(block.left.rawValue))
                text.add(":" as StaticString)
                text.add(decimal: Int(block.right.rawValue))
            }
        }
        if let timestamps = options.timestamps {
            text.add(" ts " as StaticString)
            text.add(decimal: Int(timestamps.value))
            text.add(" " as StaticString)
            text.add(decimal: Int(timestamps.echoReply))
        }
        text.add(" len " as StaticString)
        text.add(decimal: payload.count)
        return text.string
    }
}
