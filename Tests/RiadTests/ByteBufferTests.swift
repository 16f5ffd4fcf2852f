import Riad
import XCTest

final class ByteBufferIntegerTests: XCTestCase {
    func testIntegerRoundTripsBothEndiannesses() {
        for endianness in [Endianness.big, .little] {
            var buffer = ByteBuffer()
            buffer.writeInteger(UInt8(0xab), endianness: endianness)
            buffer.writeInteger(Int16(-2), endianness: endianness)
            buffer.writeInteger(UInt32(0xdead_beef), endianness: endianness)
            buffer.writeInteger(Int64.min, endianness: endianness)
            buffer.writeInteger(UInt64.max - 1, endianness: endianness)
            buffer.writeInteger(Int(-123_456), endianness: endianness)
            XCTAssertEqual(buffer.readableBytes, 1 + 2 + 4 + 8 + 8 + 8)
            XCTAssertEqual(buffer.readInteger(endianness: endianness, as: UInt8.self), 0xab)
            XCTAssertEqual(buffer.readInteger(endianness: endianness, as: Int16.self), -2)
            XCTAssertEqual(buffer.readInteger(endianness: endianness, as: UInt32.self), 0xdead_beef)
            XCTAssertEqual(buffer.readInteger(endianness: endianness, as: Int64.self), Int64.min)
            XCTAssertEqual(buffer.readInteger(endianness: endianness, as: UInt64.self), UInt64.max - 1)
            XCTAssertEqual(buffer.readInteger(endianness: endianness, as: Int.self), -123_456)
            XCTAssertEqual(buffer.readableBytes, 0)
            XCTAssertNil(buffer.readInteger(as: UInt8.self))
        }
    }

    func testByteOrderOnTheWire() {
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt32(0x0102_0304))
        buffer.writeInteger(UInt32(0x0102_0304), endianness: .little)
        XCTAssertEqual(buffer.getBytes(at: 0, length: 8), [1, 2, 3, 4, 4, 3, 2, 1])
        XCTAssertEqual(buffer.getInteger(at: 0, as: UInt16.self), 0x0102)
        XCTAssertEqual(buffer.getInteger(at: 4, endianness: .little, as: UInt16.self), 0x0304)
        XCTAssertEqual(Endianness.host, .little)  // x86-64, the only architecture we build for
    }

    func testReadWithTooFewBytesReturnsNilAndDoesNotMove() {
        var buffer: ByteBuffer = [1, 2, 3]
        XCTAssertNil(buffer.readInteger(as: UInt32.self))
        XCTAssertEqual(buffer.readerIndex, 0)
        XCTAssertEqual(buffer.readInteger(as: UInt16.self), 0x0102)
        XCTAssertNil(buffer.readInteger(as: UInt16.self))
        XCTAssertEqual(buffer.readerIndex, 2)
    }

    func testGetOutOfRangeReturnsNil() {
        var buffer: ByteBuffer = [1, 2, 3, 4, 5, 6, 7, 8]
        XCTAssertNil(buffer.getInteger(at: -1, as: UInt8.self))
        XCTAssertNil(buffer.getInteger(at: 5, as: UInt32.self))
        XCTAssertNil(buffer.getInteger(at: 8, as: UInt8.self))
        XCTAssertNil(buffer.getInteger(at: Int.max, as: UInt64.self))
        XCTAssertNil(buffer.getInteger(at: Int.max - 3, as: UInt64.self))
        XCTAssertNil(buffer.getInteger(at: Int.min, as: UInt8.self))
        XCTAssertEqual(buffer.getInteger(at: 4, as: UInt32.self), 0x0506_0708)
        // Bytes already read are out of range for get.
        buffer.moveReaderIndex(forwardBy: 2)
        XCTAssertNil(buffer.getInteger(at: 1, as: UInt8.self))
        XCTAssertEqual(buffer.getInteger(at: 2, as: UInt8.self), 3)
    }

    func testSetOverwritesWithoutMovingIndices() {
        var buffer = ByteBuffer()
        let start = buffer.writerIndex
        buffer.writeInteger(UInt16(0))
        buffer.writeString("abc")
        XCTAssertEqual(buffer.setInteger(UInt16(buffer.writerIndex - start - 2), at: start), 2)
        XCTAssertEqual(buffer.readerIndex, 0)
        XCTAssertEqual(buffer.writerIndex, 5)
        XCTAssertEqual(buffer.readInteger(as: UInt16.self), 3)
    }

    func testSetRangeRules() {
        var buffer: ByteBuffer = [1, 2]
        // Past the writer index: refused.
        XCTAssertEqual(buffer.setInteger(UInt8(9), at: 3), 0)
        XCTAssertEqual(buffer.setInteger(UInt8(9), at: -1), 0)
        XCTAssertEqual(buffer.setInteger(UInt64(9), at: Int.max), 0)
        XCTAssertEqual(buffer.setInteger(UInt8(9), at: Int.min), 0)
        XCTAssertEqual(buffer.getBytes(at: 0, length: 2), [1, 2])
        // At the writer index: allowed, grows, stays unreadable until the
        // writer index moves.
        XCTAssertEqual(buffer.setInteger(UInt32(0x0a0b_0c0d), at: 2), 4)
        XCTAssertEqual(buffer.readableBytes, 2)
        XCTAssertGreaterThanOrEqual(buffer.capacity, 6)
        XCTAssertTrue(buffer.moveWriterIndex(forwardBy: 4))
        XCTAssertEqual(buffer.readBytes(length: 6), [1, 2, 0x0a, 0x0b, 0x0c, 0x0d])
    }
}

