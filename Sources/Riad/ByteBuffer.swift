/// A growable buffer of bytes with a reader index and a writer index.
///
/// ```
/// +-------------------+------------------+------------------+
/// | read bytes        | readable bytes   | writable bytes   |
/// +-------------------+------------------+------------------+
/// 0            readerIndex        writerIndex           capacity
/// ```
///
/// The API comes in regular families (see `ByteBuffer+Integers.swift`,
/// `ByteBuffer+Bytes.swift`):
///
/// * `read*` takes from the readable bytes and moves the reader index; it
///   returns nil (and moves nothing) when there are not enough bytes.
/// * `get*(at:)` reads at an index without moving anything; the range must
///   lie within the readable bytes (`readerIndex..<writerIndex`), otherwise
///   it returns nil.
/// * `write*` appends at the writer index, growing the buffer, and moves the
///   writer index; it returns the number of bytes written.
/// * `set*(at:)` overwrites at an index without moving anything. The index
///   must lie in `0...writerIndex`; the bytes may run past the writer index
///   (the buffer grows), but stay unreadable until the writer index moves
///   over them. Out of range, it writes nothing and returns 0.
///
/// No index or length a caller supplies makes the buffer trap: every range
/// is checked, with overflow-checked arithmetic. The capacity never exceeds
/// `ByteBuffer.maximumCapacity`; a write that would need more writes nothing
/// and returns 0. (Running out of memory stops the kernel, as any allocation
/// does.)
///
/// `ByteBuffer` is a value: copies share storage until one of them is
/// written (copy on write). Slices share their parent's storage too, so
/// `readSlice(length:)` copies nothing.
///
/// ```swift
/// var buffer = ByteBuffer()
/// buffer.writeInteger(UInt16(0x0800))
/// buffer.writeString("hello")
/// let type = buffer.readInteger(as: UInt16.self)  // 0x0800
/// let text = buffer.readString(length: 5)  // "hello"
/// ```
public struct ByteBuffer: Sendable {
    /// The largest capacity a buffer can have: 4 GiB - 1.
    public static let maximumCapacity = Int(UInt32.max)

    @usableFromInline var storage: ByteBufferStorage
    /// Where this buffer starts in `storage` (non-zero for slices).
    @usableFromInline var base: Int
    @usableFromInline var _capacity: Int
    /// The index of the next byte to read.
    public internal(set) var readerIndex: Int
    /// The index of the next byte to write.
    public internal(set) var writerIndex: Int

    /// An empty buffer that can take `capacity` bytes before it grows. The
    /// capacity is a hint: a negative one, or one over `maximumCapacity`, is
    /// ignored (the buffer starts with none and grows as it is written).
    public init(capacity: Int = 0) {
        let capacity = capacity >= 0 && capacity <= ByteBuffer.maximumCapacity ? capacity : 0
        self.storage = ByteBufferStorage(capacity: capacity)
        self.base = 0
        self._capacity = capacity
        self.readerIndex = 0
        self.writerIndex = 0
    }

    init(storage: ByteBufferStorage, base: Int, length: Int) {
        self.storage = storage
        self.base = base
        self._capacity = length
        self.readerIndex = 0
        self.writerIndex = length
    }

    /// The number of bytes the buffer holds before it must grow.
    public var capacity: Int { _capacity }
    /// The number of bytes `read*` can take: `writerIndex - readerIndex`.
    public var readableBytes: Int { writerIndex - readerIndex }
    /// The number of bytes `write*` can add without growing.
    public var writableBytes: Int { _capacity - writerIndex }
}

/// The heap memory behind one or more buffers. Its bytes are zeroed when
/// allocated, so no buffer ever exposes memory it did not write (old frames,
/// other tasks' data).
@usableFromInline final class ByteBufferStorage: @unchecked Sendable {
    @usableFromInline let bytes: UnsafeMutableRawPointer
    @usableFromInline let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
        self.bytes = UnsafeMutableRawPointer.allocate(byteCount: Swift.max(capacity, 1), alignment: 16)
        bytes.initializeMemory(as: UInt8.self, repeating: 0, count: Swift.max(capacity, 1))
    }

    deinit {
        bytes.deallocate()
    }
}

