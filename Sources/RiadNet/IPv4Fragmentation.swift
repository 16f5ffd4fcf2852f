// IPv4 fragmentation on send: RFC 791 section 3.2 ("An Example
// Fragmentation Procedure") and section 2.3; RFC 6864 for the identification.

/// The fragments a datagram is sent in on a link with MTU `mtu`: each at
/// most `mtu` bytes with its 20-byte header, data in multiples of 8 bytes
/// but the last's, offsets in 8-byte units, MF on all but the last, all with
/// the datagram's identification. A datagram that fits is its own one
/// fragment, unchanged.
///
/// ```swift
/// guard let fragments = IPv4Fragments(datagram, mtu: 1500) else { return }  // DF, too big
/// for (header, range) in fragments {
///     // emit header, then bytes `range` of the payload after it
/// }
/// ```
///
/// A fragment can be fragmented again: offsets count from its own, and the
/// last piece keeps its MF flag.
public struct IPv4Fragments: Sequence, IteratorProtocol {
    public let datagram: IPv4Repr
    /// The payload bytes each fragment but the last carries.
    public let fragmentPayloadLength: Int
    private var position = 0
    private var finished = false

    /// The fragments of `datagram`, or nil if it does not fit `mtu` and
    /// its DF flag forbids fragmenting it, or `mtu` is below the 28 bytes
    /// that hold a header and 8 bytes of data (RFC 791: every module must
    /// forward 68 bytes).
    public init?(_ datagram: IPv4Repr, mtu: Int) {
        let fits = datagram.bufferLength <= mtu
        guard fits || (!datagram.dontFragment && mtu >= IPv4Repr.headerLength + 8) else { return nil }
        self.datagram = datagram
        fragmentPayloadLength = fits ? datagram.payloadLength : (mtu - IPv4Repr.headerLength) / 8 * 8
    }

    /// How many fragments: 1 if the datagram fits.
    public var count: Int {
        Swift.max(
            1, (datagram.payloadLength + fragmentPayloadLength - 1) / Swift.max(fragmentPayloadLength, 1))
    }

    /// The next fragment's header and the range of the datagram's payload
    /// it carries.
    public mutating func next() -> (header: IPv4Repr, payload: Range<Int>)? {
        guard !finished else { return nil }
        let start = position
        let end = Swift.min(start + fragmentPayloadLength, datagram.payloadLength)
        position = end
        finished = end == datagram.payloadLength
        var header = datagram
        header.payloadLength = end - start
        header.fragmentOffset = datagram.fragmentOffset + start
        header.moreFragments = !finished || datagram.moreFragments
        return (header, start..<end)
    }
}
