import Riad
import RiadNet
import XCTest

final class DHCPTests: XCTestCase {
    let mac = MACAddress(0x02, 0, 0, 0, 0, 0x01)
    let xid: UInt32 = 0x3903_f326

    /// A message from its first 44 octets (op to chaddr's MAC), zeros for
    /// the rest of chaddr, sname and file, then `options` (cookie included)
    /// and zeros up to `length`.
    private func message(head: [UInt8], options: [UInt8], length: Int = 300) -> [UInt8] {
        var bytes = head + [UInt8](repeating: 0, count: 236 - head.count) + options
        if bytes.count < length { bytes += [UInt8](repeating: 0, count: length - bytes.count) }
        return bytes
    }

    private var discoverBytes: [UInt8] {
        message(
            head: [
                0x01, 0x01, 0x06, 0x00, 0x39, 0x03, 0xf3, 0x26, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00,
                0x00, 0x00, 0x00, 0x01,
            ],
            options: [
                0x63, 0x82, 0x53, 0x63, 0x35, 0x01, 0x01, 0x3d, 0x07, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00,
                0x01, 0x37, 0x03, 0x01, 0x03, 0x06, 0xff,
            ])
    }

    private var requestBytes: [UInt8] {
        message(
            head: [
                0x01, 0x01, 0x06, 0x00, 0x39, 0x03, 0xf3, 0x26, 0x00, 0x03, 0x80, 0x00, 0x00, 0x00, 0x00,
                0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00,
                0x00, 0x00, 0x00, 0x01,
            ],
            options: [
                0x63, 0x82, 0x53, 0x63, 0x35, 0x01, 0x03, 0x3d, 0x07, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00,
                0x01, 0x32, 0x04, 0x0a, 0x00, 0x02, 0x0f, 0x36, 0x04, 0x0a, 0x00, 0x02, 0x02, 0x37, 0x03,
                0x01, 0x03, 0x06, 0xff,
            ])
    }

    private var offerBytes: [UInt8] {
        message(
            head: [
                0x02, 0x01, 0x06, 0x00, 0x39, 0x03, 0xf3, 0x26, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                0x00, 0x0a, 0x00, 0x02, 0x0f, 0x0a, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00,
                0x00, 0x00, 0x00, 0x01,
            ],
            options: [
                0x63, 0x82, 0x53, 0x63, 0x35, 0x01, 0x02, 0x36, 0x04, 0x0a, 0x00, 0x02, 0x02, 0x33, 0x04,
                0x00, 0x01, 0x51, 0x80, 0x3a, 0x04, 0x00, 0x00, 0xa8, 0xc0, 0x3b, 0x04, 0x00, 0x01, 0x27,
                0x50, 0x01, 0x04, 0xff, 0xff, 0xff, 0x00, 0x03, 0x04, 0x0a, 0x00, 0x02, 0x02, 0x06, 0x08,
                0x0a, 0x00, 0x02, 0x03, 0x08, 0x08, 0x08, 0x08, 0xff,
            ])
    }

    /// An ACK in another server's order: pads, two routers, a domain name
    /// (option 15, skipped), four DNS servers, no padding to 300.
    private var ackBytes: [UInt8] {
        message(
            head: [
                0x02, 0x01, 0x06, 0x00, 0x39, 0x03, 0xf3, 0x26, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                0x00, 0x0a, 0x00, 0x02, 0x0f, 0x0a, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00,
                0x00, 0x00, 0x00, 0x01,
            ],
            options: [
                0x63, 0x82, 0x53, 0x63, 0x35, 0x01, 0x05, 0x00, 0x00, 0x01, 0x04, 0xff, 0xff, 0xff, 0x00,
                0x03, 0x08, 0x0a, 0x00, 0x02, 0x02, 0x0a, 0x00, 0x02, 0x01, 0x0f, 0x0b, 0x65, 0x78, 0x61,
                0x6d, 0x70, 0x6c, 0x65, 0x2e, 0x6f, 0x72, 0x67, 0x06, 0x10, 0x01, 0x01, 0x01, 0x01, 0x08,
                0x08, 0x08, 0x08, 0x09, 0x09, 0x09, 0x09, 0x04, 0x04, 0x04, 0x04, 0x33, 0x04, 0x00, 0x00,
                0x0e, 0x10, 0x36, 0x04, 0x0a, 0x00, 0x02, 0x02, 0xff,
            ], length: 0)
    }