final class ByteBufferBytesTests: XCTestCase {
    func testBytesRoundTrip() {
        var buffer = ByteBuffer()
        XCTAssertEqual(buffer.writeBytes([1, 2, 3]), 3)
        XCTAssertEqual(buffer.writeBytes(UInt8(4)...UInt8(6)), 3)  // not contiguous
        let raw: [UInt8] = [7, 8]
        raw.withUnsafeBytes { XCTAssertEqual(buffer.writeBytes($0), 2) }
        XCTAssertEqual(buffer.writeBytes([UInt8]()), 0)
        XCTAssertEqual(buffer.getBytes(at: 0, length: 8), [1, 2, 3, 4, 5, 6, 7, 8])
        XCTAssertEqual(buffer.readBytes(length: 3), [1, 2, 3])
        XCTAssertEqual(buffer.readBytes(length: 0), [])
        XCTAssertNil(buffer.readBytes(length: 6))
        XCTAssertEqual(buffer.readBytes(length: 5), [4, 5, 6, 7, 8])
        XCTAssertEqual(buffer.setBytes([9, 9], at: 1), 2)
        XCTAssertEqual(buffer.setBytes(UInt8(1)...UInt8(2), at: 99), 0)
        XCTAssertEqual(buffer.setBytes(UInt8(1)...UInt8(2), at: 0), 2)
        buffer.moveReaderIndex(to: 0)
        XCTAssertEqual(buffer.readBytes(length: 4), [1, 2, 9, 4])
    }

    func testHugeAndNegativeLengthsNeverTrap() {
        var buffer: ByteBuffer = [1, 2, 3]
        XCTAssertNil(buffer.readBytes(length: Int.max))
        XCTAssertNil(buffer.readBytes(length: -1))
        XCTAssertNil(buffer.getBytes(at: 1, length: Int.max))
        XCTAssertNil(buffer.getBytes(at: Int.max, length: Int.max))
        XCTAssertNil(buffer.getBytes(at: -5, length: 6))
        XCTAssertNil(buffer.readSlice(length: Int.max))
        XCTAssertNil(buffer.getSlice(at: 2, length: -1))
        XCTAssertNil(buffer.readString(length: Int.min))
        XCTAssertNil(buffer.getString(at: Int.min, length: Int.max))
        XCTAssertEqual(buffer.writeRepeatingByte(0, count: Int.max), 0)
        XCTAssertEqual(buffer.writeRepeatingByte(0, count: -1), 0)
        XCTAssertEqual(buffer.setRepeatingByte(7, count: 2, at: Int.max - 1), 0)
        XCTAssertFalse(buffer.reserveCapacity(Int.max))
        XCTAssertFalse(buffer.reserveCapacity(minimumWritableBytes: Int.max))
        XCTAssertFalse(buffer.moveReaderIndex(forwardBy: Int.max))
        XCTAssertFalse(buffer.moveReaderIndex(forwardBy: Int.min))
        XCTAssertFalse(buffer.moveWriterIndex(forwardBy: Int.max))
        XCTAssertFalse(buffer.moveWriterIndex(to: -1))
        XCTAssertEqual(ByteBuffer(capacity: Int.max).capacity, 0)  // a hint out of range is ignored
        XCTAssertEqual(ByteBuffer(capacity: -3).capacity, 0)
        XCTAssertEqual(buffer.readBytes(length: 3), [1, 2, 3])
    }

    func testRepeatingBytes() {
        var buffer = ByteBuffer()
        XCTAssertEqual(buffer.writeRepeatingByte(0xee, count: 3), 3)
        XCTAssertEqual(buffer.setRepeatingByte(0x11, count: 2, at: 1), 2)
        XCTAssertEqual(buffer.readBytes(length: 3), [0xee, 0x11, 0x11])
    }

