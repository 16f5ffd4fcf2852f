// Domain names on the wire: RFC 1035 section 3.1 (labels: a length octet
// and that many octets, ending with the zero-length root label), section
// 2.3.4 (labels of 63 octets or less, names of 255 octets or less) and
// section 4.1.4 (message compression: two octets 11xxxxxx xxxxxxxx point to
// an earlier occurrence of the rest of the name).
//
// Compression pointers are where DNS parsers loop or read out of bounds.
// Here a pointer must point strictly before the place the name being read
// started (its first octet, or the target of the previous pointer), so that
// every jump goes backwards and reading always ends; never into the 12-octet
// header; and at most `maximumJumps` jumps are followed. Label types 01 and
// 10 (RFC 6891 section 5 deprecated the extended ones) are refused.

/// Reads the labels of a name in a message, following compression pointers.
///
/// ```swift
/// var reader = DNSNameReader(message, at: 12)
/// while let label = try reader.next() { ... message[label] ... }
/// let afterName = reader.end  // where the next field starts
/// ```
struct DNSNameReader {
    /// RFC 1035 section 2.3.4.
    static let maximumLabelLength = 63
    static let maximumNameLength = 255
    /// Enough for any name a server compresses sensibly; a name needs at most
    /// one pointer, but a chain of suffixes may take a few.
    static let maximumJumps = 32

    private let bytes: UnsafeRawBufferPointer
    private var position: Int
    /// Pointers must point before this.
    private var limit: Int
    /// The octets of the name so far, length octets and root included.
    private var length = 0
    private var jumps = 0
    private var endAfterPointer: Int?
    private var finished = false

    /// A reader of the name at `offset` in `bytes` (a whole message, since
    /// pointers count from its start).
    init(_ bytes: UnsafeRawBufferPointer, at offset: Int) {
        self.bytes = bytes
        self.position = offset
        self.limit = offset
    }

    /// Where the name ends in the message: the offset after its root label
    /// or its first pointer. Valid once `next()` has returned nil.
    var end: Int { endAfterPointer ?? position }

    /// The place of the next label's octets in the message, or nil at the root.
    ///
    /// - Throws: `.truncated` if the message ends inside the name;
    ///   `.malformed("label type")`, `.malformed("compression pointer")`
    ///   (forwards, or too many jumps), `.malformed("name length")`.
    mutating func next() throws(WireError) -> Range<Int>? {
        guard !finished else { return nil }
        while true {
            guard position < bytes.count else { throw .truncated }
            let octet = bytes[position]
            switch octet >> 6 {
            case 0:
                let labelLength = Int(octet)
                length += 1 + labelLength
                guard length <= DNSNameReader.maximumNameLength else { throw .malformed("name length") }
                if labelLength == 0 {
                    position += 1
                    finished = true
                    return nil
                }
                let start = position + 1
                guard labelLength <= bytes.count - start else { throw .truncated }
                position = start + labelLength
                return start..<position
            case 3:
                guard position + 1 < bytes.count else { throw .truncated }
                let target = Int(octet & 0x3f) << 8 | Int(bytes[position + 1])
                jumps += 1
                // Names start after the header; a pointer into it is forged.
                guard target >= DNSMessage.headerLength, target < limit,
                    jumps <= DNSNameReader.maximumJumps
                else {
                    throw .malformed("compression pointer")
                }
                if endAfterPointer == nil { endAfterPointer = position + 2 }
                position = target
                limit = target
            default:
                throw .malformed("label type")
            }
        }
    }

    /// Reads the whole name at `offset`, checking it, and returns where it ends.
    static func skip(_ bytes: UnsafeRawBufferPointer, at offset: Int) throws(WireError) -> Int {
        var reader = DNSNameReader(bytes, at: offset)
        while try reader.next() != nil {}
        return reader.end
    }

