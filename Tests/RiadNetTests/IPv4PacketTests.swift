import RiadNet
import XCTest

final class IPv4PacketTests: XCTestCase {
    /// A DNS query for example.com from 10.0.0.2:5353 to 10.0.0.1:53, DF set.
    static let udpDNSQuery: [UInt8] = [
        0x45, 0x00, 0x00, 0x39, 0x1c, 0x46, 0x40, 0x00, 0x40, 0x11, 0x0a, 0x6c, 0x0a, 0x00, 0x00, 0x02,
        0x0a, 0x00, 0x00, 0x01, 0x14, 0xe9, 0x00, 0x35, 0x00, 0x25, 0xea, 0xcf, 0x1c, 0x46, 0x01, 0x00,
        0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65,
        0x03, 0x63, 0x6f, 0x6d, 0x00, 0x00, 0x01, 0x00, 0x01,
    ]

    /// The header of the first of two fragments of a 1580-byte UDP payload:
    /// MF set, offset 0, identification 0x1234.
    static let firstFragmentHeader: [UInt8] = [
        0x45, 0x00, 0x05, 0xdc, 0x12, 0x34, 0x20, 0x00, 0x40, 0x11, 0x2e, 0xdb, 0x0a, 0x00, 0x00, 0x02,
        0x0a, 0x00, 0x00, 0x01,
    ]

    /// The last fragment: offset 1480, 100 bytes.
    static let secondFragment: [UInt8] =
        [
            0x45, 0x00, 0x00, 0x78, 0x12, 0x34, 0x00, 0xb9, 0x40, 0x11, 0x53, 0x86, 0x0a, 0x00, 0x00, 0x02,
            0x0a, 0x00, 0x00, 0x01,
        ] + (0..<100).map { UInt8($0) }

    /// An IGMPv3 report with the router alert option (RFC 2113): IHL 6,
    /// DSCP 48 (CS6), TTL 1.
    static let withOptions: [UInt8] = [
        0x46, 0xc0, 0x00, 0x28, 0x00, 0x00, 0x40, 0x00, 0x01, 0x02, 0xf9, 0xf8, 0x0a, 0x00, 0x00, 0x01,
        0xe0, 0x00, 0x00, 0x16, 0x94, 0x04, 0x00, 0x00, 0x22, 0x00, 0xf9, 0x02, 0x00, 0x00, 0x00, 0x01,
        0x04, 0x00, 0x00, 0x00, 0xe0, 0x00, 0x00, 0xfb,
    ]

    func parse(_ bytes: [UInt8], verifyChecksum: Bool = true) -> WireError? {
        wireError(bytes) { bytes throws(WireError) in
            try IPv4Repr.parse(bytes, verifyChecksum: verifyChecksum)
        }
    }

    /// `packet`'s header emitted from `repr`, followed by `packet`'s payload.
    func reemit(_ repr: IPv4Repr, payloadOf packet: [UInt8]) -> [UInt8] {
        emitted(count: repr.bufferLength) { buffer in
            repr.emit(into: buffer)
            Array(packet[20...]).withUnsafeBytes { payload in
                UnsafeMutableRawBufferPointer(rebasing: buffer[IPv4Repr.headerLength...]).copyMemory(
                    from: payload)
            }
        }
    }

    func testUDPPacketRoundTrip() throws {
        let packet = Self.udpDNSQuery
        let repr = try XCTUnwrap(wireValue(packet) { bytes throws(WireError) in try IPv4Repr.parse(bytes) })
        XCTAssertEqual(repr.source, IPv4Address(10, 0, 0, 2))
        XCTAssertEqual(repr.destination, IPv4Address(10, 0, 0, 1))
        XCTAssertEqual(repr.protocol, .udp)
        XCTAssertEqual(repr.payloadLength, 37)
        XCTAssertEqual(repr.timeToLive, 64)
        XCTAssertEqual(repr.dscp, 0)
        XCTAssertEqual(repr.ecn, 0)
        XCTAssertEqual(repr.identification, 0x1c46)
        XCTAssertTrue(repr.dontFragment)
        XCTAssertFalse(repr.moreFragments)
        XCTAssertEqual(repr.fragmentOffset, 0)
        XCTAssertFalse(repr.isFragment)
        XCTAssertEqual(repr.bufferLength, 57)
        XCTAssertEqual(repr.description, "IPv4 10.0.0.2 > 10.0.0.1: UDP len 37")
        XCTAssertEqual(reemit(repr, payloadOf: packet), packet)

        packet.withUnsafeBytes { bytes in
            let view = try! IPv4PacketView(checking: bytes)
            XCTAssertEqual(view.version, 4)
            XCTAssertEqual(view.headerLength, 20)
            XCTAssertEqual(view.totalLength, 57)
            XCTAssertEqual(view.checksum, 0x0a6c)
            XCTAssertTrue(view.checksumIsValid)
            XCTAssertFalse(view.reservedFlag)
            XCTAssertEqual(view.options.count, 0)
            XCTAssertEqual(view.payloadRange, 20..<57)
            XCTAssertEqual(Array(view.payload.prefix(4)), [0x14, 0xe9, 0x00, 0x35])
        }
    }

