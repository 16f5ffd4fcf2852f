import Riad
import RiadNet
import XCTest

final class EthernetFrameTests: XCTestCase {
    /// An ARP request as a capture shows it: broadcast, padded to 60 bytes.
    static let arpRequestFrame: [UInt8] = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x01,
        0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x01,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ]

    /// A ping from 10.0.0.1 (02:00:00:00:00:01) to 10.0.0.2.
    static let echoFrame: [UInt8] = [
        0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x45, 0x00,
        0x00, 0x54, 0xb3, 0xf1, 0x40, 0x00, 0x40, 0x01, 0x72, 0xb5, 0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00,
        0x00, 0x02, 0x08, 0x00, 0x53, 0x67, 0x04, 0xd2, 0x00, 0x01, 0x6a, 0x5f, 0x1e, 0x67, 0x00, 0x00,
        0x00, 0x00, 0x4d, 0x2c, 0x0b, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15,
        0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25,
        0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35,
        0x36, 0x37,
    ]

    func testARPRequestFrameRoundTrip() throws {
        let frame = Self.arpRequestFrame
        let repr = try XCTUnwrap(
            wireValue(frame) { bytes throws(WireError) in try EthernetRepr.parse(bytes) })
        XCTAssertEqual(repr.destination, .broadcast)
        XCTAssertEqual(repr.source, MACAddress(2, 0, 0, 0, 0, 1))
        XCTAssertEqual(repr.etherType, .arp)
        XCTAssertEqual(repr.description, "Ethernet 02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff type ARP")
        frame.withUnsafeBytes { bytes in
            let view = try! EthernetFrameView(checking: bytes)
            XCTAssertEqual(view.payloadRange, 14..<60)
            XCTAssertEqual(Array(view.payload.prefix(8)), [0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01])
        }

        // Header by emit, payload copied: the same bytes.
        let out = emitted(count: frame.count) { buffer in
            repr.emit(into: buffer)
            Array(frame[14...]).withUnsafeBytes { payload in
                UnsafeMutableRawBufferPointer(rebasing: buffer[EthernetRepr.headerLength...]).copyMemory(
                    from: payload)
            }
        }
        XCTAssertEqual(out, frame)
        XCTAssertEqual(EthernetRepr.bufferLength(payloadLength: 46), 60)
    }

    func testEchoFrameRoundTrip() throws {
        let frame = Self.echoFrame
        let repr = try XCTUnwrap(
            wireValue(frame) { bytes throws(WireError) in try EthernetRepr.parse(bytes) })
        XCTAssertEqual(
            repr,
            EthernetRepr(
                source: MACAddress(2, 0, 0, 0, 0, 1), destination: MACAddress(2, 0, 0, 0, 0, 2),
                etherType: .ipv4))
        XCTAssertEqual(repr.description, "Ethernet 02:00:00:00:00:01 > 02:00:00:00:00:02 type IPv4")
        var out = frame
        out.withUnsafeMutableBytes { buffer in
            for index in 0..<14 { buffer[index] = 0xee }
            repr.emit(into: buffer)
        }
        XCTAssertEqual(out, frame)
    }

    func testMutableViewSetsEveryField() throws {
        let out = emitted(count: 20) { buffer in
            let frame = try! MutableEthernetFrameView(checking: buffer)
            frame.destination = MACAddress(rawValue: 0x0a0b_0c0d_0e0f)
            frame.source = MACAddress(1, 2, 3, 4, 5, 6)
            frame.etherType = .ipv6
            frame.payload.storeBytes(of: 0x7f, as: UInt8.self)
            XCTAssertEqual(frame.view.destination, MACAddress(10, 11, 12, 13, 14, 15))
            XCTAssertEqual(frame.source, MACAddress(1, 2, 3, 4, 5, 6))
            XCTAssertEqual(frame.etherType, .ipv6)
        }
        XCTAssertEqual(
            out, [0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 1, 2, 3, 4, 5, 6, 0x86, 0xdd, 0x7f, 0, 0, 0, 0, 0])
    }

    func testEveryTruncationOfTheHeaderThrows() {
        for length in 0..<EthernetRepr.headerLength {
            XCTAssertEqual(
                wireError(Array(Self.echoFrame.prefix(length))) { bytes throws(WireError) in
                    try EthernetRepr.parse(bytes)
                },
                .truncated, "length \(length)")
        }
        // A bare header is a frame with an empty payload.
        XCTAssertNil(
            wireError(Array(Self.echoFrame.prefix(14))) { bytes throws(WireError) in
                try EthernetRepr.parse(bytes)
            })
        _ = emitted(count: 13) { buffer in
            do throws(WireError) {
                _ = try MutableEthernetFrameView(checking: buffer)
                XCTFail("a 13-byte buffer holds no header")
            } catch {
                XCTAssertEqual(error, .truncated)
            }
        }
    }

    func testIEEE8023LengthFieldIsRefused() {
        var frame = Self.echoFrame
        frame[12] = 0x05
        frame[13] = 0xdc  // 1500: a length, not a type
        XCTAssertEqual(
            wireError(frame) { bytes throws(WireError) in try EthernetRepr.parse(bytes) },
            .unsupported("IEEE 802.3 length field"))
        frame[12] = 0x06
        frame[13] = 0x00
        XCTAssertNil(wireError(frame) { bytes throws(WireError) in try EthernetRepr.parse(bytes) })
    }

    func testEtherTypeDescriptions() {
        XCTAssertEqual(EtherType.ipv4.description, "IPv4")
        XCTAssertEqual(EtherType.vlan.description, "802.1Q")
        XCTAssertEqual(EtherType(rawValue: 0x88cc).description, "0x88cc")
    }

    func testRandomBytesParseOrThrow() {
        let parsed = fuzz(seed: 0xe7e7) { bytes throws(WireError) in
            let frame = try EthernetFrameView(checking: bytes)
            _ = try EthernetRepr.parse(frame)
            _ = frame.payload.count
        }
        // About 1 buffer in 100 is shorter than the header, and a type field
        // is a length 2.3 % of the time.
        XCTAssertGreaterThan(parsed, 9000)
    }
}
