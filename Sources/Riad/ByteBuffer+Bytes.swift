// Bytes, buffers, slices and strings. The rules of each family (read, get,
// write, set) are described on `ByteBuffer`.

extension ByteBuffer {
    /// A buffer holding `bytes` as its readable bytes.
    public init<Bytes: Sequence>(bytes: Bytes) where Bytes.Element == UInt8 {
        self.init(capacity: bytes.underestimatedCount)
        writeBytes(bytes)
    }

    /// A buffer holding the UTF-8 bytes of `string` as its readable bytes.
    public init(string: String) {
        self.init(capacity: string.utf8.count)
        writeString(string)
    }
}

extension ByteBuffer: ExpressibleByArrayLiteral {
    /// `let buffer: ByteBuffer = [0x45, 0x00]`
    public init(arrayLiteral elements: UInt8...) {
        self.init(bytes: elements)
    }
}

// MARK: - Bytes

extension ByteBuffer {
    /// Reads `length` bytes into an array and moves the reader index past
    /// them. Returns nil (and moves nothing) if fewer are readable.
    public mutating func readBytes(length: Int) -> [UInt8]? {
        guard let bytes = getBytes(at: readerIndex, length: length) else { return nil }
        readerIndex += length
        return bytes
    }

    /// Copies `length` bytes at `index` into an array. Returns nil unless the
    /// range lies within the readable bytes.
    public func getBytes(at index: Int, length: Int) -> [UInt8]? {
        guard let range = readableRange(at: index, length: length) else { return nil }
        let start = storage.bytes + base
        return Array(UnsafeRawBufferPointer(start: start + range.lowerBound, count: length))
    }

    /// Appends `bytes` and moves the writer index past them.
    ///
    /// - Returns: The number of bytes written; 0 if the buffer cannot grow
    ///   that far (then nothing is written).
    @discardableResult
    public mutating func writeBytes<Bytes: Sequence>(_ bytes: Bytes) -> Int where Bytes.Element == UInt8 {
        let written = setBytes(bytes, at: writerIndex)
        writerIndex += written
        return written
    }

    /// Appends the bytes at `bytes` and moves the writer index past them.
    @discardableResult
    public mutating func writeBytes(_ bytes: UnsafeRawBufferPointer) -> Int {
        let written = setBytes(bytes, at: writerIndex)
        writerIndex += written
        return written
    }

    /// Writes `bytes` at `index` without moving either index. `index` must
    /// lie in `0...writerIndex`; the bytes may run past the writer index.
    ///
    /// - Returns: The number of bytes written; 0 if `index` is out of range
    ///   or the buffer cannot grow that far (then nothing is written).
    @discardableResult
    public mutating func setBytes<Bytes: Sequence>(_ bytes: Bytes, at index: Int) -> Int
    where Bytes.Element == UInt8 {
        if let written = bytes.withContiguousStorageIfAvailable({ typed in
            setBytes(UnsafeRawBufferPointer(typed), at: index)
        }) {
            return written
        }
        // A sequence without contiguous storage is written byte by byte; the
        // buffer grows by doubling, and is restored if it cannot grow enough.
        guard writableEnd(at: index, length: 0) != nil else { return 0 }
        let saved = self
        var position = index
        for byte in bytes {
            guard position < ByteBuffer.maximumCapacity, prepareToWrite(upTo: position + 1) else {
                self = saved
                return 0
            }
            (storage.bytes + base).storeBytes(of: byte, toByteOffset: position, as: UInt8.self)
            position += 1
        }
        return position - index
    }

    /// Writes the bytes at `bytes` at `index` without moving either index;
    /// the rules of `setBytes(_:at:)` apply.
    @discardableResult
    public mutating func setBytes(_ bytes: UnsafeRawBufferPointer, at index: Int) -> Int {
        guard let end = writableEnd(at: index, length: bytes.count) else { return 0 }
        guard bytes.count > 0 else { return 0 }
        // `bytes` may point into this buffer's own storage: keep it alive
        // until the copy is done, even if writing reallocates.
        let previous = storage
        return withExtendedLifetime(previous) {
            guard prepareToWrite(upTo: end) else { return 0 }
            (storage.bytes + base + index).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
            return bytes.count
        }
    }

    /// Appends `count` copies of `byte`; returns the number written (0 if
    /// `count` is negative or too large).
    @discardableResult
    public mutating func writeRepeatingByte(_ byte: UInt8, count: Int) -> Int {
        let written = setRepeatingByte(byte, count: count, at: writerIndex)
        writerIndex += written
        return written
    }

