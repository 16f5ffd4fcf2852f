import RiadNet
import XCTest

final class ICMPv4PacketTests: XCTestCase {
    /// A Linux ping from 10.0.0.1 to 10.0.0.2: id 1234, seq 1, 56 bytes of
    /// data (a 16-byte timeval, then 0x10...0x37). IPv4 header included.
    static let echoRequestPacket: [UInt8] = [
        0x45, 0x00, 0x00, 0x54, 0xb3, 0xf1, 0x40, 0x00, 0x40, 0x01, 0x72, 0xb5, 0x0a, 0x00, 0x00, 0x01,
        0x0a, 0x00, 0x00, 0x02, 0x08, 0x00, 0x53, 0x67, 0x04, 0xd2, 0x00, 0x01, 0x6a, 0x5f, 0x1e, 0x67,
        0x00, 0x00, 0x00, 0x00, 0x4d, 0x2c, 0x0b, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x11, 0x12, 0x13,
        0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23,
        0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32, 0x33,
        0x34, 0x35, 0x36, 0x37,
    ]
    static let echoRequest = Array(echoRequestPacket[20...])

    /// The answer to it (the ICMP message only).
    static let echoReply: [UInt8] = [
        0x00, 0x00, 0x5b, 0x67, 0x04, 0xd2, 0x00, 0x01, 0x6a, 0x5f, 0x1e, 0x67, 0x00, 0x00, 0x00, 0x00,
        0x4d, 0x2c, 0x0b, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
        0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27,
        0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f, 0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37,
    ]

    /// 10.0.0.1 has nothing on port 53 and says so, quoting the header and
    /// the first 8 bytes (the UDP header) of `IPv4PacketTests.udpDNSQuery`.
    /// IPv4 header (precedence 6, as Linux sends ICMP errors) included.
    static let portUnreachablePacket: [UInt8] = [
        0x45, 0xc0, 0x00, 0x38, 0x00, 0x00, 0x00, 0x00, 0x40, 0x01, 0x66, 0x03, 0x0a, 0x00, 0x00, 0x01,
        0x0a, 0x00, 0x00, 0x02, 0x03, 0x03, 0xfc, 0xe9, 0x00, 0x00, 0x00, 0x00, 0x45, 0x00, 0x00, 0x39,
        0x1c, 0x46, 0x40, 0x00, 0x40, 0x11, 0x0a, 0x6c, 0x0a, 0x00, 0x00, 0x02, 0x0a, 0x00, 0x00, 0x01,
        0x14, 0xe9, 0x00, 0x35, 0x00, 0x25, 0xea, 0xcf,
    ]
    static let portUnreachable = Array(portUnreachablePacket[20...])

    /// A router's answer to a traceroute probe with TTL 1.
    static let timeExceeded: [UInt8] = [
        0x0b, 0x00, 0x35, 0x0e, 0x00, 0x00, 0x00, 0x00, 0x45, 0x00, 0x00, 0x34, 0x7d, 0x21, 0x00, 0x00,
        0x01, 0x11, 0xfc, 0xbb, 0x0a, 0x00, 0x00, 0x02, 0x5d, 0xb8, 0xd8, 0x22, 0x82, 0x9a, 0x82, 0x9b,
        0x00, 0x20, 0xba, 0x9b,
    ]

    /// A router on a 1400-byte link refuses a 1440-byte TCP segment with DF.
    static let fragmentationNeeded: [UInt8] = [
        0x03, 0x04, 0x2e, 0x90, 0x00, 0x00, 0x05, 0x78, 0x45, 0x00, 0x05, 0xa0, 0x01, 0x01, 0x40, 0x00,
        0x40, 0x06, 0x20, 0x4d, 0x0a, 0x00, 0x00, 0x02, 0x0a, 0x00, 0x00, 0x09, 0xc3, 0x50, 0x01, 0xbb,
        0x00, 0x00, 0x03, 0xe8,
    ]

    /// A timestamp request (type 13): not interpreted, kept whole.
    static let timestampRequest: [UInt8] = [
        0x0d, 0x00, 0xa2, 0x25, 0x00, 0x42, 0x00, 0x07, 0x02, 0x55, 0x4e, 0x3c, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00,
    ]

    func parse(_ bytes: [UInt8], verifyChecksum: Bool = true) -> WireError? {
        wireError(bytes) { bytes throws(WireError) in
            try ICMPv4Repr.parse(bytes, verifyChecksum: verifyChecksum)
        }
    }

    func repr(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) throws -> ICMPv4Repr {
        try XCTUnwrap(
            wireValue(bytes, file: file, line: line) { bytes throws(WireError) in try ICMPv4Repr.parse(bytes)
            })
    }

    /// The message emitted from `repr` with `message`'s data copied to the
    /// data offset first.
    func reemit(_ repr: ICMPv4Repr, dataOf message: [UInt8]) -> [UInt8] {
        emitted(count: repr.bufferLength) { buffer in
            Array(message.suffix(repr.dataLength)).withUnsafeBytes { data in
                UnsafeMutableRawBufferPointer(rebasing: buffer[repr.dataOffset...]).copyMemory(from: data)
            }
            repr.emit(into: buffer)
        }
    }

