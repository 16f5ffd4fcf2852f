import XCTest

@testable import RiadTender

/// A small deterministic generator (SplitMix64), so that a failing mutation
/// can be replayed from its seed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

final class ByteReaderTests: XCTestCase {
    func testReadsLittleEndian() {
        let bytes: [UInt8] = [1, 2, 3, 4, 5, 6, 7, 8, 9]
        XCTAssertEqual(bytes.u8(at: 0), 1)
        XCTAssertEqual(bytes.u16(at: 1), 0x0302)
        XCTAssertEqual(bytes.u32(at: 0), 0x0403_0201)
        XCTAssertEqual(bytes.u64(at: 1), 0x0908_0706_0504_0302)
        XCTAssertEqual(bytes.bytes(at: 7, count: 2), [8, 9])
        XCTAssertEqual(bytes.bytes(at: 9, count: 0), [])
    }

    func testRefusesOutOfRangeReads() {
        let bytes: [UInt8] = [1, 2, 3, 4, 5, 6, 7, 8]
        XCTAssertNil(bytes.u64(at: 1))
        XCTAssertNil(bytes.u8(at: 8))
        XCTAssertNil(bytes.u8(at: -1))
        XCTAssertNil(bytes.u32(at: UInt64.max))
        XCTAssertNil(bytes.u32(at: Int.max))
        XCTAssertNil(bytes.bytes(at: 4, count: Int.max))
        XCTAssertNil(bytes.bytes(at: 4, count: -1))
        XCTAssertNil(bytes.range(at: UInt64(Int.max) + 1, count: 0))
        XCTAssertEqual(bytes.range(at: 8, count: 0), 8..<8)
    }

    func testReadsRawBuffers() {
        let bytes: [UInt8] = [0xff, 0xee, 0xdd, 0xcc]
        bytes.withUnsafeBytes { raw in
            XCTAssertEqual(raw.u32(at: 0), 0xccdd_eeff)
            XCTAssertNil(raw.u32(at: 1))
            XCTAssertEqual(raw.bytes(at: 1, count: 2), [0xee, 0xdd])
        }
    }

    func testCheckedArithmetic() {
        XCTAssertNil(UInt64.max.checkedAdding(1))
        XCTAssertEqual(UInt64(5).checkedAdding(6), 11)
        XCTAssertNil(UInt64.max.checkedMultiplying(by: 2))
        XCTAssertEqual(UInt64(0x1001).roundedUp(toMultipleOf: 4096), 0x2000)
        XCTAssertEqual(UInt64(0x1000).roundedUp(toMultipleOf: 4096), 0x1000)
        XCTAssertNil(UInt64(0xffff_ffff_ffff_f001).roundedUp(toMultipleOf: 4096))
        XCTAssertNil(UInt64(8).roundedUp(toMultipleOf: 3))
        XCTAssertTrue(UInt64(0x3000).isAligned(to: 4096))
        XCTAssertFalse(UInt64(0x3001).isAligned(to: 4096))
    }

    func testWriter() {
        var writer = ByteWriter(count: 8)
        writer.put(UInt16(0x0102), at: 0)
        writer.put(Int32(-2), at: 2)
        writer.put(UInt8(9), at: 6)
        XCTAssertEqual(writer.bytes, [2, 1, 0xfe, 0xff, 0xff, 0xff, 9, 0])
    }
}

/// Random mutations of a valid kernel must each be accepted or refused with
/// a TenderError; a trap would end the test process.
final class ELFFuzzTests: XCTestCase {
    func testRandomMutationsNeverCrash() throws {
        var generator = SplitMix64(state: 0x5269_6164)
        let original = ELFBuilder.kernel().build()
        let memory = UnsafeMutableRawBufferPointer.allocate(
            byteCount: Int(testMemory), alignment: 4096)
        defer { memory.deallocate() }
        // Offsets of fields worth hitting with extreme values: the header,
        // each program header's fields and the notes' size fields.
        var fields: [Int] = [16, 18, 20, 24, 32, 54, 56]
        for program in 0..<3 {
            fields += [0, 4, 8, 16, 32, 40, 48].map { 64 + program * 56 + $0 }
        }
        let extremes: [UInt64] = [
            0, 1, 0xfff, 0x1000, 0x100000, 0x7fff_ffff, 0xffff_ffff, UInt64(Int.max), UInt64.max,
            0xffff_ffff_ffff_f000, testMemory, testMemory - 0x1000,
        ]
        var accepted = 0
        for _ in 0..<2000 {
            var bytes = original
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                mutate(&bytes, fields: fields, extremes: extremes, using: &generator)
            }
            do {
                let image = try ELFImage(
                    bytes: bytes, name: "fuzz.hvt", guestMemorySize: testMemory)
                try image.load(into: memory)
                try image.checkABI()
                var parsed = try image.manifest()
                _ = parsed.bytes()
                for device in parsed.devices {
                    switch device.kind {
                    case .block:
                        try parsed.attachBlock(
                            name: device.name, fd: 3, capacity: 512, blockSize: 512)
                    case .net:
                        try parsed.attachNet(
                            name: device.name, fd: 4, mac: [2, 0, 0, 0, 0, 1], mtu: 1500)
                    case .reserved: break
                    }
                }
                try parsed.checkAllAttached()
                _ = parsed.bytes()
                accepted += 1
            } catch {
                XCTAssertFalse(error.message.isEmpty)
            }
        }
        // Some mutations (junk at the end, flips in code bytes) are harmless;
        // if none is accepted the generator is not exercising the happy path.
        XCTAssertGreaterThan(accepted, 0)
        XCTAssertLessThan(accepted, 2000)
    }

    private func mutate(
        _ bytes: inout [UInt8], fields: [Int], extremes: [UInt64],
        using generator: inout SplitMix64
    ) {
        switch Int.random(in: 0..<5, using: &generator) {
        case 0:
            // Replace one random byte anywhere.
            guard !bytes.isEmpty else { return }
            let index = Int.random(in: 0..<bytes.count, using: &generator)
            bytes[index] = UInt8.random(in: 0...255, using: &generator)
        case 1:
            // An extreme value, 2, 4 or 8 bytes wide, at a header field.
            let offset = fields.randomElement(using: &generator)!
            let value = extremes.randomElement(using: &generator)!
            let width = [2, 4, 8].randomElement(using: &generator)!
            for index in 0..<width where offset + index < bytes.count {
                bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * index))
            }
        case 2:
            // Truncate.
            bytes.removeLast(Int.random(in: 0...bytes.count, using: &generator))
        case 3:
            // A random 32-bit value near the end, where the notes' sizes live.
            guard bytes.count > 4 else { return }
            let offset = Int.random(
                in: max(0, bytes.count - 400)..<bytes.count - 4, using: &generator)
            let value = UInt32.random(in: 0...UInt32.max, using: &generator)
            for index in 0..<4 {
                bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * index))
            }
        default:
            // Append junk.
            bytes += (0..<Int.random(in: 1...64, using: &generator)).map { _ in
                UInt8.random(in: 0...255, using: &generator)
            }
        }
    }
}
