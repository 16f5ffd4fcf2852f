/// Bounds-checked little-endian access to untrusted bytes.
///
/// Everything the tender reads from a kernel file is hostile: an offset or a
/// length may hold any value its field can, and the sum of two of them may
/// overflow. These helpers turn every such computation into an optional, so
/// that no input can make the tender trap on an overflow or an index out of
/// range; the caller turns `nil` into an error that names what was wrong.

// MARK: - Checked arithmetic

extension FixedWidthInteger {
    /// `self + other`, or nil if the sum does not fit in `Self`.
    @inlinable
    public func checkedAdding(_ other: Self) -> Self? {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? nil : sum
    }

    /// `self * other`, or nil if the product does not fit in `Self`.
    @inlinable
    public func checkedMultiplying(by other: Self) -> Self? {
        let (product, overflow) = multipliedReportingOverflow(by: other)
        return overflow ? nil : product
    }

    /// `self` rounded up to a multiple of `alignment` (a power of two), or nil
    /// if that multiple does not fit in `Self` or `alignment` is not a power
    /// of two.
    @inlinable
    public func roundedUp(toMultipleOf alignment: Self) -> Self? {
        guard alignment > 0, alignment & (alignment - 1) == 0 else { return nil }
        guard let bumped = checkedAdding(alignment - 1) else { return nil }
        return bumped & ~(alignment - 1)
    }

    /// Whether `self` is a multiple of `alignment` (a power of two).
    @inlinable
    public func isAligned(to alignment: Self) -> Bool {
        alignment > 0 && self & (alignment - 1) == 0
    }
}

// MARK: - Reading

/// Bytes that can be read at checked offsets.
///
/// `[UInt8]` (a kernel file) and raw buffers (guest memory, a mapped file)
/// conform, so one set of checked readers serves both.
public protocol ByteSource {
    /// How many bytes can be read, from index 0.
    var byteCount: Int { get }
    /// The byte at `index`. Only called with `0 <= index < byteCount`.
    func byte(uncheckedAt index: Int) -> UInt8
    /// A copy of the bytes in `range`. Only called with a range inside
    /// `0..<byteCount`.
    func copy(uncheckedRange range: Range<Int>) -> [UInt8]
}

extension Array: ByteSource where Element == UInt8 {
    public var byteCount: Int { count }
    public func byte(uncheckedAt index: Int) -> UInt8 { self[index] }
    public func copy(uncheckedRange range: Range<Int>) -> [UInt8] { Array(self[range]) }
}

extension UnsafeRawBufferPointer: ByteSource {
    public var byteCount: Int { count }
    public func byte(uncheckedAt index: Int) -> UInt8 { self[index] }
    public func copy(uncheckedRange range: Range<Int>) -> [UInt8] {
        Array(UnsafeRawBufferPointer(rebasing: self[range]))
    }
}

extension UnsafeMutableRawBufferPointer: ByteSource {
    public var byteCount: Int { count }
    public func byte(uncheckedAt index: Int) -> UInt8 { self[index] }
    public func copy(uncheckedRange range: Range<Int>) -> [UInt8] {
        Array(UnsafeRawBufferPointer(rebasing: self[range]))
    }
}

extension ByteSource {
    /// The index range `[offset, offset + count)` if it lies wholly inside the
    /// bytes, else nil. Offsets and counts come straight from untrusted
    /// fields, so they may be negative, larger than `Int.max` or sum past it;
    /// all of those give nil.
    @inlinable
    public func range<Offset: BinaryInteger, Count: BinaryInteger>(
        at offset: Offset, count: Count
    ) -> Range<Int>? {
        guard let start = Int(exactly: offset), let length = Int(exactly: count),
            start >= 0, length >= 0, let end = start.checkedAdding(length), end <= byteCount
        else { return nil }
        return start..<end
    }

    /// Whether `[offset, offset + count)` lies wholly inside the bytes.
    @inlinable
    public func contains<Offset: BinaryInteger, Count: BinaryInteger>(
        offset: Offset, count: Count
    ) -> Bool {
        range(at: offset, count: count) != nil
    }

    /// The little-endian unsigned integer of `T`'s width at `offset`, or nil
    /// if any of its bytes lies outside.
    @inlinable
    public func littleEndian<T: FixedWidthInteger & UnsignedInteger, Offset: BinaryInteger>(
        _ type: T.Type, at offset: Offset
    ) -> T? {
        guard let range = range(at: offset, count: MemoryLayout<T>.size) else { return nil }
        var value: T = 0
        // Most significant byte first, so each step shifts the result left.
        for index in range.reversed() {
            value = value << 8 | T(byte(uncheckedAt: index))
        }
        return value
    }

    /// The byte at `offset`, or nil if it lies outside.
    @inlinable
    public func u8<Offset: BinaryInteger>(at offset: Offset) -> UInt8? {
        littleEndian(UInt8.self, at: offset)
    }

    /// The little-endian `UInt16` at `offset`, or nil if it lies outside.
    @inlinable
    public func u16<Offset: BinaryInteger>(at offset: Offset) -> UInt16? {
        littleEndian(UInt16.self, at: offset)
    }

    /// The little-endian `UInt32` at `offset`, or nil if it lies outside.
    @inlinable
    public func u32<Offset: BinaryInteger>(at offset: Offset) -> UInt32? {
        littleEndian(UInt32.self, at: offset)
    }

    /// The little-endian `UInt64` at `offset`, or nil if it lies outside.
    @inlinable
    public func u64<Offset: BinaryInteger>(at offset: Offset) -> UInt64? {
        littleEndian(UInt64.self, at: offset)
    }

    /// A copy of the `count` bytes at `offset`, or nil if any lies outside.
    @inlinable
    public func bytes<Offset: BinaryInteger, Count: BinaryInteger>(
        at offset: Offset, count: Count
    ) -> [UInt8]? {
        guard let range = range(at: offset, count: count) else { return nil }
        return copy(uncheckedRange: range)
    }
}

// MARK: - Writing

/// A zero-filled byte array that little-endian fields are stored into, used
/// to lay out C structures (such as the manifest handed to the guest) without
/// depending on Swift's view of a C struct's padding.
///
/// Offsets written here come from the tender's own layout constants, never
/// from input, so an offset outside the array is a bug in the tender and
/// stops it rather than being reported as an input error.
struct ByteWriter {
    private(set) var bytes: [UInt8]

    init(count: Int) {
        bytes = [UInt8](repeating: 0, count: count)
    }

    mutating func put<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        let size = MemoryLayout<T>.size
        precondition(offset >= 0 && offset <= bytes.count - size, "ByteWriter: offset out of range")
        var rest = value
        for index in offset..<offset + size {
            bytes[index] = UInt8(truncatingIfNeeded: rest)
            rest >>= 8  // a smart shift: never traps, even for UInt8
        }
    }

    mutating func put(bytes source: [UInt8], at offset: Int) {
        precondition(
            offset >= 0 && offset <= bytes.count - source.count, "ByteWriter: offset out of range")
        bytes.replaceSubrange(offset..<offset + source.count, with: source)
    }
}
