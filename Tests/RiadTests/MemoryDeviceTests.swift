import Riad
import XCTest

/// Asserts that `body` throws a `RiadError` of `kind`.
private func assertThrows<T>(
    _ kind: RiadError.Kind, file: StaticString = #filePath, line: UInt = #line,
    _ body: () throws -> T
) {
    XCTAssertThrowsError(try body(), file: file, line: line) { error in
        XCTAssertEqual((error as? RiadError)?.kind, kind, "\(error)", file: file, line: line)
    }
}

final class MemoryBlockDeviceTests: XCTestCase {
    func testReadWriteRoundTrip() throws {
        let disk = MemoryBlockDevice(blockSize: 512, blockCount: 8)
        XCTAssertEqual(disk.capacity, 4096)
        XCTAssertEqual(disk.blockCount, 8)
        let data = ByteBuffer(bytes: (0..<1024).map { UInt8(truncatingIfNeeded: $0) })
        try disk.write(at: 1024, from: data)
        XCTAssertEqual(try disk.read(at: 1024, count: 1024), data)
        XCTAssertEqual(try disk.read(at: 0, count: 512), ByteBuffer(bytes: [UInt8](repeating: 0, count: 512)))
        XCTAssertEqual(try disk.read(at: 4096, count: 0).readableBytes, 0)
        var raw = [UInt8](repeating: 0xff, count: 512)
        try raw.withUnsafeMutableBytes { bytes in try disk.read(at: 1536, into: bytes) }
        XCTAssertEqual(raw[0], 0)
        XCTAssertEqual(raw[511], 255)
    }

    func testLimits() {
        let disk = MemoryBlockDevice(blockSize: 512, blockCount: 4)
        let block = ByteBuffer(bytes: [UInt8](repeating: 1, count: 512))
        assertThrows(.invalidArgument) { try disk.write(at: 100, from: block) }
        assertThrows(.invalidArgument) { try disk.write(at: 0, from: ByteBuffer(bytes: [1, 2, 3])) }
        assertThrows(.invalidArgument) { try disk.write(at: 2048, from: block) }
        assertThrows(.invalidArgument) { try disk.read(at: 1536, count: 1024) }
        assertThrows(.invalidArgument) { try disk.read(at: UInt64.max - 511, count: 1024) }
        assertThrows(.invalidArgument) { try disk.read(at: 0, count: -512) }
        XCTAssertEqual(disk.contents, [UInt8](repeating: 0, count: 2048))
    }

    func testReadOnlyAndFailing() throws {
        let disk = MemoryBlockDevice(blockSize: 4, contents: [1, 2, 3, 4, 5], readOnly: true)
        XCTAssertTrue(disk.isReadOnly)
        XCTAssertEqual(disk.capacity, 8)
        XCTAssertEqual(try disk.read(at: 0, count: 8), [1, 2, 3, 4, 5, 0, 0, 0])
        assertThrows(.permissionDenied) { try disk.write(at: 0, from: ByteBuffer(bytes: [0, 0, 0, 0])) }
        disk.isFailing = true
        assertThrows(.deviceError) { try disk.read(at: 0, count: 4) }
    }
}

final class MemoryKeyValueStoreTests: XCTestCase {
    let store: MemoryKeyValueStore = [
        "index.html": Array("<h1>Hi</h1>".utf8),
        "css/site.css": Array("body{}".utf8),
        "css/print.css": [],
        "Z": [1],
        "css/site.css": Array("h1{}".utf8),  // the last value wins
    ]

    func testLookups() throws {
        XCTAssertEqual(store.count, 4)
        XCTAssertEqual(try store.get("css/site.css"), Array("h1{}".utf8))
        XCTAssertEqual(try store.size(of: "index.html"), 11)
        XCTAssertEqual(try store.size(of: "css/print.css"), 0)
        XCTAssertEqual(try store.get("css/print.css"), [])
        XCTAssertNil(try store.get("missing"))
        XCTAssertNil(try store.size(of: "css"))
        XCTAssertTrue(try store.contains("Z"))
        XCTAssertFalse(try store.contains("z"))
        XCTAssertEqual(try store.buffer("index.html"), ByteBuffer(string: "<h1>Hi</h1>"))
    }