    func testStrings() {
        var buffer = ByteBuffer()
        let text = "héllo ✓"
        XCTAssertEqual(buffer.writeString(text), text.utf8.count)
        XCTAssertEqual(buffer.getString(at: 0, length: text.utf8.count), text)
        XCTAssertNil(buffer.readString(length: text.utf8.count + 1))
        XCTAssertEqual(buffer.readString(length: text.utf8.count), text)
        XCTAssertEqual(buffer.writeString(""), 0)
        buffer.writeBytes([0x61, 0xff, 0x62])
        XCTAssertEqual(buffer.readString(length: 3), "a\u{FFFD}b")
        XCTAssertEqual(buffer.setString("xy", at: 0), 2)
        XCTAssertEqual(ByteBuffer(string: "riad").getString(at: 0, length: 4), "riad")
    }

    func testGrowthByManySmallWrites() {
        var buffer = ByteBuffer(capacity: 1)
        for index in 0..<10_000 { buffer.writeInteger(UInt8(truncatingIfNeeded: index)) }
        XCTAssertEqual(buffer.readableBytes, 10_000)
        for index in 0..<10_000 {
            XCTAssertEqual(buffer.readInteger(as: UInt8.self), UInt8(truncatingIfNeeded: index))
        }
    }

    func testWriteBufferConsumesTheSource() {
        var source: ByteBuffer = [1, 2, 3]
        source.moveReaderIndex(forwardBy: 1)
        var destination: ByteBuffer = [0]
        XCTAssertEqual(destination.writeBuffer(&source), 2)
        XCTAssertEqual(source.readableBytes, 0)
        XCTAssertEqual(destination.writeImmutableBuffer([4]), 1)
        XCTAssertEqual(destination, [0, 2, 3, 4])
        // A buffer written into itself (through a copy).
        destination.writeImmutableBuffer(destination)
        XCTAssertEqual(destination, [0, 2, 3, 4, 0, 2, 3, 4])
    }
}

final class ByteBufferStorageTests: XCTestCase {
    func testCopyOnWrite() {
        var original: ByteBuffer = [1, 2, 3]
        var copy = original
        copy.setInteger(UInt8(9), at: 0)
        copy.writeInteger(UInt8(4))
        XCTAssertEqual(original, [1, 2, 3])
        XCTAssertEqual(copy, [9, 2, 3, 4])
        original.writeInteger(UInt8(5))
        XCTAssertEqual(original, [1, 2, 3, 5])
        XCTAssertEqual(copy, [9, 2, 3, 4])
    }

    func testCopyOnWriteThroughUnsafeWritableBytes() {
        var original = ByteBuffer(capacity: 8)
        original.writeInteger(UInt8(1))
        var copy = original
        copy.withUnsafeMutableWritableBytes { bytes in bytes[0] = 7 }
        copy.moveWriterIndex(forwardBy: 1)
        original.moveWriterIndex(forwardBy: 1)
        XCTAssertEqual(copy, [1, 7])
        XCTAssertEqual(original, [1, 0])  // fresh storage is zeroed
    }

    func testSlicesShareAndDoNotLeak() {
        var buffer: ByteBuffer = [1, 2, 3, 4, 5]
        buffer.moveReaderIndex(forwardBy: 1)
        guard var slice = buffer.readSlice(length: 3) else { return XCTFail("no slice") }
        XCTAssertEqual(buffer.readerIndex, 4)
        XCTAssertEqual(slice.readerIndex, 0)
        XCTAssertEqual(slice.writerIndex, 3)
        XCTAssertEqual(slice.capacity, 3)
        XCTAssertEqual(slice.getInteger(at: 0, as: UInt8.self), 2)
        XCTAssertNil(slice.getInteger(at: 3, as: UInt8.self))  // no peeking at the parent
        slice.setInteger(UInt8(0xff), at: 0)
        slice.writeInteger(UInt8(0xee))
        XCTAssertEqual(slice, [0xff, 3, 4, 0xee])
        buffer.moveReaderIndex(to: 0)
        XCTAssertEqual(buffer, [1, 2, 3, 4, 5])
        XCTAssertEqual(buffer.getSlice(at: 3, length: 2), [4, 5])
        XCTAssertNil(buffer.getSlice(at: 4, length: 2))
    }