    func testEthernetPaddingIsNotPayload() throws {
        let padded = Self.udpDNSQuery + [0, 0, 0]
        let repr = try XCTUnwrap(wireValue(padded) { bytes throws(WireError) in try IPv4Repr.parse(bytes) })
        XCTAssertEqual(repr.payloadLength, 37)
        padded.withUnsafeBytes { bytes in
            XCTAssertEqual(try! IPv4PacketView(checking: bytes).payload.count, 37)
        }
    }

    func testFragmentsRoundTrip() throws {
        let first = try XCTUnwrap(
            wireValue(Self.firstFragmentHeader + [UInt8](repeating: 0, count: 1480)) {
                bytes throws(WireError) in try IPv4Repr.parse(bytes, verifyChecksum: true)
            })
        XCTAssertEqual(first.identification, 0x1234)
        XCTAssertTrue(first.moreFragments)
        XCTAssertFalse(first.dontFragment)
        XCTAssertEqual(first.fragmentOffset, 0)
        XCTAssertEqual(first.payloadLength, 1480)
        XCTAssertTrue(first.isFragment)
        XCTAssertEqual(first.description, "IPv4 10.0.0.2 > 10.0.0.1: UDP len 1480 frag 4660:1480@0+")
        XCTAssertEqual(Array(emitted(count: 20) { first.emit(into: $0) }), Self.firstFragmentHeader)

        let second = try XCTUnwrap(
            wireValue(Self.secondFragment) { bytes throws(WireError) in try IPv4Repr.parse(bytes) })
        XCTAssertEqual(second.identification, 0x1234)
        XCTAssertFalse(second.moreFragments)
        XCTAssertEqual(second.fragmentOffset, 1480)
        XCTAssertEqual(second.payloadLength, 100)
        XCTAssertTrue(second.isFragment)
        XCTAssertEqual(second.description, "IPv4 10.0.0.2 > 10.0.0.1: UDP len 100 frag 4660:100@1480")
        XCTAssertEqual(reemit(second, payloadOf: Self.secondFragment), Self.secondFragment)
    }

    func testOptionsAreSkipped() throws {
        let packet = Self.withOptions
        let repr = try XCTUnwrap(wireValue(packet) { bytes throws(WireError) in try IPv4Repr.parse(bytes) })
        XCTAssertEqual(repr.protocol, .igmp)
        XCTAssertEqual(repr.payloadLength, 16)
        XCTAssertEqual(repr.dscp, 48)
        XCTAssertEqual(repr.timeToLive, 1)
        XCTAssertEqual(repr.destination, IPv4Address(224, 0, 0, 22))
        packet.withUnsafeBytes { bytes in
            let view = try! IPv4PacketView(checking: bytes)
            XCTAssertEqual(view.headerLength, 24)
            XCTAssertEqual(Array(view.options), [0x94, 0x04, 0x00, 0x00])
            XCTAssertEqual(view.payloadRange, 24..<40)
        }
        // Emitted without options: a 20-byte header, then the same payload.
        let out = emitted(count: repr.bufferLength) { buffer in
            repr.emit(into: buffer)
            Array(packet[24...]).withUnsafeBytes {
                UnsafeMutableRawBufferPointer(rebasing: buffer[20...]).copyMemory(from: $0)
            }
        }
        XCTAssertEqual(out[0], 0x45)
        XCTAssertEqual(Array(out[2..<4]), [0x00, 0x24])
        XCTAssertEqual(Array(out[20...]), Array(packet[24...]))
        XCTAssertNil(parse(out))
    }

    func testMutableViewSetsEveryField() throws {
        let out = emitted(count: 57) { buffer in
            let header = try! MutableIPv4PacketView(checking: buffer)
            header.version = 4
            header.headerLength = 20
            header.dscp = 0
            header.ecn = 0
            header.totalLength = 57
            header.identification = 0x1c46
            header.reservedFlag = true
            header.reservedFlag = false
            header.dontFragment = true
            header.moreFragments = true
            header.moreFragments = false
            header.fragmentOffset = 0
            header.timeToLive = 64
            header.protocol = .udp
            header.source = IPv4Address(10, 0, 0, 2)
            header.destination = IPv4Address(10, 0, 0, 1)
            Array(Self.udpDNSQuery[20...]).withUnsafeBytes { header.payload.copyMemory(from: $0) }
            header.fillChecksum()
            XCTAssertEqual(header.checksum, 0x0a6c)
            XCTAssertTrue(header.view.checksumIsValid)
        }
        XCTAssertEqual(out, Self.udpDNSQuery)
        let bits = emitted(count: 20) { buffer in
            let header = try! MutableIPv4PacketView(checking: buffer)
            header.dscp = 46
            header.ecn = 3
            header.fragmentOffset = 65528
            header.moreFragments = true
            XCTAssertEqual(header.dscp, 46)
            XCTAssertEqual(header.ecn, 3)
            XCTAssertEqual(header.fragmentOffset, 65528)
        }
        XCTAssertEqual(Array(bits[0..<8]), [0, 0xbb, 0, 0, 0, 0, 0x3f, 0xff])
    }