    func testEchoRequestInItsPacket() throws {
        let ip = try XCTUnwrap(
            wireValue(Self.echoRequestPacket) { bytes throws(WireError) in try IPv4Repr.parse(bytes) })
        XCTAssertEqual(ip.protocol, .icmp)
        XCTAssertEqual(ip.payloadLength, 64)
        let request = try repr(Self.echoRequest)
        XCTAssertEqual(request.message, .echoRequest(identifier: 1234, sequenceNumber: 1))
        XCTAssertEqual(request.dataLength, 56)
        XCTAssertEqual(request.dataOffset, 8)
        XCTAssertEqual(request.bufferLength, 64)
        XCTAssertEqual(request.description, "ICMP echo request id 1234 seq 1 len 56")
        XCTAssertEqual(reemit(request, dataOf: Self.echoRequest), Self.echoRequest)
        Self.echoRequest.withUnsafeBytes { bytes in
            let view = try! ICMPv4PacketView(checking: bytes)
            XCTAssertEqual(view.type, .echoRequest)
            XCTAssertEqual(view.code, 0)
            XCTAssertEqual(view.checksum, 0x5367)
            XCTAssertEqual(view.identifier, 1234)
            XCTAssertEqual(view.sequenceNumber, 1)
            XCTAssertEqual(view.restOfHeader, 0x04d2_0001)
            XCTAssertEqual(view.payload.count, 56)
            XCTAssertTrue(view.checksumIsValid)
        }
    }

    func testEchoReplyRoundTrip() throws {
        let reply = try repr(Self.echoReply)
        XCTAssertEqual(
            reply, ICMPv4Repr(message: .echoReply(identifier: 1234, sequenceNumber: 1), dataLength: 56))
        XCTAssertEqual(reply.description, "ICMP echo reply id 1234 seq 1 len 56")
        XCTAssertEqual(reemit(reply, dataOf: Self.echoReply), Self.echoReply)
    }

    func testPortUnreachableRoundTrip() throws {
        let message = try repr(Self.portUnreachable)
        let original = IPv4Repr(
            source: IPv4Address(10, 0, 0, 2), destination: IPv4Address(10, 0, 0, 1), protocol: .udp,
            payloadLength: 37,
            identification: 0x1c46, dontFragment: true)
        XCTAssertEqual(
            message.message, .destinationUnreachable(.portUnreachable, nextHopMTU: 0, original: original))
        XCTAssertEqual(message.dataLength, 8)
        XCTAssertEqual(message.dataOffset, 28)
        XCTAssertEqual(message.bufferLength, 36)
        XCTAssertEqual(message.description, "ICMP port unreachable for UDP 10.0.0.2 > 10.0.0.1")
        XCTAssertEqual(reemit(message, dataOf: Self.portUnreachable), Self.portUnreachable)

        // The quoted packet's ports, from the view.
        Self.portUnreachable.withUnsafeBytes { bytes in
            let quoted = try! ICMPv4PacketView(checking: bytes).quotedPacket()
            XCTAssertEqual(quoted.payload.count, 8)
            XCTAssertEqual(Array(quoted.payload.prefix(4)), [0x14, 0xe9, 0x00, 0x35])
        }
        // And the packet it travels in.
        let ip = try XCTUnwrap(
            wireValue(Self.portUnreachablePacket) { bytes throws(WireError) in try IPv4Repr.parse(bytes) })
        XCTAssertEqual(ip.dscp, 48)
        XCTAssertEqual(ip.description, "IPv4 10.0.0.1 > 10.0.0.2: ICMP len 36")
    }

    func testTimeExceededRoundTrip() throws {
        let message = try repr(Self.timeExceeded)
        guard case .timeExceeded(let code, let original) = message.message else {
            return XCTFail("parsed as \(message)")
        }
        XCTAssertEqual(code, .timeToLiveExceeded)
        XCTAssertEqual(original.timeToLive, 1)
        XCTAssertEqual(original.payloadLength, 32)
        XCTAssertEqual(original.destination, IPv4Address(93, 184, 216, 34))
        XCTAssertEqual(message.dataLength, 8)
        XCTAssertEqual(message.description, "ICMP time exceeded in transit for UDP 10.0.0.2 > 93.184.216.34")
        XCTAssertEqual(reemit(message, dataOf: Self.timeExceeded), Self.timeExceeded)
    }

    func testFragmentationNeededRoundTrip() throws {
        let message = try repr(Self.fragmentationNeeded)
        guard case .destinationUnreachable(let code, let mtu, let original) = message.message else {
            return XCTFail("parsed as \(message)")
        }
        XCTAssertEqual(code, .fragmentationNeeded)
        XCTAssertEqual(mtu, 1400)
        XCTAssertEqual(original.protocol, .tcp)
        XCTAssertEqual(original.payloadLength, 1420)
        XCTAssertTrue(original.dontFragment)
        XCTAssertEqual(message.description, "ICMP fragmentation needed mtu 1400 for TCP 10.0.0.2 > 10.0.0.9")
        XCTAssertEqual(reemit(message, dataOf: Self.fragmentationNeeded), Self.fragmentationNeeded)
    }