    private func parse(_ bytes: [UInt8]) throws(WireError) -> DHCPRepr {
        try bytes.withUnsafeBytes { buffer in
            Result { () throws(WireError) -> DHCPRepr in try DHCPRepr.parse(buffer) }
        }.get()
    }

    private func emit(_ repr: DHCPRepr) -> [UInt8] {
        var out = [UInt8](repeating: 0xaa, count: repr.bufferLength)
        let length = out.withUnsafeMutableBytes { repr.emit(into: $0) }
        XCTAssertEqual(length, out.count)
        return out
    }

    private func assertThrows(_ expected: WireError, _ bytes: [UInt8], line: UInt = #line) {
        do {
            let repr = try parse(bytes)
            XCTFail("parsed \(repr)", line: line)
        } catch {
            XCTAssertEqual(error, expected, line: line)
        }
    }

    // MARK: - Round trips

    func testClientDiscover() throws {
        let discover = DHCPRepr.discover(transactionID: xid, clientHardwareAddress: mac)
        XCTAssertEqual(emit(discover), discoverBytes)
        let parsed = try parse(discoverBytes)
        XCTAssertEqual(parsed, discover)
        XCTAssertEqual(parsed.messageType, .discover)
        XCTAssertEqual(parsed.transactionID, xid)
        XCTAssertEqual(parsed.clientHardwareAddress, mac)
        XCTAssertFalse(parsed.broadcast)
        XCTAssertEqual(parsed.clientAddress, .unspecified)
        XCTAssertEqual(parsed.clientIdentifier.map(Array.init), [1, 2, 0, 0, 0, 0, 1])
        XCTAssertEqual(parsed.parameterRequestList.map(Array.init), [1, 3, 6])
        XCTAssertNil(parsed.serverIdentifier)
        XCTAssertNil(parsed.requestedAddress)
        XCTAssertEqual(parsed.description, "DHCP DISCOVER xid 0x3903f326 chaddr 02:00:00:00:00:01")
    }

    func testClientRequest() throws {
        let request = DHCPRepr.request(
            transactionID: xid, clientHardwareAddress: mac, requestedAddress: IPv4Address(10, 0, 2, 15),
            serverIdentifier: IPv4Address(10, 0, 2, 2), secondsElapsed: 3, broadcast: true)
        XCTAssertEqual(emit(request), requestBytes)
        let parsed = try parse(requestBytes)
        XCTAssertEqual(parsed, request)
        XCTAssertEqual(parsed.messageType, .request)
        XCTAssertEqual(parsed.secondsElapsed, 3)
        XCTAssertTrue(parsed.broadcast)
        XCTAssertEqual(parsed.requestedAddress, IPv4Address(10, 0, 2, 15))
        XCTAssertEqual(parsed.serverIdentifier, IPv4Address(10, 0, 2, 2))
        XCTAssertEqual(
            parsed.description,
            "DHCP REQUEST xid 0x3903f326 chaddr 02:00:00:00:00:01 broadcast server 10.0.2.2"
                + " requested 10.0.2.15")
    }

