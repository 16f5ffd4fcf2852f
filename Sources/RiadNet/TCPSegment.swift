// The TCP header: RFC 9293 section 3.1 "Header Format".
//
//     0                   1                   2                   3
//     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//    |          Source Port          |       Destination Port        |
//    |                        Sequence Number                        |
//    |                    Acknowledgment Number                      |
//    |  DOffset|  Rsrvd  |C|E|U|A|P|R|S|F|           Window          |
//    |           Checksum            |         Urgent Pointer        |
//    |                     Options (0 to 40 octets)                  |
//
// The ECE and CWR bits are RFC 3168 section 6.1's; the bit before them (NS,
// RFC 3540) was made historic by RFC 8311 and is treated as reserved.

import Riad

/// The control bits of a TCP header (RFC 9293 section 3.1 "Control Bits",
/// RFC 3168 section 23.2 for ECE and CWR), as in the header's 14th octet.
public struct TCPFlags: OptionSet, Sendable, Hashable {
    public var rawValue: UInt8

    public init(rawValue: UInt8) {
        self.rawValue = rawValue
    }

    /// No more data from sender.
    public static let fin = TCPFlags(rawValue: 0x01)
    /// Synchronize sequence numbers.
    public static let syn = TCPFlags(rawValue: 0x02)
    /// Reset the connection.
    public static let rst = TCPFlags(rawValue: 0x04)
    /// Push function.
    public static let psh = TCPFlags(rawValue: 0x08)
    /// The acknowledgment number is significant.
    public static let ack = TCPFlags(rawValue: 0x10)
    /// The urgent pointer is significant.
    public static let urg = TCPFlags(rawValue: 0x20)
    /// ECN-Echo (RFC 3168 section 6.1).
    public static let ece = TCPFlags(rawValue: 0x40)
    /// Congestion Window Reduced (RFC 3168 section 6.1).
    public static let cwr = TCPFlags(rawValue: 0x80)

    /// The letters tcpdump prints, in its order: "S", "S.", "FP.", "R",
    /// "." for a bare ACK, "none" for no flag at all.
    public var tcpdumpLetters: String {
        guard rawValue != 0 else { return "none" }
        let letters: StaticString = "FSRP.UEW"
        var text: [UInt8] = []
        for bit in 0..<8 where rawValue & (1 << UInt8(bit)) != 0 {
            text.append(letters.utf8Start[bit])
        }
        return String(decoding: text, as: UTF8.self)
    }
}

/// A read-only view of a TCP segment: a header whose length has been
/// checked, its options and its payload. Nothing is copied; the view is
/// valid as long as the bytes it was made from.
///
/// ```swift
/// let segment = try TCPSegment(bytes)
/// if segment.flags.contains(.syn) { ... segment.sourcePort ... }
/// ```
public struct TCPSegment {
    /// Offsets of the fixed header's fields (RFC 9293 section 3.1).
    enum Field {
        static let sourcePort = 0
        static let destinationPort = 2
        static let sequenceNumber = 4
        static let acknowledgmentNumber = 8
        static let dataOffset = 12
        static let flags = 13
        static let window = 14
        static let checksum = 16
        static let urgentPointer = 18
    }

    /// The length of a header without options: a data offset of 5 words.
    public static let minimumHeaderLength = 20
    /// The length of a header with the most options: a data offset of 15.
    public static let maximumHeaderLength = 60

    /// The whole segment: header, options and payload.
    public let bytes: UnsafeRawBufferPointer

    /// Checks that `bytes` hold a fixed header whose data offset is at least
    /// 5 words (RFC 9293 section 3.1 "DOffset") and within the buffer.
    ///
    /// - Throws: `.truncated` if the buffer ends before the header does,
    ///   `.malformed("data offset")` if the offset is under 5.
    public init(_ bytes: UnsafeRawBufferPointer) throws(WireError) {
        guard bytes.count >= TCPSegment.minimumHeaderLength else { throw .truncated }
        let headerLength = Int(bytes[Field.dataOffset] >> 4) * 4
        guard headerLength >= TCPSegment.minimumHeaderLength else { throw .malformed("data offset") }
        guard headerLength <= bytes.count else { throw .truncated }
        self.bytes = bytes
    }

    public var sourcePort: UInt16 { bytes.wireUInt16(at: Field.sourcePort) }
    public var destinationPort: UInt16 { bytes.wireUInt16(at: Field.destinationPort) }
    public var sequenceNumber: TCPSeqNumber {
        TCPSeqNumber(rawValue: bytes.wireUInt32(at: Field.sequenceNumber))
    }
    /// The field as sent; meaningful only when `flags` has `.ack`.
    public var acknowledgmentNumber: TCPSeqNumber {
        TCPSeqNumber(rawValue: bytes.wireUInt32(at: Field.acknowledgmentNumber))
    }
    /// The header length in octets: the data offset times 4, 20...60.
    public var headerLength: Int { Int(bytes[Field.dataOffset] >> 4) * 4 }
    public var flags: TCPFlags { TCPFlags(rawValue: bytes[Field.flags]) }
    /// The window as sent, before any scaling (RFC 7323 section 2.3).
    public var window: UInt16 { bytes.wireUInt16(at: Field.window) }
    public var checksum: UInt16 { bytes.wireUInt16(at: Field.checksum) }
    public var urgentPointer: UInt16 { bytes.wireUInt16(at: Field.urgentPointer) }

    /// The options area, between the fixed header and the data offset.
    public var options: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[TCPSegment.minimumHeaderLength..<headerLength])
    }

    /// Where the payload lies in `bytes`.
    public var payloadRange: Range<Int> { headerLength..<bytes.count }

    /// The data after the header.
    public var payload: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[payloadRange])
    }

    /// Whether the checksum verifies over the IPv4 pseudo-header and the
    /// whole segment (RFC 9293 section 3.1 "Checksum"): the ones' complement
    /// sum of everything, checksum field included, is all ones.
    ///
    /// A segment longer than 65535 octets cannot be a TCP segment in an
    /// IPv4 packet and never verifies.
    public func verifyChecksum(source: IPv4Address, destination: IPv4Address) -> Bool {
        guard let length = UInt16(exactly: bytes.count) else { return false }
        var sum = pseudoHeaderChecksum(
            source: source, destination: destination, protocol: .tcp, length: length)
        sum.add(bytes)
        return sum.value == 0
    }
}
