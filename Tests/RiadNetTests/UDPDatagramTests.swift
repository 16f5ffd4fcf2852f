import RiadNet
import XCTest

final class UDPDatagramTests: XCTestCase {
    static let client = IPv4Address(10, 0, 0, 2)
    static let server = IPv4Address(10, 0, 0, 1)

    /// The UDP datagram in `IPv4PacketTests.udpDNSQuery`: 5353 to 53, a
    /// query for example.com.
    static let dnsQuery = Array(IPv4PacketTests.udpDNSQuery[20...])

    /// A DHCP-port datagram sent without a checksum (0), in its packet.
    static let withoutChecksumPacket: [UInt8] = [
        0x45, 0x00, 0x00, 0x20, 0x00, 0x05, 0x40, 0x00, 0x40, 0x11, 0x26, 0xc6, 0x0a, 0x00, 0x00, 0x02,
        0x0a, 0x00, 0x00, 0x01, 0x00, 0x44, 0x00, 0x43, 0x00, 0x0c, 0x00, 0x00, 0x61, 0x62, 0x63, 0x64,
    ]

    func parse(
        _ bytes: [UInt8], source: IPv4Address = client, destination: IPv4Address = server,
        verifyChecksum: Bool = true
    ) -> WireError? {
        wireError(bytes) { bytes throws(WireError) in
            try UDPRepr.parse(bytes, source: source, destination: destination, verifyChecksum: verifyChecksum)
        }
    }

    func reemit(_ repr: UDPRepr, dataOf datagram: [UInt8], computeChecksum: Bool = true) -> [UInt8] {
        emitted(count: repr.bufferLength) { buffer in
            Array(datagram[8...]).withUnsafeBytes { data in
                UnsafeMutableRawBufferPointer(rebasing: buffer[UDPRepr.headerLength...]).copyMemory(
                    from: data)
            }
            repr.emit(
                into: buffer, source: Self.client, destination: Self.server, computeChecksum: computeChecksum)
        }
    }

    func testDNSQueryRoundTrip() throws {
        let repr = try XCTUnwrap(
            wireValue(Self.dnsQuery) { bytes throws(WireError) in
                try UDPRepr.parse(bytes, source: Self.client, destination: Self.server)
            })
        XCTAssertEqual(repr, UDPRepr(sourcePort: 5353, destinationPort: 53, payloadLength: 29))
        XCTAssertEqual(repr.bufferLength, 37)
        XCTAssertEqual(repr.description, "UDP 5353 > 53 len 29")
        XCTAssertEqual(reemit(repr, dataOf: Self.dnsQuery), Self.dnsQuery)
        Self.dnsQuery.withUnsafeBytes { bytes in
            let view = try! UDPDatagramView(checking: bytes)
            XCTAssertEqual(view.sourcePort, 5353)
            XCTAssertEqual(view.destinationPort, 53)
            XCTAssertEqual(view.length, 37)
            XCTAssertEqual(view.checksum, 0xeacf)
            XCTAssertEqual(view.payloadRange, 8..<37)
            XCTAssertEqual(Array(view.payload.prefix(2)), [0x1c, 0x46])
            XCTAssertTrue(view.checksumIsValid(source: Self.client, destination: Self.server))
        }
    }

    func testZeroChecksumMeansNone() throws {
        let packet = Self.withoutChecksumPacket
        let ip = try XCTUnwrap(wireValue(packet) { bytes throws(WireError) in try IPv4Repr.parse(bytes) })
        let datagram = Array(packet[20...])
        let repr = try XCTUnwrap(
            wireValue(datagram) { bytes throws(WireError) in
                try UDPRepr.parse(bytes, source: ip.source, destination: ip.destination)
            })
        XCTAssertEqual(repr, UDPRepr(sourcePort: 68, destinationPort: 67, payloadLength: 4))
        // Any addresses: there is no checksum to disagree.
        XCTAssertNil(parse(datagram, source: IPv4Address(1, 2, 3, 4)))
        XCTAssertEqual(reemit(repr, dataOf: datagram, computeChecksum: false), datagram)
    }

