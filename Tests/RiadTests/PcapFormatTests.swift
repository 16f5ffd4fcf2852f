import Riad
import XCTest

/// The pcap headers, byte for byte.
final class PcapFormatTests: XCTestCase {
    private func fileHeader(_ format: PcapFormat) -> [UInt8] {
        var bytes = [UInt8](repeating: 0xee, count: PcapFormat.fileHeaderLength)
        bytes.withUnsafeMutableBytes { format.writeFileHeader(into: $0) }
        return bytes
    }

    private func recordHeader(_ format: PcapFormat, _ nanoseconds: UInt64, _ length: Int) -> ([UInt8], Int) {
        var bytes = [UInt8](repeating: 0xee, count: PcapFormat.recordHeaderLength)
        let captured = bytes.withUnsafeMutableBytes {
            format.writeRecordHeader(into: $0, nanosecondsSinceEpoch: nanoseconds, frameLength: length)
        }
        return (bytes, captured)
    }

    func testMicrosecondFileHeader() {
        XCTAssertEqual(
            fileHeader(PcapFormat()),
            [
                0xd4, 0xc3, 0xb2, 0xa1,  // magic, little-endian
                0x02, 0x00, 0x04, 0x00,  // version 2.4
                0x00, 0x00, 0x00, 0x00,  // thiszone
                0x00, 0x00, 0x00, 0x00,  // sigfigs
                0x00, 0x00, 0x04, 0x00,  // snaplen 262144
                0x01, 0x00, 0x00, 0x00,  // LINKTYPE_ETHERNET
            ])
    }

    func testNanosecondFileHeader() {
        let format = PcapFormat(precision: .nanoseconds, snapLength: 1514)
        XCTAssertEqual(
            fileHeader(format),
            [
                0x4d, 0x3c, 0xb2, 0xa1, 0x02, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                0x00,
                0xea, 0x05, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
            ])
    }

    func testMicrosecondRecordHeader() {
        // 2024-01-02 03:04:05.678901234 UTC: 1704164645 s.
        let (bytes, captured) = recordHeader(PcapFormat(), 1_704_164_645_678_901_234, 98)
        XCTAssertEqual(captured, 98)
        XCTAssertEqual(
            bytes,
            [
                0x25, 0x7d, 0x93, 0x65,  // seconds
                0xf5, 0x5b, 0x0a, 0x00,  // 678901 microseconds
                0x62, 0x00, 0x00, 0x00,  // captured 98
                0x62, 0x00, 0x00, 0x00,  // original 98
            ])
    }

    func testNanosecondRecordHeader() {
        let format = PcapFormat(precision: .nanoseconds)
        let (bytes, _) = recordHeader(format, 1_704_164_645_678_901_234, 60)
        XCTAssertEqual(
            bytes,
            [
                0x25, 0x7d, 0x93, 0x65, 0xf2, 0x35, 0x77, 0x28, 0x3c, 0x00, 0x00, 0x00, 0x3c, 0x00, 0x00,
                0x00,
            ])
    }

    func testFramesLongerThanTheSnapshotAreCut() {
        let format = PcapFormat(snapLength: 64)
        let (bytes, captured) = recordHeader(format, 0, 1514)
        XCTAssertEqual(captured, 64)
        XCTAssertEqual(Array(bytes[8...]), [0x40, 0x00, 0x00, 0x00, 0xea, 0x05, 0x00, 0x00])
        XCTAssertEqual(format.capturedLength(frameLength: 10), 10)
        XCTAssertEqual(format.capturedLength(frameLength: -1), 0)
    }
}