    func testOtherMessagesAreKeptWhole() throws {
        let message = try repr(Self.timestampRequest)
        XCTAssertEqual(
            message.message, .other(type: ICMPv4Type(rawValue: 13), code: 0, restOfHeader: 0x0042_0007))
        XCTAssertEqual(message.dataLength, 12)
        XCTAssertEqual(message.description, "ICMP type 13 code 0 len 12")
        XCTAssertEqual(reemit(message, dataOf: Self.timestampRequest), Self.timestampRequest)
    }

    func testMutableViewSetsEveryField() {
        let out = emitted(count: Self.echoReply.count) { buffer in
            let message = try! MutableICMPv4PacketView(checking: buffer)
            message.type = .echoReply
            message.code = 0
            message.identifier = 1234
            message.sequenceNumber = 1
            Array(Self.echoReply[8...]).withUnsafeBytes { message.payload.copyMemory(from: $0) }
            message.fillChecksum()
            XCTAssertEqual(message.checksum, 0x5b67)
            XCTAssertEqual(message.view.type, .echoReply)
        }
        XCTAssertEqual(out, Self.echoReply)
        let header = emitted(count: 8) { buffer in
            let message = try! MutableICMPv4PacketView(checking: buffer)
            message.restOfHeader = 0x0102_0304
            message.nextHopMTU = 1500
            XCTAssertEqual(message.restOfHeader, 0x0102_05dc)
        }
        XCTAssertEqual(header, [0, 0, 0, 0, 1, 2, 5, 0xdc])
    }

    func testBadChecksumIsRefused() {
        for message in [Self.echoRequest, Self.portUnreachable, Self.timestampRequest] {
            var damaged = message
            damaged[damaged.count - 1] ^= 0x40
            XCTAssertEqual(parse(damaged), .badChecksum)
            XCTAssertNil(parse(damaged, verifyChecksum: false))
        }
        let request = ICMPv4Repr(message: .echoRequest(identifier: 1, sequenceNumber: 2), dataLength: 0)
        let unchecked = emitted(count: 8) { request.emit(into: $0, computeChecksum: false) }
        XCTAssertEqual(unchecked, [8, 0, 0, 0, 0, 1, 0, 2])
        XCTAssertEqual(parse(unchecked), .badChecksum)
    }

    func testEveryTruncationThrows() {
        for message in [Self.echoRequest, Self.echoReply, Self.portUnreachable, Self.timeExceeded] {
            for length in 0..<message.count {
                XCTAssertNotNil(parse(Array(message.prefix(length))), "length \(length)")
            }
        }
        // Below the header the message is truncated; an error cut inside its
        // quoted packet is truncated even when its checksum is not checked.
        for length in 0..<8 { XCTAssertEqual(parse(Array(Self.echoRequest.prefix(length))), .truncated) }
        for length in 8..<Self.portUnreachable.count {
            XCTAssertEqual(
                parse(Array(Self.portUnreachable.prefix(length)), verifyChecksum: false), .truncated)
        }
    }

    func testMalformedMessagesAreRefused() {
        var message = Self.echoRequest
        message[1] = 1  // echo has only code 0
        XCTAssertEqual(parse(message, verifyChecksum: false), .malformed("ICMP code"))
        message = Self.portUnreachable
        message[8] = 0x65  // the quoted packet is IPv6
        XCTAssertEqual(parse(message, verifyChecksum: false), .malformed("IPv4 version"))
        message[8] = 0x44  // with a header length of 16
        XCTAssertEqual(parse(message, verifyChecksum: false), .malformed("IPv4 header length"))
        message[8] = 0x46  // with 24 bytes of header: 4 bytes of data left
        XCTAssertEqual(parse(message, verifyChecksum: false), .truncated)
        // A quoted packet shorter than 8 bytes of payload is quoted whole.
        message = Self.portUnreachable
        message[10] = 0
        message[11] = 24
        XCTAssertNil(parse(message, verifyChecksum: false))
        message[11] = 19
        XCTAssertEqual(parse(message, verifyChecksum: false), .malformed("IPv4 total length"))
    }

    func testRandomBytesParseOrThrow() {
        _ = fuzz(seed: 0x1c) { bytes throws(WireError) in
            _ = try ICMPv4Repr.parse(bytes)
        }
        let parsed = fuzz(seed: 0x1d) { bytes throws(WireError) in
            let view = try ICMPv4PacketView(checking: bytes)
            _ = (view.payload.count, view.checksumIsValid)
            let repr = try ICMPv4Repr.parse(view, verifyChecksum: false)
            _ = repr.description
        }
        XCTAssertGreaterThan(parsed, 5000)
        for template in [Self.portUnreachable, Self.timeExceeded, Self.fragmentationNeeded] {
            _ = fuzz(seed: 0x1e, mutating: template) { bytes throws(WireError) in
                let repr = try ICMPv4Repr.parse(bytes, verifyChecksum: false)
                _ = repr.bufferLength
            }
        }
    }
}
