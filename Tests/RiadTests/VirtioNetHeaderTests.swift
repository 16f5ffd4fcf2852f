import Riad
import XCTest

/// The virtio-net header of devices with offloads: emitted for frames
/// sent, parsed (never trusted) for frames received.
final class VirtioNetHeaderTests: XCTestCase {
    /// A header followed by a frame of `frameLength` zero bytes.
    private func bytes(_ header: [UInt8], frameLength: Int = 60) -> [UInt8] {
        header + [UInt8](repeating: 0, count: frameLength)
    }

    private func parse(_ bytes: [UInt8]) -> Result<VirtioNetHeader, VirtioNetHeader.ParseError> {
        bytes.withUnsafeBytes { raw in
            do throws(VirtioNetHeader.ParseError) {
                return .success(try VirtioNetHeader.parse(raw))
            } catch {
                return .failure(error)
            }
        }
    }

    func testAPlainHeaderSaysNothing() throws {
        let header = try parse(bytes([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])).get()
        XCTAssertEqual(header, VirtioNetHeader())
        XCTAssertFalse(header.metadata.checksumValid)
    }

    func testChecksumFlagsMakeTheChecksumTrusted() throws {
        // NEEDS_CSUM: built on the host, checksum not yet computed; start 34, offset 16.
        let partial = try parse(bytes([1, 0, 0, 0, 0, 0, 34, 0, 16, 0, 0, 0])).get()
        XCTAssertTrue(partial.metadata.checksumValid)
        // DATA_VALID: checked by the host.
        let valid = try parse(bytes([2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])).get()
        XCTAssertTrue(valid.metadata.checksumValid)
    }

    func testASegmentFromTheHostParses() throws {
        // GSO TCPv4, hdr_len 66, gso_size 1448 (little-endian), NEEDS_CSUM at 34+16.
        let header = try parse(bytes([1, 1, 66, 0, 0xa8, 0x05, 34, 0, 16, 0, 0, 0], frameLength: 3000)).get()
        XCTAssertEqual(header.gsoType, VirtioNetHeader.gsoTCPv4)
        XCTAssertEqual(header.gsoSize, 1448)
        XCTAssertEqual(header.headerLength, 66)
    }

    func testHostileHeadersAreRefused() {
        XCTAssertEqual(parse([0, 0, 0]), .failure(.truncated))
        XCTAssertEqual(
            parse(bytes([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], frameLength: 13)), .failure(.truncated))
        XCTAssertEqual(parse(bytes([0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])), .failure(.unknownGSOType))
        XCTAssertEqual(parse(bytes([0, 0x7f, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])), .failure(.unknownGSOType))
        // The ECN bit with no segmentation type (found by fuzz-net).
        XCTAssertEqual(parse(bytes([0, 0x80, 0, 1, 8, 0, 0, 0, 0, 0, 0, 0])), .failure(.unknownGSOType))
        // A GSO segment with a segment size of 0.
        XCTAssertEqual(parse(bytes([0, 1, 54, 0, 0, 0, 0, 0, 0, 0, 0, 0])), .failure(.badSegmentSize))
        // Headers longer than the frame.
        XCTAssertEqual(
            parse(bytes([0, 1, 0xff, 0xff, 100, 0, 0, 0, 0, 0, 0, 0])), .failure(.headersOutsideFrame))
        // A checksum field past the end of the frame (60 bytes).
        XCTAssertEqual(parse(bytes([1, 0, 0, 0, 0, 0, 50, 0, 9, 0, 0, 0])), .failure(.checksumOutsideFrame))
        XCTAssertEqual(
            parse(bytes([1, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0])), .failure(.checksumOutsideFrame))
    }

    func testRandomHeadersNeverTrap() {
        var state: UInt64 = 0x5eed
        for _ in 0..<20_000 {
            var header = [UInt8](repeating: 0, count: 12)
            for index in header.indices {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                header[index] = UInt8(truncatingIfNeeded: state >> 33)
            }
            _ = parse(bytes(header, frameLength: Int(state >> 50) % 3000))
        }
    }

    func testSegmentsAreAnnouncedWithTheirHeaders() throws {
        // A TCP frame: Ethernet, IPv4 with IHL 5, TCP with data offset 8 (32 bytes).
        var frame = [UInt8](repeating: 0, count: 12 + 14 + 20 + 32 + 2896)
        frame[12 + 14] = 0x45
        frame[12 + 14 + 20 + 12] = 8 << 4
        var metadata = FrameMetadata()
        metadata.segmentSize = 1448
        metadata.partialChecksum = (34, 16)
        frame.withUnsafeMutableBytes { VirtioNetHeader.prefix($0, sending: metadata) }
        let header = try parse(frame).get()
        XCTAssertEqual(header.flags, VirtioNetHeader.needsChecksum)
        XCTAssertEqual(header.gsoType, VirtioNetHeader.gsoTCPv4)
        XCTAssertEqual(header.gsoSize, 1448)
        XCTAssertEqual(header.headerLength, 14 + 20 + 32)
        XCTAssertEqual(header.checksumStart, 34)
        XCTAssertEqual(header.checksumOffset, 16)
    }

    func testAFrameSentAsItIsHasAnEmptyHeader() {
        var frame = [UInt8](repeating: 0xee, count: 12 + 60)
        frame.withUnsafeMutableBytes { VirtioNetHeader.prefix($0, sending: .none) }
        XCTAssertEqual(Array(frame[..<12]), [UInt8](repeating: 0, count: 12))
    }

    /// A copying device with offloads drops a frame whose header the host
    /// must not send and lends the next one.
    func testACopyingDeviceDropsFramesWithHostileHeaders() throws {
        let device = OffloadingDevice()
        device.fromHost = [
            bytes([0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),  // unknown GSO type
            bytes([2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], frameLength: 64),
        ]
        let received = try device.receive { frame, metadata in (frame.count, metadata.checksumValid) }
        XCTAssertEqual(received?.0, 64)
        XCTAssertEqual(received?.1, true)
        XCTAssertNil(try device.receive { frame, _ in frame.count })
    }

    func testACopyingDeviceWritesTheHeaderBeforeEachFrame() throws {
        let device = OffloadingDevice()
        try device.transmit(length: 60) { buffer in
            buffer.initializeMemory(as: UInt8.self, repeating: 0xab)
            return 60
        }
        XCTAssertEqual(device.toHost.count, 1)
        XCTAssertEqual(device.toHost[0].count, 12 + 60)
        XCTAssertEqual(Array(device.toHost[0][..<12]), [UInt8](repeating: 0, count: 12))
        XCTAssertEqual(device.toHost[0][12], 0xab)
    }
}

/// A FrameCopyingDevice with offloads whose host is two arrays.
private final class OffloadingDevice: FrameCopyingDevice {
    var fromHost: [[UInt8]] = []
    var toHost: [[UInt8]] = []
    let mac: [UInt8] = [2, 0, 0, 0, 0, 1]
    let mtu = 1500
    let handle = DeviceHandle(rawValue: 1)
    var offloads: NetworkOffloads { .tcpSegmentation }

    func sendToHost(_ frame: UnsafeRawBufferPointer) -> Bool {
        toHost.append(Array(frame))
        return true
    }

    func receiveFromHost(into buffer: UnsafeMutableRawBufferPointer) -> Int? {
        guard !fromHost.isEmpty else { return nil }
        let frame = fromHost.removeFirst()
        buffer.copyBytes(from: frame)
        return frame.count
    }
}
