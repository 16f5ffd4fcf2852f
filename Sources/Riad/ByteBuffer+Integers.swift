/// The byte order of an integer in memory or on the wire.
public enum Endianness: Sendable, Hashable {
    /// Most significant byte first: network byte order, the default.
    case big
    /// Least significant byte first: x86 and most device registers.
    case little

    /// The byte order of the machine the code runs on.
    public static var host: Endianness {
        UInt16(1).littleEndian == 1 ? .little : .big
    }
}

extension FixedWidthInteger {
    /// `self` converted between host order and `endianness` (the conversion
    /// is its own inverse).
    @inlinable
    func convertedByteOrder(_ endianness: Endianness) -> Self {
        endianness == .big ? bigEndian : littleEndian
    }
}

// MARK: - Integers

extension ByteBuffer {
    /// Reads an integer at the reader index and moves the reader index past
    /// it. Returns nil (and moves nothing) if fewer than
    /// `MemoryLayout<T>.size` bytes are readable.
    ///
    /// - Parameters:
    ///   - endianness: The byte order in the buffer (network order unless told).
    ///   - as: The integer type to read.
    /// - Returns: The integer, or nil.
    ///
    /// ```swift
    /// let length = buffer.readInteger(as: UInt16.self)
    /// ```
    @inlinable
    public mutating func readInteger<T: FixedWidthInteger>(
        endianness: Endianness = .big, as: T.Type = T.self
    ) -> T? {
        guard let value = getInteger(at: readerIndex, endianness: endianness, as: T.self) else {
            return nil
        }
        moveReaderIndex(forwardBy: MemoryLayout<T>.size)
        return value
    }

    /// Reads an integer at `index` without moving the reader index. Returns
    /// nil unless `index..<index + MemoryLayout<T>.size` lies within the
    /// readable bytes.
    ///
    /// ```swift
    /// let flags = buffer.getInteger(at: buffer.readerIndex + 12, as: UInt16.self)
    /// ```
    @inlinable
    public func getInteger<T: FixedWidthInteger>(
        at index: Int, endianness: Endianness = .big, as: T.Type = T.self
    ) -> T? {
        guard readableRange(at: index, length: MemoryLayout<T>.size) != nil else { return nil }
        let raw = (storage.bytes + base).loadUnaligned(fromByteOffset: index, as: T.self)
        return raw.convertedByteOrder(endianness)
    }

    /// Appends `value` at the writer index, growing the buffer if needed,
    /// and moves the writer index past it.
    ///
    /// - Returns: The number of bytes written: `MemoryLayout<T>.size`, or 0
    ///   if the buffer cannot grow that far (`maximumCapacity`).
    ///
    /// ```swift
    /// buffer.writeInteger(UInt32(0xdead_beef), endianness: .little)
    /// ```
    @discardableResult
    @inlinable
    public mutating func writeInteger<T: FixedWidthInteger>(
        _ value: T, endianness: Endianness = .big, as: T.Type = T.self
    ) -> Int {
        let written = setInteger(value, at: writerIndex, endianness: endianness)
        moveWriterIndex(forwardBy: written)
        return written
    }

    /// Writes `value` at `index` without moving either index. `index` must
    /// lie in `0...writerIndex`; the integer may run past the writer index,
    /// growing the buffer.
    ///
    /// - Returns: The number of bytes written: `MemoryLayout<T>.size`, or 0
    ///   (nothing written) when `index` is out of range or the buffer cannot
    ///   grow that far.
    ///
    /// ```swift
    /// let start = buffer.writerIndex
    /// buffer.writeInteger(UInt16(0))  // length, patched below
    /// buffer.writeString(body)
    /// buffer.setInteger(UInt16(buffer.writerIndex - start - 2), at: start)
    /// ```
    @discardableResult
    @inlinable
    public mutating func setInteger<T: FixedWidthInteger>(
        _ value: T, at index: Int, endianness: Endianness = .big, as: T.Type = T.self
    ) -> Int {
        let size = MemoryLayout<T>.size
        guard let end = writableEnd(at: index, length: size), prepareToWrite(upTo: end) else { return 0 }
        (storage.bytes + base).storeBytes(
            of: value.convertedByteOrder(endianness), toByteOffset: index, as: T.self)
        return size
    }

    /// The end of `index..<index + length` if `set*` may write there: the
    /// start within `0...writerIndex`, the length non-negative, no overflow.
    @inlinable
    func writableEnd(at index: Int, length: Int) -> Int? {
        guard index >= 0, index <= writerIndex, length >= 0 else { return nil }
        let (end, overflow) = index.addingReportingOverflow(length)
        return overflow ? nil : end
    }
}