    func testPartialReads() throws {
        XCTAssertEqual(try store.get("index.html", offset: 4, length: 2), Array("Hi".utf8))
        XCTAssertEqual(try store.get("index.html", offset: 9, length: 100), Array("1>".utf8))
        XCTAssertEqual(try store.get("index.html", offset: 11, length: 1), [])
        XCTAssertEqual(try store.get("index.html", offset: Int.max, length: Int.max), [])
        XCTAssertNil(try store.get("missing", offset: 0, length: 1))
        assertThrows(.invalidArgument) { try store.get("index.html", offset: -1, length: 1) }
        assertThrows(.invalidArgument) { try store.get("index.html", offset: 0, length: -1) }
        let first = try store.withValue(of: "index.html") { bytes in bytes.first }
        XCTAssertEqual(first, UInt8(ascii: "<"))
    }

    func testKeysInByteOrder() throws {
        XCTAssertEqual(try store.keys(withPrefix: ""), ["Z", "css/print.css", "css/site.css", "index.html"])
        XCTAssertEqual(try store.keys(withPrefix: "css/"), ["css/print.css", "css/site.css"])
        XCTAssertEqual(try store.keys(withPrefix: "css/site.css"), ["css/site.css"])
        XCTAssertEqual(try store.keys(withPrefix: "d"), [])
    }
}

final class LoopbackNetworkDeviceTests: XCTestCase {
    func testFramesCrossInOrder() throws {
        let (a, b) = LoopbackNetworkDevice.pair()
        XCTAssertEqual(a.macAddress.description, "02:00:00:00:00:01")
        XCTAssertEqual(b.macAddress.description, "02:00:00:00:00:02")
        XCTAssertEqual(a.handle, DeviceHandle(rawValue: 0))
        XCTAssertEqual(b.handle, DeviceHandle(rawValue: 1))
        XCTAssertEqual(a.maximumFrameLength, 1514)
        try a.transmit(copying: ByteBuffer(bytes: [1, 2, 3]))
        try a.transmit(length: 60) { buffer in
            buffer[0] = 4
            return 1
        }
        try b.transmit(copying: ByteBuffer(bytes: [9]))
        XCTAssertEqual(b.pendingFrames, 2)
        XCTAssertEqual(try b.receiveCopy(), [1, 2, 3])
        XCTAssertEqual(try b.receive { frame in Array(frame) }, [4])
        XCTAssertNil(try b.receive { _ in 0 })
        XCTAssertEqual(try a.receiveCopy(), [9])
        XCTAssertEqual(a.framesTransmitted, 2)
        XCTAssertEqual(b.framesReceived, 2)
    }

    func testTransmitLimits() throws {
        let (a, b) = LoopbackNetworkDevice.pair(mtu: 100)
        var called = false
        assertThrows(.invalidArgument) {
            try a.transmit(length: 115) { _ in
                called = true
                return 0
            }
        }
        XCTAssertFalse(called)
        assertThrows(.invalidArgument) { try a.transmit(length: -1) { _ in 0 } }
        assertThrows(.invalidArgument) { try a.transmit(length: 10) { _ in 11 } }
        assertThrows(.invalidArgument) { try a.transmit(length: 10) { _ in -1 } }
        try a.transmit(length: 114) { _ in 0 }  // sends nothing
        try a.transmit(length: 114) { buffer in buffer.count }
        XCTAssertEqual(b.pendingFrames, 1)
        XCTAssertEqual(try b.receive { $0.count }, 114)
    }