    func testReadingABufferBeingWrittenDoesNotTrap() {
        // Garbage header lengths (0 and 60) and total lengths in a 20-byte
        // buffer: the read side of a mutable view stops at the buffer's end.
        for fill: UInt8 in [0x00, 0xff, 0x4f, 0x40] {
            var bytes = [UInt8](repeating: fill, count: 20)
            bytes.withUnsafeMutableBytes { buffer in
                let header = try! MutableIPv4PacketView(checking: buffer)
                let view = header.view
                _ = (view.options.count, view.payload.count, view.checksumIsValid, header.payload.count)
                header.fillChecksum()
            }
        }
    }

    func testBadChecksumIsRefused() {
        var packet = Self.udpDNSQuery
        packet[11] ^= 1
        XCTAssertEqual(parse(packet), .badChecksum)
        XCTAssertNil(parse(packet, verifyChecksum: false))
        packet = Self.udpDNSQuery
        packet[8] = 63  // a router decremented the TTL but not the checksum
        XCTAssertEqual(parse(packet), .badChecksum)
        // Damage to the payload is not the header checksum's business.
        packet = Self.udpDNSQuery
        packet[40] ^= 0xff
        XCTAssertNil(parse(packet))
    }

    func testEmitWithoutChecksumLeavesItZero() {
        let repr = IPv4Repr(
            source: IPv4Address(10, 0, 0, 2), destination: IPv4Address(10, 0, 0, 1), protocol: .tcp,
            payloadLength: 0)
        let out = emitted(count: 20) { repr.emit(into: $0, computeChecksum: false) }
        XCTAssertEqual(Array(out[10..<12]), [0, 0])
        XCTAssertEqual(parse(out), .badChecksum)
        XCTAssertNil(parse(out, verifyChecksum: false))
    }

    func testEveryTruncationThrows() {
        for packet in [Self.udpDNSQuery, Self.secondFragment, Self.withOptions] {
            for length in 0..<packet.count {
                XCTAssertEqual(parse(Array(packet.prefix(length))), .truncated, "length \(length)")
            }
        }
    }

    func testWrongVersionAndLengthsAreRefused() {
        var packet = Self.udpDNSQuery
        packet[0] = 0x65
        XCTAssertEqual(parse(packet), .malformed("IPv4 version"))
        packet[0] = 0x05
        XCTAssertEqual(parse(packet), .malformed("IPv4 version"))
        for ihl: UInt8 in 0..<5 {
            packet[0] = 0x40 | ihl
            XCTAssertEqual(parse(packet, verifyChecksum: false), .malformed("IPv4 header length"))
        }
        packet[0] = 0x4f  // a 60-byte header in a 57-byte packet
        XCTAssertEqual(parse(packet, verifyChecksum: false), .truncated)
        packet[0] = 0x47  // 28 bytes of header
        XCTAssertNil(parse(packet, verifyChecksum: false))
        packet = Self.udpDNSQuery
        packet[2] = 0
        packet[3] = 19  // shorter than the header
        XCTAssertEqual(parse(packet, verifyChecksum: false), .malformed("IPv4 total length"))
        packet[3] = 58  // longer than the buffer
        XCTAssertEqual(parse(packet, verifyChecksum: false), .truncated)
        packet[3] = 20  // a header alone is a packet
        XCTAssertNil(parse(packet, verifyChecksum: false))
    }

    func testReservedFlagAndOversizedFragmentsAreRefused() {
        var packet = Self.udpDNSQuery
        packet[6] |= 0x80
        XCTAssertEqual(parse(packet, verifyChecksum: false), .malformed("IPv4 reserved flag"))
        // The last fragment at offset 65528 with 100 bytes would end past
        // 65535: the ping of death.
        packet = Self.secondFragment
        packet[6] = 0x1f
        packet[7] = 0xff
        XCTAssertEqual(parse(packet, verifyChecksum: false), .malformed("IPv4 fragment offset"))
        // 65408 + 100 = 65508 still fits.
        packet[6] = 0x1f
        packet[7] = 0xf0
        XCTAssertNil(parse(packet, verifyChecksum: false))
    }

    func testRandomBytesParseOrThrow() {
        _ = fuzz(seed: 0x4444) { bytes throws(WireError) in
            _ = try IPv4Repr.parse(bytes)
        }
        // Without the checksum, random bytes get further.
        _ = fuzz(seed: 0x4445) { bytes throws(WireError) in
            let view = try IPv4PacketView(checking: bytes)
            _ = (view.options.count, view.payload.count, view.checksumIsValid)
            _ = try IPv4Repr.parse(view, verifyChecksum: false)
        }
        let parsed = fuzz(seed: 0x4446, mutating: Self.withOptions) { bytes throws(WireError) in
            _ = try IPv4Repr.parse(bytes, verifyChecksum: false)
        }
        XCTAssertGreaterThan(parsed, 1000)
    }
}
