// ICMP messages as values: RFC 792, with RFC 1122 section 3.2.2's rules for
// hosts and RFC 1191's next-hop MTU.

/// What an ICMP message says. Echo and the two errors a host acts on have
/// their own cases; every other message is `other`, kept whole so that it
/// can be logged or passed on.
public enum ICMPv4Message: Sendable, Hashable {
    /// Type 8 (RFC 792 "Echo or Echo Reply Message").
    case echoRequest(identifier: UInt16, sequenceNumber: UInt16)
    /// Type 0.
    case echoReply(identifier: UInt16, sequenceNumber: UInt16)
    /// Type 3, with the header of the packet that could not be delivered.
    /// `nextHopMTU` is meaningful for `.fragmentationNeeded` only (RFC 1191)
    /// and is 0 otherwise.
    case destinationUnreachable(ICMPv4UnreachableCode, nextHopMTU: UInt16, original: IPv4Repr)
    /// Type 11, with the header of the packet that was dropped.
    case timeExceeded(ICMPv4TimeExceededCode, original: IPv4Repr)
    /// Any other type, with its code and the four bytes after the checksum.
    case other(type: ICMPv4Type, code: UInt8, restOfHeader: UInt32)
}

/// An ICMP message as values; its data stays in the caller's buffer.
///
/// The data is an echo's payload, or for an error the part of the original
/// packet's payload quoted after its header: RFC 792 asks for its first 8
/// bytes, RFC 1812 section 4.3.2.3 lets routers send more.
///
/// When emitting, the caller puts the data at `dataOffset` first, then
/// calls `emit`, which writes the header (and an error's quoted header) and
/// the checksum over everything:
///
/// ```swift
/// let reply = ICMPv4Repr(
///     message: .echoReply(identifier: id, sequenceNumber: seq), dataLength: request.payload.count)
/// buffer[reply.dataOffset...].copyMemory(from: request.payload)
/// reply.emit(into: buffer)
/// ```
public struct ICMPv4Repr: Sendable, Hashable, CustomStringConvertible {
    public var message: ICMPv4Message
    /// The data's length in bytes (see the type's summary).
    public var dataLength: Int

    public init(message: ICMPv4Message, dataLength: Int) {
        self.message = message
        self.dataLength = dataLength
    }

    /// The 8 bytes of type, code, checksum and the rest of the header.
    public static let headerLength = 8

    /// Where the data starts in an emitted message: after the header, and
    /// for an error after the quoted 20-byte IPv4 header too.
    public var dataOffset: Int {
        switch message {
        case .destinationUnreachable, .timeExceeded: return ICMPv4Repr.headerLength + IPv4Repr.headerLength
        case .echoRequest, .echoReply, .other: return ICMPv4Repr.headerLength
        }
    }

    /// The emitted message's length: the IPv4 payload length.
    public var bufferLength: Int { dataOffset + dataLength }

    /// The message in `packet` (all of the IPv4 payload).
    ///
    /// - Parameter verifyChecksum: false when the device has verified it.
    /// - Throws: `.badChecksum`; `.malformed("ICMP code")` for an echo
    ///   whose code is not 0; for an error, `.truncated` or `.malformed` if
    ///   the quoted packet is not an IPv4 header followed by at least 8 bytes
    ///   of its payload (or all of it, if shorter), as RFC 792 requires.
    public static func parse(_ packet: ICMPv4PacketView, verifyChecksum: Bool = true) throws(WireError)
        -> ICMPv4Repr
    {
        if verifyChecksum, !packet.checksumIsValid { throw .badChecksum }
        let type = packet.type
        let echoDataLength = packet.bytes.count - headerLength
        switch type {
        case .echoRequest, .echoReply:
            guard packet.code == 0 else { throw .malformed("ICMP code") }
            let identifier = packet.identifier
            let sequenceNumber = packet.sequenceNumber
            return ICMPv4Repr(
                message: type == .echoRequest
                    ? .echoRequest(identifier: identifier, sequenceNumber: sequenceNumber)
                    : .echoReply(identifier: identifier, sequenceNumber: sequenceNumber),
                dataLength: echoDataLength)
        case .destinationUnreachable, .timeExceeded:
            let quoted = try packet.quotedPacket()
            let original = IPv4Repr.parseQuoted(quoted)
            let dataLength = quoted.payload.count
            // RFC 792: "the internet header plus the first 64 bits of the
            // original datagram's data".
            guard dataLength >= min(8, original.payloadLength) else { throw .truncated }
            if type == .timeExceeded {
                return ICMPv4Repr(
                    message: .timeExceeded(ICMPv4TimeExceededCode(rawValue: packet.code), original: original),
                    dataLength: dataLength)
            }
            let code = ICMPv4UnreachableCode(rawValue: packet.code)
            return ICMPv4Repr(
                message: .destinationUnreachable(
                    code, nextHopMTU: code == .fragmentationNeeded ? packet.nextHopMTU : 0, original: original
                ),
                dataLength: dataLength)
        default:
            return ICMPv4Repr(
                message: .other(type: type, code: packet.code, restOfHeader: packet.restOfHeader),
                dataLength: echoDataLength)
        }
    }