    /// Writes `count` copies of `byte` at `index` without moving either
    /// index; the rules of `setBytes(_:at:)` apply.
    @discardableResult
    public mutating func setRepeatingByte(_ byte: UInt8, count: Int, at index: Int) -> Int {
        guard let end = writableEnd(at: index, length: count), count > 0, prepareToWrite(upTo: end) else {
            return 0
        }
        (storage.bytes + base + index).initializeMemory(as: UInt8.self, repeating: byte, count: count)
        return count
    }
}

// MARK: - Buffers and slices

extension ByteBuffer {
    /// The `length` bytes at the reader index as a buffer of their own that
    /// shares this buffer's storage (no copy); moves the reader index past
    /// them. Returns nil (and moves nothing) if fewer are readable.
    public mutating func readSlice(length: Int) -> ByteBuffer? {
        guard let slice = getSlice(at: readerIndex, length: length) else { return nil }
        readerIndex += length
        return slice
    }

    /// The `length` bytes at `index` as a buffer of their own that shares
    /// this buffer's storage. Returns nil unless the range lies within the
    /// readable bytes. The slice's indices start at 0.
    public func getSlice(at index: Int, length: Int) -> ByteBuffer? {
        guard readableRange(at: index, length: length) != nil else { return nil }
        return ByteBuffer(storage: storage, base: base + index, length: length)
    }

    /// Appends the readable bytes of `buffer` and moves its reader index past
    /// them (all of them, or none if this buffer cannot grow enough).
    @discardableResult
    public mutating func writeBuffer(_ buffer: inout ByteBuffer) -> Int {
        let written = writeImmutableBuffer(buffer)
        buffer.moveReaderIndex(forwardBy: written)
        return written
    }

    /// Appends the readable bytes of `buffer`, leaving `buffer` unchanged.
    @discardableResult
    public mutating func writeImmutableBuffer(_ buffer: ByteBuffer) -> Int {
        buffer.withUnsafeReadableBytes { bytes in writeBytes(bytes) }
    }
}

// MARK: - Strings

extension ByteBuffer {
    /// Reads `length` bytes as UTF-8 and moves the reader index past them.
    /// Invalid UTF-8 is repaired (each bad sequence becomes U+FFFD). Returns
    /// nil (and moves nothing) if fewer bytes are readable.
    public mutating func readString(length: Int) -> String? {
        guard let string = getString(at: readerIndex, length: length) else { return nil }
        readerIndex += length
        return string
    }

    /// Decodes `length` bytes at `index` as UTF-8 (repairing invalid
    /// sequences). Returns nil unless the range lies within the readable
    /// bytes.
    public func getString(at index: Int, length: Int) -> String? {
        guard let range = readableRange(at: index, length: length) else { return nil }
        let bytes = UnsafeRawBufferPointer(start: storage.bytes + base + range.lowerBound, count: length)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the UTF-8 bytes of `string`; returns the number written.
    @discardableResult
    public mutating func writeString(_ string: String) -> Int {
        let written = setString(string, at: writerIndex)
        writerIndex += written
        return written
    }

    /// Writes the UTF-8 bytes of `string` at `index` without moving either
    /// index; the rules of `setBytes(_:at:)` apply.
    @discardableResult
    public mutating func setString(_ string: String, at index: Int) -> Int {
        var string = string
        return string.withUTF8 { bytes in setBytes(UnsafeRawBufferPointer(bytes), at: index) }
    }
}

// MARK: - A collection view

extension ByteBuffer {
    /// The readable bytes as a collection, indexed like the buffer
    /// (`readerIndex..<writerIndex`), sharing its storage.
    ///
    /// ```swift
    /// if let end = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) { … }
    /// ```
    public var readableBytesView: ByteBufferView {
        ByteBufferView(buffer: self)
    }
}

/// The readable bytes of a `ByteBuffer` as a random-access collection whose
/// indices are the buffer's own.
public struct ByteBufferView: RandomAccessCollection, Sendable {
    private let buffer: ByteBuffer

    init(buffer: ByteBuffer) {
        self.buffer = buffer
    }

    public var startIndex: Int { buffer.readerIndex }
    public var endIndex: Int { buffer.writerIndex }

    /// The byte at `position`, which must lie in `startIndex..<endIndex`
    /// (as for every collection, out of range traps).
    public subscript(position: Int) -> UInt8 {
        precondition(position >= startIndex && position < endIndex, "ByteBufferView index out of range")
        return (buffer.storage.bytes + buffer.base).load(fromByteOffset: position, as: UInt8.self)
    }
}