// MARK: - Indices

extension ByteBuffer {
    /// Moves the reader index by `offset` (negative moves it back). Returns
    /// false and moves nothing if the result would leave `0...writerIndex`.
    @discardableResult
    public mutating func moveReaderIndex(forwardBy offset: Int) -> Bool {
        let (index, overflow) = readerIndex.addingReportingOverflow(offset)
        return !overflow && moveReaderIndex(to: index)
    }

    /// Sets the reader index. Returns false and moves nothing if `index` is
    /// outside `0...writerIndex`.
    @discardableResult
    public mutating func moveReaderIndex(to index: Int) -> Bool {
        guard index >= 0, index <= writerIndex else { return false }
        readerIndex = index
        return true
    }

    /// Moves the writer index by `offset` (negative moves it back). Returns
    /// false and moves nothing if the result would leave
    /// `readerIndex...capacity`. Use it after writing through
    /// `withUnsafeMutableWritableBytes`.
    @discardableResult
    public mutating func moveWriterIndex(forwardBy offset: Int) -> Bool {
        let (index, overflow) = writerIndex.addingReportingOverflow(offset)
        return !overflow && moveWriterIndex(to: index)
    }

    /// Sets the writer index. Returns false and moves nothing if `index` is
    /// outside `readerIndex...capacity`.
    @discardableResult
    public mutating func moveWriterIndex(to index: Int) -> Bool {
        guard index >= readerIndex, index <= _capacity else { return false }
        writerIndex = index
        return true
    }

    /// Forgets all bytes: both indices go to 0. The capacity stays.
    public mutating func clear() {
        readerIndex = 0
        writerIndex = 0
    }

    /// Moves the readable bytes to the start of the buffer, so that the
    /// space of the bytes already read can be written again. Returns false
    /// if there was nothing to discard.
    @discardableResult
    public mutating func discardReadBytes() -> Bool {
        guard readerIndex > 0 else { return false }
        let count = readableBytes
        if isKnownUniquelyReferenced(&storage) {
            let start = storage.bytes + base
            start.copyMemory(from: start + readerIndex, byteCount: count)
        } else {
            let copy = ByteBufferStorage(capacity: _capacity)
            copy.bytes.copyMemory(from: storage.bytes + base + readerIndex, byteCount: count)
            storage = copy
            base = 0
        }
        readerIndex = 0
        writerIndex = count
        return true
    }

    /// The range `index..<index + length` if it lies within the readable
    /// bytes, nil otherwise (negative values and overflow included).
    @inlinable
    func readableRange(at index: Int, length: Int) -> Range<Int>? {
        guard index >= readerIndex, length >= 0 else { return nil }
        let (end, overflow) = index.addingReportingOverflow(length)
        guard !overflow, end <= writerIndex else { return nil }
        return index..<end
    }
}

// MARK: - Capacity and copy on write

extension ByteBuffer {
    /// Grows the capacity to at least `minimumCapacity`. Returns false (and
    /// changes nothing) if that is more than `maximumCapacity`.
    @discardableResult
    public mutating func reserveCapacity(_ minimumCapacity: Int) -> Bool {
        guard minimumCapacity <= ByteBuffer.maximumCapacity else { return false }
        guard minimumCapacity > _capacity else { return true }
        reallocate(capacity: minimumCapacity)
        return true
    }

    /// Grows the capacity so that `writableBytes >= minimumWritableBytes`.
    /// Returns false (and changes nothing) if that would exceed
    /// `maximumCapacity`.
    @discardableResult
    public mutating func reserveCapacity(minimumWritableBytes: Int) -> Bool {
        let (needed, overflow) = writerIndex.addingReportingOverflow(Swift.max(minimumWritableBytes, 0))
        return !overflow && reserveCapacity(needed)
    }