    func testOfferRoundTrip() throws {
        let offer = try parse(offerBytes)
        XCTAssertEqual(offer.messageType, .offer)
        XCTAssertEqual(offer.transactionID, xid)
        XCTAssertEqual(offer.clientHardwareAddress, mac)
        XCTAssertEqual(offer.clientAddress, .unspecified)
        XCTAssertEqual(offer.yourAddress, IPv4Address(10, 0, 2, 15))
        XCTAssertEqual(offer.serverAddress, IPv4Address(10, 0, 2, 2))
        XCTAssertEqual(offer.relayAgentAddress, .unspecified)
        XCTAssertEqual(offer.serverIdentifier, IPv4Address(10, 0, 2, 2))
        XCTAssertEqual(offer.leaseTime, 86400)
        XCTAssertEqual(offer.renewalTime, 43200)
        XCTAssertEqual(offer.rebindingTime, 75600)
        XCTAssertEqual(offer.subnetMask, IPv4Address(255, 255, 255, 0))
        XCTAssertEqual(offer.router, IPv4Address(10, 0, 2, 2))
        XCTAssertEqual(Array(offer.dnsServers), [IPv4Address(10, 0, 2, 3), IPv4Address(8, 8, 8, 8)])
        XCTAssertNil(offer.clientIdentifier)
        XCTAssertNil(offer.parameterRequestList)
        XCTAssertEqual(
            offer.description,
            "DHCP OFFER xid 0x3903f326 chaddr 02:00:00:00:00:01 yiaddr 10.0.2.15 siaddr 10.0.2.2"
                + " server 10.0.2.2 mask 255.255.255.0 router 10.0.2.2 dns 10.0.2.3 dns 8.8.8.8"
                + " lease 86400 t1 43200 t2 75600")
        XCTAssertEqual(emit(offer), offerBytes)
    }

    func testAckInAnotherOrder() throws {
        let ack = try parse(ackBytes)
        XCTAssertEqual(ack.messageType, .ack)
        XCTAssertEqual(ack.yourAddress, IPv4Address(10, 0, 2, 15))
        XCTAssertEqual(ack.subnetMask, IPv4Address(255, 255, 255, 0))
        XCTAssertEqual(ack.router, IPv4Address(10, 0, 2, 2))
        XCTAssertEqual(
            Array(ack.dnsServers),
            [IPv4Address(1, 1, 1, 1), IPv4Address(8, 8, 8, 8), IPv4Address(9, 9, 9, 9)])
        XCTAssertEqual(ack.leaseTime, 3600)
        XCTAssertNil(ack.renewalTime)
        XCTAssertEqual(ack.serverIdentifier, IPv4Address(10, 0, 2, 2))
        // Emitted again in this stack's order, it parses to the same value.
        XCTAssertEqual(try parse(emit(ack)), ack)
    }

    func testEveryMessageTypeRoundTrips() throws {
        for raw in UInt8(1)...8 {
            guard let type = DHCPMessageType(rawValue: raw) else { return XCTFail("type \(raw)") }
            var repr = DHCPRepr(messageType: type, transactionID: UInt32(raw), clientHardwareAddress: mac)
            repr.clientAddress = IPv4Address(10, 0, 0, raw)
            let bytes = emit(repr)
            XCTAssertEqual(bytes[0], type.isFromClient ? 1 : 2)
            XCTAssertEqual(try parse(bytes), repr)
        }
    }

    // MARK: - Refusals

    func testEveryTruncationThrows() {
        for packet in [discoverBytes, requestBytes, offerBytes, ackBytes] {
            // Past the End option, what is cut is padding.
            let end = packet.lastIndex(of: 0xff) ?? packet.count
            for length in 0...end {
                XCTAssertThrowsError(try parse(Array(packet[..<length])), "length \(length)")
            }
        }
        assertThrows(.truncated, Array(offerBytes[..<239]))
        assertThrows(.malformed("options end"), Array(offerBytes[..<240]))
        assertThrows(.malformed("option length"), Array(offerBytes[..<242]))
    }

    func testFixedFieldsAreChecked() {
        var bytes = offerBytes
        bytes[236] = 0x64
        assertThrows(.malformed("magic cookie"), bytes)
        bytes = offerBytes
        bytes[0] = 3
        assertThrows(.malformed("op"), bytes)
        bytes[0] = 1  // an OFFER in a BOOTREQUEST
        assertThrows(.malformed("op"), bytes)
        bytes = offerBytes
        bytes[1] = 6
        assertThrows(.unsupported("hardware type"), bytes)
        bytes = offerBytes
        bytes[2] = 16
        assertThrows(.unsupported("hardware address length"), bytes)
    }

    /// The OFFER's options (after the cookie) replaced by `options`.
    private func offer(options: [UInt8]) -> [UInt8] {
        message(head: Array(offerBytes[..<44]), options: [0x63, 0x82, 0x53, 0x63] + options)
    }