    func testFullQueueDrops() throws {
        let (a, b) = LoopbackNetworkDevice.pair(queueLimit: 2)
        for byte in UInt8(1)...UInt8(3) { try a.transmit(copying: ByteBuffer(bytes: [byte])) }
        XCTAssertEqual(a.framesDropped, 1)
        XCTAssertEqual(try b.receiveCopy(), [1])
        XCTAssertEqual(try b.receiveCopy(), [2])
        XCTAssertNil(try b.receiveCopy())
    }

    func testManyFrames() throws {
        let (a, b) = LoopbackNetworkDevice.pair(queueLimit: 1000)
        for round in 0..<3 {
            for index in 0..<500 {
                try a.transmit(copying: ByteBuffer(bytes: [UInt8(index % 256), UInt8(round)]))
            }
            for index in 0..<500 {
                XCTAssertEqual(try b.receiveCopy(), ByteBuffer(bytes: [UInt8(index % 256), UInt8(round)]))
            }
        }
        XCTAssertEqual(b.pendingFrames, 0)
    }
}

final class SmallDeviceTests: XCTestCase {
    func testMACAddress() {
        let mac = MACAddress(0x02, 0xab, 0, 0, 0, 0x01)
        XCTAssertEqual(mac.description, "02:ab:00:00:00:01")
        XCTAssertEqual(mac.octets, [0x02, 0xab, 0, 0, 0, 0x01])
        XCTAssertEqual(mac[6], 0)
        XCTAssertEqual(mac[-1], 0)
        XCTAssertEqual(MACAddress(bytes: [0x02, 0xab, 0, 0, 0, 0x01, 0xff]), mac)
        XCTAssertNil(MACAddress(bytes: [1, 2, 3]))
        XCTAssertFalse(mac.isMulticast)
        XCTAssertTrue(MACAddress(0x01, 0, 0x5e, 0, 0, 1).isMulticast)
        XCTAssertTrue(MACAddress.broadcast.isBroadcast)
        XCTAssertEqual(MACAddress(rawValue: UInt64.max), .broadcast)
    }

    func testConsole() {
        let console = MemoryConsole()
        console.write("héllo ")
        console.write(ByteBuffer(string: "world\n"))
        XCTAssertEqual(console.text, "héllo world\n")
        console.clear()
        XCTAssertEqual(console.output, [])
    }

    func testManualClock() {
        let clock = ManualClock(epochOffset: 1_000)
        XCTAssertEqual(clock.now, .zero)
        clock.advance(by: .milliseconds(5))
        clock.advance(by: .seconds(-1))  // ignored: monotonic
        XCTAssertEqual(clock.now, Instant(nanoseconds: 5_000_000))
        clock.advance(to: Instant(nanoseconds: 1))  // in the past: ignored
        clock.advance(to: Instant(nanoseconds: 6_000_000))
        XCTAssertEqual(clock.now - .zero, .milliseconds(6))
        XCTAssertEqual(clock.nanosecondsSinceEpoch, 6_001_000)
        clock.advance(by: .max)
        clock.advance(by: .max)
        XCTAssertEqual(clock.now, .distantFuture)
        XCTAssertEqual(clock.nanosecondsSinceEpoch, .max)
    }

    func testDeterministicEntropy() {
        let first = DeterministicEntropy(seed: 42).bytes(count: 37)
        XCTAssertEqual(DeterministicEntropy(seed: 42).bytes(count: 37), first)
        XCTAssertNotEqual(DeterministicEntropy(seed: 43).bytes(count: 37), first)
        XCTAssertEqual(DeterministicEntropy(seed: 1).bytes(count: 0), [])
        XCTAssertEqual(DeterministicEntropy(seed: 1).bytes(count: -4), [])
        var generator = EntropyGenerator(DeterministicEntropy(seed: 7))
        for _ in 0..<100 {
            XCTAssertTrue((49152...65535).contains(UInt16.random(in: 49152...65535, using: &generator)))
        }
        let entropy = DeterministicEntropy(seed: 9)
        XCTAssertNotEqual(entropy.next(as: UInt64.self), entropy.next(as: UInt64.self))
    }
}