    /// Makes the storage unique and at least `end` bytes long, so bytes up
    /// to `end` can be written. Returns false if `end` is negative or over
    /// `maximumCapacity`.
    @usableFromInline
    mutating func prepareToWrite(upTo end: Int) -> Bool {
        guard end >= 0, end <= ByteBuffer.maximumCapacity else { return false }
        if end > _capacity {
            // Doubling keeps a run of small writes linear overall.
            var grown = Swift.max(_capacity, 64)
            while grown < end { grown = grown > ByteBuffer.maximumCapacity / 2 ? end : grown * 2 }
            reallocate(capacity: Swift.min(grown, ByteBuffer.maximumCapacity))
        } else if !isKnownUniquelyReferenced(&storage) {
            reallocate(capacity: _capacity)
        }
        return true
    }

    private mutating func reallocate(capacity: Int) {
        let copy = ByteBufferStorage(capacity: capacity)
        copy.bytes.copyMemory(from: storage.bytes + base, byteCount: Swift.min(_capacity, capacity))
        storage = copy
        base = 0
        _capacity = capacity
    }
}

// MARK: - Unsafe access

extension ByteBuffer {
    /// Calls `body` with the readable bytes, in place. The pointer is valid
    /// only during the call.
    @inlinable
    public func withUnsafeReadableBytes<Result, Failure: Error>(
        _ body: (UnsafeRawBufferPointer) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        try body(UnsafeRawBufferPointer(start: storage.bytes + base + readerIndex, count: readableBytes))
    }

    /// Calls `body` with the writable bytes (`writerIndex..<capacity`), in
    /// place, for a device to fill without a copy; then call
    /// `moveWriterIndex(forwardBy:)` with the number of bytes written.
    /// Reserve the space first (`reserveCapacity(minimumWritableBytes:)`).
    /// The pointer is valid only during the call.
    @inlinable
    public mutating func withUnsafeMutableWritableBytes<Result, Failure: Error>(
        _ body: (UnsafeMutableRawBufferPointer) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        _ = prepareToWrite(upTo: _capacity)
        return try body(
            UnsafeMutableRawBufferPointer(start: storage.bytes + base + writerIndex, count: writableBytes))
    }

    /// Reserves `minimumWritableBytes`, lets `body` fill the writable bytes
    /// and moves the writer index by the count `body` returns, clamped to
    /// `0...writableBytes`. Returns that count; 0 if the space could not be
    /// reserved (then `body` is not called).
    @discardableResult
    public mutating func writeWithUnsafeMutableBytes<Failure: Error>(
        minimumWritableBytes: Int, _ body: (UnsafeMutableRawBufferPointer) throws(Failure) -> Int
    ) throws(Failure) -> Int {
        guard reserveCapacity(minimumWritableBytes: minimumWritableBytes) else { return 0 }
        let written = try withUnsafeMutableWritableBytes(body)
        let count = Swift.min(Swift.max(written, 0), writableBytes)
        writerIndex += count
        return count
    }
}

// MARK: - Equality and description

extension ByteBuffer: Equatable {
    /// Two buffers are equal when their readable bytes are.
    public static func == (lhs: ByteBuffer, rhs: ByteBuffer) -> Bool {
        guard lhs.readableBytes == rhs.readableBytes else { return false }
        return lhs.withUnsafeReadableBytes { left in
            rhs.withUnsafeReadableBytes { right in left.elementsEqual(right) }
        }
    }
}

extension ByteBuffer: CustomStringConvertible {
    /// The indices and the first 32 readable bytes in hex:
    /// "ByteBuffer(readerIndex: 0, writerIndex: 3, capacity: 64, readable: 01 02 ff)".
    public var description: String {
        var hex: [UInt8] = []
        withUnsafeReadableBytes { bytes in
            let digits: StaticString = "0123456789abcdef"
            for byte in bytes.prefix(32) {
                if !hex.isEmpty { hex.append(UInt8(ascii: " ")) }
                hex.append(digits.utf8Start[Int(byte >> 4)])
                hex.append(digits.utf8Start[Int(byte & 0xf)])
            }
        }
        let more = readableBytes > 32 ? " …" : ""
        return "ByteBuffer(readerIndex: \(readerIndex), writerIndex: \(writerIndex), capacity: \(_capacity), "
            + "readable: " + String(decoding: hex, as: UTF8.self) + more + ")"
    }
}
