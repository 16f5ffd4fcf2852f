// TCP sequence numbers: RFC 9293 section 3.4 "Sequence Numbers".
//
// Sequence numbers live in a space of 2^32 that wraps: "it is essential to
// remember that the actual sequence number space is finite, though large",
// and all arithmetic on them is modulo 2^32. Comparisons are therefore
// relative: a comes before b when b is less than half the space ahead of
// a, that is when (b - a), taken as a signed 32-bit number, is positive.

/// A TCP sequence (or acknowledgment) number, compared modulo 2^32.
///
/// ```swift
/// let isn = TCPSeqNumber(rawValue: 0xffff_fff0)
/// let next = isn + 32          // wraps to 0x0000_0010
/// isn < next                   // true: next is 32 ahead
/// next - isn                   // 32
/// ```
///
/// The order is only meaningful between numbers less than 2^31 apart
/// (which the window sizes of RFC 7323 section 2.3 guarantee); it is not
/// transitive across the whole space, so do not sort by it.
public struct TCPSeqNumber: RawRepresentable, Sendable, Hashable, Comparable,
    CustomStringConvertible
{
    /// The 32 bits on the wire.
    public var rawValue: UInt32

    public init(rawValue: UInt32) {
        self.rawValue = rawValue
    }

    /// a < b iff (b - a) as a signed 32-bit number is positive (RFC 9293
    /// section 3.4).
    public static func < (lhs: TCPSeqNumber, rhs: TCPSeqNumber) -> Bool {
        Int32(bitPattern: rhs.rawValue &- lhs.rawValue) > 0
    }

    /// The number `offset` octets further on, modulo 2^32. A negative
    /// offset goes back; any `Int` is accepted (only its low 32 bits count).
    public static func + (lhs: TCPSeqNumber, rhs: Int) -> TCPSeqNumber {
        TCPSeqNumber(rawValue: lhs.rawValue &+ UInt32(truncatingIfNeeded: rhs))
    }

    /// The number `offset` octets back, modulo 2^32.
    public static func - (lhs: TCPSeqNumber, rhs: Int) -> TCPSeqNumber {
        TCPSeqNumber(rawValue: lhs.rawValue &- UInt32(truncatingIfNeeded: rhs))
    }

    public static func += (lhs: inout TCPSeqNumber, rhs: Int) {
        lhs = lhs + rhs
    }

    public static func -= (lhs: inout TCPSeqNumber, rhs: Int) {
        lhs = lhs - rhs
    }

    /// How far `lhs` is ahead of `rhs`: positive when `rhs < lhs`, in
    /// Int32's range (a distance of 2^31 or more reads as negative).
    public static func - (lhs: TCPSeqNumber, rhs: TCPSeqNumber) -> Int {
        Int(Int32(bitPattern: lhs.rawValue &- rhs.rawValue))
    }

    /// Whether `self` lies in [lower, upper) modulo 2^32: the acceptability
    /// tests of RFC 9293 section 3.4 ("SND.UNA < SEG.ACK =< SND.NXT" and
    /// "RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND") in one place. An empty
    /// interval (lower == upper) contains nothing.
    public func isIn(from lower: TCPSeqNumber, upTo upper: TCPSeqNumber) -> Bool {
        // Unsigned offsets from `lower` put both ends on a line without wrap.
        rawValue &- lower.rawValue < upper.rawValue &- lower.rawValue
    }

    /// The later of two numbers, in sequence order.
    public static func max(_ a: TCPSeqNumber, _ b: TCPSeqNumber) -> TCPSeqNumber {
        a < b ? b : a
    }

    /// The earlier of two numbers, in sequence order.
    public static func min(_ a: TCPSeqNumber, _ b: TCPSeqNumber) -> TCPSeqNumber {
        a < b ? a : b
    }

    /// The unsigned decimal value, as tcpdump prints it: "4294967295".
    public var description: String {
        var text: [UInt8] = []
        appendDecimal(rawValue, to: &text)
        return String(decoding: text, as: UTF8.self)
    }
}