    /// The message in `bytes`, which MUST be exactly the IPv4 payload.
    public static func parse(_ bytes: UnsafeRawBufferPointer, verifyChecksum: Bool = true) throws(WireError)
        -> ICMPv4Repr
    {
        try parse(ICMPv4PacketView(checking: bytes), verifyChecksum: verifyChecksum)
    }

    /// Writes the header at the start of `message` (and an error's quoted
    /// IPv4 header after it), then the checksum over the first
    /// `bufferLength` bytes.
    ///
    /// - Parameters:
    ///   - message: At least `bufferLength` bytes, with the data already at
    ///     `dataOffset`.
    ///   - computeChecksum: false when the device computes it (the field is
    ///     left zero).
    public func emit(into message: UnsafeMutableRawBufferPointer, computeChecksum: Bool = true) {
        precondition(dataLength >= 0 && message.count >= bufferLength, "ICMP message does not fit")
        let packet = MutableICMPv4PacketView(
            unchecked: UnsafeMutableRawBufferPointer(rebasing: message[..<bufferLength]))
        switch self.message {
        case .echoRequest(let identifier, let sequenceNumber), .echoReply(let identifier, let sequenceNumber):
            if case .echoRequest = self.message {
                packet.type = .echoRequest
            } else {
                packet.type = .echoReply
            }
            packet.code = 0
            packet.identifier = identifier
            packet.sequenceNumber = sequenceNumber
        case .destinationUnreachable(let code, let nextHopMTU, let original):
            packet.type = .destinationUnreachable
            packet.code = code.rawValue
            // RFC 792: unused, zero; RFC 1191 puts the MTU in the low half.
            packet.restOfHeader = UInt32(nextHopMTU)
            original.emit(into: packet.payload)
        case .timeExceeded(let code, let original):
            packet.type = .timeExceeded
            packet.code = code.rawValue
            packet.restOfHeader = 0
            original.emit(into: packet.payload)
        case .other(let type, let code, let restOfHeader):
            packet.type = type
            packet.code = code
            packet.restOfHeader = restOfHeader
        }
        packet.checksum = 0
        if computeChecksum { packet.fillChecksum() }
    }

    /// "ICMP echo request id 1 seq 2 len 56", "ICMP port unreachable for
    /// UDP 10.0.0.1 > 10.0.0.2", "ICMP type 13 code 0 len 12".
    public var description: String {
        var text = WireText("ICMP ")
        switch message {
        case .echoRequest(let identifier, let sequenceNumber), .echoReply(let identifier, let sequenceNumber):
            if case .echoRequest = message {
                text.add("echo request id ")
            } else {
                text.add("echo reply id ")
            }
            text.add(decimal: Int(identifier))
            text.add(" seq ")
            text.add(decimal: Int(sequenceNumber))
            text.add(" len ")
            text.add(decimal: dataLength)
        case .destinationUnreachable(let code, let nextHopMTU, let original):
            text.add(code.description)
            if code == .fragmentationNeeded {
                text.add(" mtu ")
                text.add(decimal: Int(nextHopMTU))
            }
            ICMPv4Repr.describe(original, in: &text)
        case .timeExceeded(let code, let original):
            text.add(code.description)
            ICMPv4Repr.describe(original, in: &text)
        case .other(let type, let code, _):
            text.add(type.description)
            text.add(" code ")
            text.add(decimal: Int(code))
            text.add(" len ")
            text.add(decimal: dataLength)
        }
        return text.string
    }

    private static func describe(_ original: IPv4Repr, in text: inout WireText) {
        text.add(" for ")
        text.add(original.protocol.description)
        text.add(" ")
        text.add(original.source.description)
        text.add(" > ")
        text.add(original.destination.description)
    }
}