    func testMalformedOptionsAreRefused() {
        // An option whose length runs past the message.
        assertThrows(.malformed("option length"), offer(options: [0x35, 0x01, 0x02, 0x0f, 0xff]))
        assertThrows(
            .malformed("option length"), Array(offer(options: [0x35, 0x01, 0x02, 0x0f, 0x40])[..<245]))
        assertThrows(.malformed("option length"), Array(offer(options: [0x35, 0x01, 0x02, 0x0f])[..<244]))
        // Wrong lengths for known options.
        assertThrows(.malformed("message type"), offer(options: [0x35, 0x02, 0x02, 0x00, 0xff]))
        assertThrows(
            .malformed("subnet mask"), offer(options: [0x35, 0x01, 0x02, 0x01, 0x03, 1, 2, 3, 0xff]))
        assertThrows(
            .malformed("router"), offer(options: [0x35, 0x01, 0x02, 0x03, 0x05, 1, 2, 3, 4, 5, 0xff]))
        assertThrows(.malformed("DNS servers"), offer(options: [0x35, 0x01, 0x02, 0x06, 0x00, 0xff]))
        assertThrows(.malformed("lease time"), offer(options: [0x35, 0x01, 0x02, 0x33, 0x02, 0, 1, 0xff]))
        assertThrows(
            .malformed("client identifier"), offer(options: [0x35, 0x01, 0x02, 0x3d, 0x01, 1, 0xff]))
        // No message type, no End, an unknown type, overload.
        assertThrows(.malformed("message type"), offer(options: [0x01, 0x04, 255, 255, 255, 0, 0xff]))
        assertThrows(.malformed("options end"), Array(offer(options: [0x35, 0x01, 0x02])[..<243]))
        assertThrows(.unsupported("message type"), offer(options: [0x35, 0x01, 0x09, 0xff]))
        assertThrows(
            .unsupported("option overload"), offer(options: [0x35, 0x01, 0x02, 0x34, 0x01, 0x03, 0xff]))
    }

    func testInlineListsStopAtTheirCapacity() {
        var servers = DHCPAddressList()
        for index in 0..<4 { XCTAssertEqual(servers.append(IPv4Address(10, 0, 0, UInt8(index))), index < 3) }
        XCTAssertEqual(servers.count, 3)
        XCTAssertNil(DHCPOptionBytes([UInt8](repeating: 7, count: 33)))
        let bytes = DHCPOptionBytes((0..<32).map { UInt8($0) })
        XCTAssertEqual(bytes.map(Array.init), (0..<32).map { UInt8($0) })
        XCTAssertNotEqual(DHCPOptionBytes([1, 2]), DHCPOptionBytes([1, 2, 0]))
    }

    // MARK: - Random bytes

    func testRandomBytesParseOrThrow() {
        var random = SeededRandomBuffers(seed: 0xd4c9_0001)
        let cookie: [UInt8] = [0x63, 0x82, 0x53, 0x63]
        for round in 0..<10_000 {
            var bytes = random.buffer(maximumLength: 1500)
            if round % 2 == 1, bytes.count >= 240 {
                // Half the buffers look like DHCP up to the options.
                bytes[0] = UInt8(1 + round % 4 / 2)
                bytes[1] = 1
                bytes[2] = 6
                bytes.replaceSubrange(236..<240, with: cookie)
            }
            if let repr = try? parse(bytes) { XCTAssertEqual(try parse(emit(repr)), repr) }
        }
    }

    func testMutatedMessagesParseOrThrow() {
        var random = SeededRandomBuffers(seed: 0xd4c9_0002)
        let templates = [discoverBytes, requestBytes, offerBytes, ackBytes]
        var parsed = 0
        for round in 0..<10_000 {
            let bytes = random.mutation(of: templates[round % templates.count])
            if let repr = try? parse(bytes) {
                parsed += 1
                XCTAssertEqual(try parse(emit(repr)), repr)
            }
        }
        XCTAssertGreaterThan(parsed, 1000)
    }
}
