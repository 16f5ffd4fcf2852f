// IP protocol numbers (RFC 791 section 3.1 "Protocol", the IANA registry
// that RFC 5237 describes) and the IPv4 pseudo-header that UDP (RFC 768)
// and TCP (RFC 9293 section 3.1) include in their checksums.

import Riad

/// The protocol of an IPv4 packet's payload: the header's Protocol field.
///
/// A struct rather than an enum so that every byte is a value: a packet of
/// an unknown protocol is parsed, and answered with ICMP protocol
/// unreachable (RFC 1122 section 3.2.2.1), not refused as malformed.
public struct IPProtocol: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: UInt8

    public init(rawValue: UInt8) {
        self.rawValue = rawValue
    }

    /// 1, RFC 792.
    public static let icmp = IPProtocol(rawValue: 1)
    /// 2, RFC 1112.
    public static let igmp = IPProtocol(rawValue: 2)
    /// 6, RFC 9293.
    public static let tcp = IPProtocol(rawValue: 6)
    /// 17, RFC 768.
    public static let udp = IPProtocol(rawValue: 17)

    /// "ICMP", "TCP", "UDP", or the number: "protocol 132".
    public var description: String {
        switch rawValue {
        case 1: return "ICMP"
        case 2: return "IGMP"
        case 6: return "TCP"
        case 17: return "UDP"
        default:
            var text = Array("protocol ".utf8)
            appendDecimal(UInt32(rawValue), to: &text)
            return String(decoding: text, as: UTF8.self)
        }
    }
}

/// The checksum of the IPv4 pseudo-header, ready for the segment itself to
/// be added: source and destination addresses, a zero byte, the protocol
/// and the transport length (header plus data) as 16 bits (RFC 768 "Fields",
/// RFC 9293 section 3.1 "Checksum").
///
/// ```swift
/// var checksum = pseudoHeaderChecksum(
///     source: source, destination: destination, protocol: .udp, length: UInt16(datagram.count))
/// checksum.add(datagram)  // with its checksum field zeroed when emitting
/// let value = checksum.value
/// ```
public func pseudoHeaderChecksum(
    source: IPv4Address, destination: IPv4Address, protocol: IPProtocol, length: UInt16
) -> InternetChecksum {
    var checksum = InternetChecksum()
    checksum.addWord(UInt16(truncatingIfNeeded: source.rawValue >> 16))
    checksum.addWord(UInt16(truncatingIfNeeded: source.rawValue))
    checksum.addWord(UInt16(truncatingIfNeeded: destination.rawValue >> 16))
    checksum.addWord(UInt16(truncatingIfNeeded: destination.rawValue))
    checksum.addWord(UInt16(`protocol`.rawValue))
    checksum.addWord(length)
    return checksum
}
