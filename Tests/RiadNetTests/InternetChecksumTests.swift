import Riad
import RiadNet
import XCTest

final class InternetChecksumTests: XCTestCase {
    /// RFC 1071 section 3's example: the words 0001 f203 f4f5 f6f7 sum to
    /// ddf2 (folded), so the checksum is its complement, 220d.
    func testRFC1071Example() {
        let bytes: [UInt8] = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]
        XCTAssertEqual(bytes.withUnsafeBytes { InternetChecksum.of($0) }, 0x220d)
    }

    func testChunksOfOddLengthGiveTheSameSum() {
        let bytes: [UInt8] = (0..<101).map { UInt8(truncatingIfNeeded: $0 &* 37) }
        let whole = bytes.withUnsafeBytes { InternetChecksum.of($0) }
        var checksum = InternetChecksum()
        bytes[0..<7].withUnsafeBytes { checksum.add($0) }
        bytes[7..<50].withUnsafeBytes { checksum.add($0) }
        bytes[50...].withUnsafeBytes { checksum.add($0) }
        XCTAssertEqual(checksum.value, whole)
    }

    func testAPacketWithItsChecksumSumsToZero() {
        // An IPv4 header with its checksum field filled in verifies as 0.
        var header: [UInt8] = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00,
            0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ]
        let checksum = header.withUnsafeBytes { InternetChecksum.of($0) }
        XCTAssertEqual(checksum, 0xb861)
        header[10] = UInt8(checksum >> 8)
        header[11] = UInt8(checksum & 0xff)
        XCTAssertEqual(header.withUnsafeBytes { InternetChecksum.of($0) }, 0)
    }

    /// The eight-bytes-at-a-time sum against RFC 1071's definition, two
    /// bytes at a time, on seeded random buffers split at random places.
    func testWideSumMatchesTheDefinition() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let count = Int.random(in: 0...300, using: &generator)
            let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
            var reference: UInt32 = 0
            for index in stride(from: 0, to: count, by: 2) {
                reference += UInt32(bytes[index]) << 8 | UInt32(index + 1 < count ? bytes[index + 1] : 0)
            }
            while reference >> 16 != 0 { reference = (reference & 0xffff) + (reference >> 16) }
            let split = Int.random(in: 0...count, using: &generator)
            var checksum = InternetChecksum()
            bytes[..<split].withUnsafeBytes { checksum.add($0) }
            bytes[split...].withUnsafeBytes { checksum.add($0) }
            // 0x0000 and 0xffff are the same number in ones' complement.
            let expected = ~UInt16(reference)
            XCTAssertTrue(
                checksum.value == expected || (checksum.value, expected) == (0, 0xffff)
                    || (checksum.value, expected) == (0xffff, 0),
                "\(count) bytes split at \(split): \(checksum.value) != \(expected)")
        }
    }
}
