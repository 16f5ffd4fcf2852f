/// The Internet checksum (RFC 1071): the ones' complement of the ones'
/// complement sum of 16-bit big-endian words. IPv4, ICMP, UDP and TCP use it.
public struct InternetChecksum {
    private var sum: UInt32 = 0
    /// A byte left over from an odd-length chunk, waiting for its partner.
    private var pending: UInt8?

    public init() {}

    /// Adds `bytes` to the sum; chunks may have any length.
    public mutating func add(_ bytes: UnsafeRawBufferPointer) {
        var index = 0
        if let high = pending, !bytes.isEmpty {
            addWord(UInt16(high) << 8 | UInt16(bytes[0]))
            pending = nil
            index = 1
        }
        // Eight bytes at a time: the ones' complement sum does not depend on
        // byte order (RFC 1071 section 2(B)), so words are summed as the CPU
        // loads them and the folded sum swapped to network order once. Each
        // step adds two 32-bit halves to a 64-bit total, which cannot
        // overflow for any buffer below 2^34 bytes.
        var wide: UInt64 = 0
        while index + 8 <= bytes.count {
            let word = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self))
            wide &+= (word & 0xffff_ffff) &+ (word >> 32)
            index += 8
        }
        if wide != 0 {
            while wide >> 16 != 0 { wide = (wide & 0xffff) &+ (wide >> 16) }
            // Little-endian words: the sum's bytes are swapped.
            addWord(UInt16(truncatingIfNeeded: wide).byteSwapped)
        }
        while index + 1 < bytes.count {
            addWord(UInt16(bytes[index]) << 8 | UInt16(bytes[index + 1]))
            index += 2
        }
        if index < bytes.count { pending = bytes[index] }
    }

    /// Adds one 16-bit word (as it appears big-endian on the wire).
    public mutating func addWord(_ word: UInt16) {
        sum &+= UInt32(word)
        // Fold now and then so that the 32-bit sum never overflows.
        if sum & 0x8000_0000 != 0 { sum = (sum & 0xffff) &+ (sum >> 16) }
    }

    /// The checksum to put on the wire.
    public var value: UInt16 {
        var total = sum
        if let high = pending { total &+= UInt32(high) << 8 }
        while total >> 16 != 0 { total = (total & 0xffff) &+ (total >> 16) }
        return ~UInt16(total)
    }

    /// The one's-complement sum itself, folded to 16 bits and not
    /// complemented: what a partial checksum field holds for a device that
    /// adds the rest (virtio-net's NEEDS_CSUM, Linux's CHECKSUM_PARTIAL).
    public var folded: UInt16 { ~value }

    /// The checksum of `bytes` alone.
    public static func of(_ bytes: UnsafeRawBufferPointer) -> UInt16 {
        var checksum = InternetChecksum()
        checksum.add(bytes)
        return checksum.value
    }
}