    /// Whether the names at `a` and `b` are the same, comparing ASCII letters
    /// without regard to case (RFC 1035 section 2.3.3, RFC 4343 section 3).
    static func equal(_ bytes: UnsafeRawBufferPointer, _ a: Int, _ b: Int) throws(WireError) -> Bool {
        if a == b { return true }
        var first = DNSNameReader(bytes, at: a)
        var second = DNSNameReader(bytes, at: b)
        while true {
            let one = try first.next()
            let other = try second.next()
            guard let one, let other else { return one == nil && other == nil }
            guard one.count == other.count else { return false }
            for index in 0..<one.count
            where lowercased(bytes[one.lowerBound + index]) != lowercased(bytes[other.lowerBound + index]) {
                return false
            }
        }
    }

    /// Whether the name at `offset` is `dotted` ("example.com", no trailing
    /// dot, labels checked by `DNSName.validate`).
    static func equal<Dotted: Sequence>(
        _ bytes: UnsafeRawBufferPointer, _ offset: Int, dotted: Dotted
    ) throws(WireError) -> Bool where Dotted.Element == UInt8 {
        var reader = DNSNameReader(bytes, at: offset)
        guard var label = try reader.next() else { return false }
        var index = 0
        for byte in dotted {
            if byte == UInt8(ascii: ".") {
                guard index == label.count, let next = try reader.next() else { return false }
                label = next
                index = 0
            } else {
                guard index < label.count,
                    lowercased(bytes[label.lowerBound + index]) == lowercased(byte)
                else { return false }
                index += 1
            }
        }
        guard index == label.count else { return false }
        return try reader.next() == nil
    }

    @inline(__always)
    static func lowercased(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
    }
}

/// Names given by the program, as dotted text.
enum DNSName {
    /// Checks a dotted host name ("www.example.com", a trailing dot allowed)
    /// and returns its octets on the wire, length octets and root included.
    ///
    /// Labels are 1 to 63 octets (RFC 1035 section 2.3.4) of letters,
    /// digits and hyphens (section 2.3.1, with RFC 1123 section 2.1's
    /// leading digits), plus the underscore of service names (RFC 2782);
    /// the name is 255 octets at most on the wire.
    static func validate<Dotted: Collection>(_ dotted: Dotted) throws(WireError) -> Int
    where Dotted.Element == UInt8 {
        var count = 0
        var last: UInt8 = 0
        for byte in dotted {
            count += 1
            last = byte
        }
        if count > 0, last == UInt8(ascii: ".") { count -= 1 }
        guard count > 0 else { throw .malformed("name") }
        var label = 0
        for byte in dotted.prefix(count) {
            if byte == UInt8(ascii: ".") {
                guard label > 0 else { throw .malformed("name") }
                label = 0
                continue
            }
            let letter = DNSNameReader.lowercased(byte)
            guard
                (letter >= UInt8(ascii: "a") && letter <= UInt8(ascii: "z"))
                    || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                    || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
            else { throw .malformed("name") }
            label += 1
            guard label <= DNSNameReader.maximumLabelLength else { throw .malformed("label length") }
        }
        guard label > 0 else { throw .malformed("name") }
        // Each dot becomes a length octet, plus the first one and the root.
        let wireLength = count + 2
        guard wireLength <= DNSNameReader.maximumNameLength else { throw .malformed("name length") }
        return wireLength
    }

    /// Writes a name that `validate` accepted at `offset`; returns the
    /// offset after it.
    static func write<Dotted: Collection>(
        _ dotted: Dotted, to bytes: UnsafeMutableRawBufferPointer, at offset: Int
    ) -> Int where Dotted.Element == UInt8 {
        var lengthAt = offset
        var index = offset + 1
        for byte in dotted {
            if byte == UInt8(ascii: ".") {
                bytes[lengthAt] = UInt8(truncatingIfNeeded: index - lengthAt - 1)
                lengthAt = index
            } else {
                bytes[index] = byte
            }
            index += 1
        }
        let last = index - lengthAt - 1
        bytes[lengthAt] = UInt8(truncatingIfNeeded: last)
        // A trailing dot left an empty label: that is the root already.
        if last == 0 { return index }
        bytes[index] = 0
        return index + 1
    }
}