    func testDiscardReadBytes() {
        var buffer: ByteBuffer = [1, 2, 3, 4]
        XCTAssertFalse(buffer.discardReadBytes())
        buffer.moveReaderIndex(forwardBy: 3)
        let shared = buffer
        XCTAssertTrue(buffer.discardReadBytes())
        XCTAssertEqual(buffer.readerIndex, 0)
        XCTAssertEqual(buffer.writerIndex, 1)
        XCTAssertEqual(buffer, [4])
        XCTAssertEqual(shared.readerIndex, 3)
        XCTAssertEqual(shared.getBytes(at: 0, length: 0), nil)  // index 0 was read
        XCTAssertEqual(shared, [4])
        var unique: ByteBuffer = [5, 6, 7]
        unique.moveReaderIndex(forwardBy: 1)
        unique.discardReadBytes()
        unique.writeInteger(UInt8(8))
        XCTAssertEqual(unique, [6, 7, 8])
    }

    func testClearKeepsCapacity() {
        var buffer = ByteBuffer(capacity: 100)
        buffer.writeString("hello")
        buffer.clear()
        XCTAssertEqual(buffer.readableBytes, 0)
        XCTAssertEqual(buffer.writerIndex, 0)
        XCTAssertEqual(buffer.capacity, 100)
        XCTAssertEqual(buffer.writableBytes, 100)
    }

    func testIndexMoves() {
        var buffer = ByteBuffer(capacity: 8)
        XCTAssertFalse(buffer.moveReaderIndex(forwardBy: 1))
        XCTAssertTrue(buffer.moveWriterIndex(to: 8))
        XCTAssertFalse(buffer.moveWriterIndex(to: 9))
        XCTAssertTrue(buffer.moveReaderIndex(to: 6))
        XCTAssertFalse(buffer.moveWriterIndex(to: 5))  // before the reader index
        XCTAssertTrue(buffer.moveReaderIndex(forwardBy: -6))
        XCTAssertEqual(buffer.readableBytes, 8)
        XCTAssertEqual(buffer.writableBytes, 0)
    }

    func testZeroCopyDeviceStyleFill() {
        var buffer = ByteBuffer()
        XCTAssertTrue(buffer.reserveCapacity(minimumWritableBytes: 16))
        XCTAssertGreaterThanOrEqual(buffer.writableBytes, 16)
        let written = buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 4) { bytes in
            bytes.copyBytes(from: [0xca, 0xfe])
            return 2
        }
        XCTAssertEqual(written, 2)
        // A body that claims too much or too little is clamped.
        let capacityLeft = buffer.writableBytes
        XCTAssertEqual(
            buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 1) { _ in Int.max }, capacityLeft)
        XCTAssertEqual(buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 1) { _ in -5 }, 0)
        XCTAssertEqual(buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: Int.max) { _ in 1 }, 0)
        XCTAssertEqual(buffer.readInteger(as: UInt16.self), 0xcafe)
        let sum = buffer.withUnsafeReadableBytes { bytes in bytes.reduce(0) { $0 + Int($1) } }
        XCTAssertEqual(sum, 0)
    }

    func testTypedThrowsThroughUnsafeAccess() {
        let buffer: ByteBuffer = [1]
        XCTAssertThrowsError(
            try buffer.withUnsafeReadableBytes { (_) throws(RiadError) in throw RiadError(.closed) }
        ) { error in XCTAssertEqual((error as? RiadError)?.kind, .closed) }
    }

    func testEqualityAndDescription() {
        var a: ByteBuffer = [0, 1, 2]
        a.moveReaderIndex(forwardBy: 1)
        XCTAssertEqual(a, [1, 2])
        XCTAssertNotEqual(a, [1, 2, 3])
        XCTAssertEqual(
            a.description, "ByteBuffer(readerIndex: 1, writerIndex: 3, capacity: 3, readable: 01 02)")
        let long = ByteBuffer(bytes: [UInt8](repeating: 0xab, count: 40))
        XCTAssertTrue(long.description.hasSuffix("ab ab …)"))
    }

    func testReadableBytesView() {
        var buffer = ByteBuffer(string: "GET / HTTP/1.1\r\nHost: x\r\n")
        buffer.moveReaderIndex(forwardBy: 4)
        let view = buffer.readableBytesView
        XCTAssertEqual(view.startIndex, 4)
        XCTAssertEqual(view.count, buffer.readableBytes)
        XCTAssertEqual(view.first, UInt8(ascii: "/"))
        let newline = view.firstIndex(of: UInt8(ascii: "\n"))
        XCTAssertEqual(newline, 15)
        XCTAssertEqual(buffer.getString(at: 4, length: 10), "/ HTTP/1.1")
        XCTAssertEqual(Array(ByteBuffer(bytes: [3, 4]).readableBytesView), [3, 4])
    }
}