    func testAComputedZeroIsSentAsAllOnes() {
        // With two bytes of data equal to the checksum of the datagram whose
        // data is zero, everything sums to 0xffff: the checksum is 0.
        let repr = UDPRepr(sourcePort: 5353, destinationPort: 53, payloadLength: 2)
        let zeroData = emitted(count: 10) { buffer in
            repr.emit(into: buffer, source: Self.client, destination: Self.server)
        }
        let data = zeroData[6..<8]
        XCTAssertNotEqual(Array(data), [0, 0])
        let out = reemit(repr, dataOf: [0, 0, 0, 0, 0, 0, 0, 0] + data)
        XCTAssertEqual(Array(out[6..<8]), [0xff, 0xff])
        XCTAssertNil(parse(out))
        out.withUnsafeBytes { bytes in
            var sum = pseudoHeaderChecksum(
                source: Self.client, destination: Self.server, protocol: .udp, length: 10)
            sum.add(bytes)
            XCTAssertEqual(sum.value, 0)
        }
    }

    func testMutableViewSetsEveryField() {
        let out = emitted(count: Self.dnsQuery.count) { buffer in
            let datagram = try! MutableUDPDatagramView(checking: buffer)
            datagram.sourcePort = 5353
            datagram.destinationPort = 53
            datagram.length = 37
            Array(Self.dnsQuery[8...]).withUnsafeBytes { datagram.payload.copyMemory(from: $0) }
            datagram.fillChecksum(source: Self.client, destination: Self.server)
            XCTAssertEqual(datagram.checksum, 0xeacf)
            XCTAssertEqual(datagram.view.length, 37)
        }
        XCTAssertEqual(out, Self.dnsQuery)
    }

    func testReadingABufferBeingWrittenDoesNotTrap() {
        for length: UInt16 in [0, 3, 8, 9, 0xffff] {
            var bytes = [UInt8](repeating: 0, count: 8)
            bytes.withUnsafeMutableBytes { buffer in
                let datagram = try! MutableUDPDatagramView(checking: buffer)
                datagram.length = Int(length)
                _ = (
                    datagram.view.payload.count,
                    datagram.view.checksumIsValid(source: Self.client, destination: Self.server)
                )
                datagram.fillChecksum(source: Self.client, destination: Self.server)
            }
        }
    }

    func testBadChecksumIsRefused() {
        var datagram = Self.dnsQuery
        datagram[20] ^= 0x01
        XCTAssertEqual(parse(datagram), .badChecksum)
        XCTAssertNil(parse(datagram, verifyChecksum: false))
        // The pseudo-header counts: the right bytes from the wrong address.
        XCTAssertEqual(parse(Self.dnsQuery, source: IPv4Address(10, 0, 0, 3)), .badChecksum)
        XCTAssertEqual(parse(Self.dnsQuery, destination: IPv4Address(10, 0, 1, 1)), .badChecksum)
    }

    func testEveryTruncationThrows() {
        for length in 0..<Self.dnsQuery.count {
            XCTAssertEqual(parse(Array(Self.dnsQuery.prefix(length))), .truncated, "length \(length)")
        }
        // Bytes past the length field (IPv4 padding) are not payload.
        XCTAssertNil(parse(Self.dnsQuery + [0xaa]))
        (Self.dnsQuery + [0xaa]).withUnsafeBytes { bytes in
            XCTAssertEqual(try! UDPDatagramView(checking: bytes).payload.count, 29)
        }
    }

    func testBadLengthsAndPortZeroAreRefused() {
        var datagram = Self.dnsQuery
        datagram[4] = 0
        for length: UInt8 in 0..<8 {
            datagram[5] = length
            XCTAssertEqual(parse(datagram, verifyChecksum: false), .malformed("UDP length"))
        }
        datagram[5] = 38
        XCTAssertEqual(parse(datagram, verifyChecksum: false), .truncated)
        datagram[5] = 8
        XCTAssertNil(parse(datagram, verifyChecksum: false))
        datagram = Self.dnsQuery
        datagram[2] = 0
        datagram[3] = 0
        XCTAssertEqual(parse(datagram, verifyChecksum: false), .malformed("UDP destination port"))
    }

    func testRandomBytesParseOrThrow() {
        _ = fuzz(seed: 0x0d) { bytes throws(WireError) in
            _ = try UDPRepr.parse(bytes, source: Self.client, destination: Self.server)
        }
        let parsed = fuzz(seed: 0x0e) { bytes throws(WireError) in
            let view = try UDPDatagramView(checking: bytes)
            _ = view.payload.count
            _ = try UDPRepr.parse(view, source: Self.client, destination: Self.server, verifyChecksum: false)
        }
        XCTAssertGreaterThan(parsed, 100)
        _ = fuzz(seed: 0x0f, mutating: Self.dnsQuery) { bytes throws(WireError) in
            _ = try UDPRepr.parse(bytes, source: Self.client, destination: Self.server)
        }
    }
}
