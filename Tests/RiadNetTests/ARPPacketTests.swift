import Riad
import RiadNet
import XCTest

final class ARPPacketTests: XCTestCase {
    /// 10.0.0.1 asks who has 10.0.0.2 (the payload of
    /// `EthernetFrameTests.arpRequestFrame`, without its padding).
    static let request: [UInt8] = Array(EthernetFrameTests.arpRequestFrame[14..<42])

    /// 10.0.0.2 answers that it is at 02:00:00:00:00:02.
    static let reply: [UInt8] = [
        0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x0a, 0x00,
        0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x01,
    ]

    func parse(_ bytes: [UInt8]) -> WireError? {
        wireError(bytes) { bytes throws(WireError) in try ARPRepr.parse(bytes) }
    }

    func testRequestRoundTrip() throws {
        let repr = try XCTUnwrap(
            wireValue(Self.request) { bytes throws(WireError) in try ARPRepr.parse(bytes) })
        XCTAssertEqual(repr.operation, .request)
        XCTAssertEqual(repr.senderHardwareAddress, MACAddress(2, 0, 0, 0, 0, 1))
        XCTAssertEqual(repr.senderProtocolAddress, IPv4Address(10, 0, 0, 1))
        XCTAssertEqual(repr.targetHardwareAddress, MACAddress(rawValue: 0))
        XCTAssertEqual(repr.targetProtocolAddress, IPv4Address(10, 0, 0, 2))
        XCTAssertEqual(repr.description, "ARP who-has 10.0.0.2 tell 10.0.0.1")
        XCTAssertEqual(emitted(count: ARPRepr.bufferLength) { repr.emit(into: $0) }, Self.request)
    }

    func testReplyRoundTrip() throws {
        // Parsing the padded frame's payload: the padding is left alone.
        let padded = Self.reply + [UInt8](repeating: 0, count: 18)
        let repr = try XCTUnwrap(wireValue(padded) { bytes throws(WireError) in try ARPRepr.parse(bytes) })
        XCTAssertEqual(
            repr,
            ARPRepr(
                operation: .reply, senderHardwareAddress: MACAddress(2, 0, 0, 0, 0, 2),
                senderProtocolAddress: IPv4Address(10, 0, 0, 2),
                targetHardwareAddress: MACAddress(2, 0, 0, 0, 0, 1),
                targetProtocolAddress: IPv4Address(10, 0, 0, 1)))
        XCTAssertEqual(repr.description, "ARP reply 10.0.0.2 is-at 02:00:00:00:00:02")
        XCTAssertEqual(emitted(count: ARPRepr.bufferLength) { repr.emit(into: $0) }, Self.reply)
    }

    func testTheViewReadsAnyAddressLengths() throws {
        // A 2-byte hardware and 3-byte protocol address: the view reads them,
        // the Repr refuses them.
        let odd: [UInt8] = [
            0x00, 0x06, 0x12, 0x34, 0x02, 0x03, 0x00, 0x01, 0xa1, 0xa2, 0xb1, 0xb2, 0xb3, 0xc1, 0xc2, 0xd1,
            0xd2, 0xd3,
        ]
        odd.withUnsafeBytes { bytes in
            let view = try! ARPPacketView(checking: bytes)
            XCTAssertEqual(view.hardwareType, 6)
            XCTAssertEqual(view.protocolType, EtherType(rawValue: 0x1234))
            XCTAssertEqual(view.length, 18)
            XCTAssertEqual(Array(view.senderHardwareAddress), [0xa1, 0xa2])
            XCTAssertEqual(Array(view.senderProtocolAddress), [0xb1, 0xb2, 0xb3])
            XCTAssertEqual(Array(view.targetHardwareAddress), [0xc1, 0xc2])
            XCTAssertEqual(Array(view.targetProtocolAddress), [0xd1, 0xd2, 0xd3])
        }
        XCTAssertEqual(parse(odd), .unsupported("ARP hardware type"))
        XCTAssertEqual(parse(Array(odd.prefix(17))), .truncated)
    }

    func testMutableViewSetsEveryField() {
        let out = emitted(count: 28) { buffer in
            let packet = try! MutableARPPacketView(checking: buffer)
            packet.hardwareType = 1
            packet.protocolType = .ipv4
            packet.hardwareLength = 6
            packet.protocolLength = 4
            packet.operation = 2
            packet.senderHardwareAddress = MACAddress(2, 0, 0, 0, 0, 2)
            packet.senderProtocolAddress = IPv4Address(10, 0, 0, 2)
            packet.targetHardwareAddress = MACAddress(2, 0, 0, 0, 0, 1)
            packet.targetProtocolAddress = IPv4Address(10, 0, 0, 1)
            XCTAssertEqual(packet.operation, 2)
            XCTAssertEqual(packet.targetProtocolAddress, IPv4Address(10, 0, 0, 1))
            XCTAssertEqual(packet.view.length, 28)
        }
        XCTAssertEqual(out, Self.reply)
    }

    func testReadingABufferBeingWrittenDoesNotTrap() {
        var bytes = [UInt8](repeating: 0xff, count: 28)
        bytes.withUnsafeMutableBytes { buffer in
            let view = try! MutableARPPacketView(checking: buffer).view
            XCTAssertEqual(view.length, 8 + 2 * (255 + 255))
            XCTAssertEqual(view.senderHardwareAddress.count, 20)
            XCTAssertEqual(view.targetProtocolAddress.count, 0)
        }
    }

    func testEveryTruncationThrows() {
        for length in 0..<Self.request.count {
            XCTAssertEqual(parse(Array(Self.request.prefix(length))), .truncated, "length \(length)")
        }
    }

    func testOtherTypesLengthsAndOperationsAreRefused() {
        var packet = Self.request
        packet[1] = 6  // IEEE 802 networks
        XCTAssertEqual(parse(packet), .unsupported("ARP hardware type"))
        packet = Self.request
        packet[2] = 0x86
        packet[3] = 0xdd
        XCTAssertEqual(parse(packet), .unsupported("ARP protocol type"))
        packet = Self.request
        packet[4] = 8
        XCTAssertEqual(parse(packet + [0, 0, 0, 0]), .malformed("ARP hardware address length"))
        packet = Self.request
        packet[5] = 16
        XCTAssertEqual(
            parse(packet + [UInt8](repeating: 0, count: 24)), .malformed("ARP protocol address length"))
        packet = Self.request
        packet[7] = 3  // a RARP request
        XCTAssertEqual(parse(packet), .unsupported("ARP operation"))
        packet[7] = 0
        XCTAssertEqual(parse(packet), .unsupported("ARP operation"))
    }

    func testRandomBytesParseOrThrow() {
        _ = fuzz(seed: 0xa4) { bytes throws(WireError) in
            let view = try ARPPacketView(checking: bytes)
            _ = (view.senderHardwareAddress.count, view.targetProtocolAddress.count)
            _ = try ARPRepr.parse(view)
        }
        let parsed = fuzz(seed: 0xa5, mutating: Self.request) { bytes throws(WireError) in
            _ = try ARPRepr.parse(bytes)
        }
        XCTAssertGreaterThan(parsed, 1000)
    }
}
