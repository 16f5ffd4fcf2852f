import Riad
import RiadNet
import XCTest

/// The DHCP client against literal server replies, on virtual time.
final class DHCPClientTests: XCTestCase {
    let mac = MACAddress(0x02, 0, 0, 0, 0, 0x01)
    let server = IPv4Address(10, 0, 2, 2)
    let offered = IPv4Address(10, 0, 2, 15)

    /// Seconds as the client's nanoseconds.
    private func s(_ seconds: Double) -> UInt64 { UInt64(seconds * 1e9) }

    /// One message the client sent.
    struct Sent {
        let destination: DHCPClient.Destination
        let bytes: [UInt8]
        let repr: DHCPRepr
    }

    /// Polls at `now` and returns what the client sent.
    private func poll(
        _ client: inout DHCPClient, at now: UInt64, file: StaticString = #filePath, line: UInt = #line
    )
        -> [Sent]
    {
        var sent: [Sent] = []
        client.poll(now: now) { destination, capacity, fill in
            var bytes = [UInt8](repeating: 0xee, count: capacity)
            let length = bytes.withUnsafeMutableBytes { fill($0) }
            XCTAssertGreaterThan(length, 0, file: file, line: line)
            bytes.removeLast(capacity - length)
            let parse = { (buffer: UnsafeRawBufferPointer) throws(WireError) in try DHCPRepr.parse(buffer) }
            guard let repr = try? bytes.withUnsafeBytes(parse) else {
                return XCTFail("the client sent a message that does not parse", file: file, line: line)
            }
            sent.append(Sent(destination: destination, bytes: bytes, repr: repr))
        }
        return sent
    }

    /// Polls at `now` and returns the one message sent.
    private func pollOne(
        _ client: inout DHCPClient, at now: UInt64, file: StaticString = #filePath, line: UInt = #line
    ) throws -> Sent {
        let sent = poll(&client, at: now, file: file, line: line)
        XCTAssertEqual(sent.count, 1, "messages sent at \(now)", file: file, line: line)
        return try XCTUnwrap(sent.first, file: file, line: line)
    }

    private func receive(_ client: inout DHCPClient, _ bytes: [UInt8], at now: UInt64) {
        bytes.withUnsafeBytes { client.receive($0, now: now) }
    }

    // MARK: - Literal replies

    /// A BOOTREPLY: op 2, Ethernet, `xid`, yiaddr, siaddr 10.0.2.2, chaddr,
    /// zeros for sname and file, the cookie, `options` and End.
    private func reply(
        xid: UInt32, yiaddr: [UInt8] = [0x0a, 0x00, 0x02, 0x0f],
        chaddr: [UInt8] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01], options: [UInt8]
    ) -> [UInt8] {
        let xidBytes = [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: xid >> $0) }
        var bytes: [UInt8] = [0x02, 0x01, 0x06, 0x00] + xidBytes + [0x00, 0x00, 0x00, 0x00]
        bytes += [0x00, 0x00, 0x00, 0x00] + yiaddr + [0x0a, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00]
        bytes += chaddr + [UInt8](repeating: 0, count: 10 + 64 + 128)
        bytes += [0x63, 0x82, 0x53, 0x63] + options + [0xff]
        return bytes + [UInt8](repeating: 0, count: max(0, 300 - bytes.count))
    }

    /// dnsmasq's OFFER: server 10.0.2.2, lease 86400 s, T1 43200, T2 75600,
    /// mask /24, router 10.0.2.2, DNS 10.0.2.3 and 8.8.8.8.
    private let offerOptions: [UInt8] = [
        0x35, 0x01, 0x02, 0x36, 0x04, 0x0a, 0x00, 0x02, 0x02, 0x33, 0x04, 0x00, 0x01, 0x51, 0x80, 0x3a,
        0x04, 0x00, 0x00, 0xa8, 0xc0, 0x3b, 0x04, 0x00, 0x01, 0x27, 0x50, 0x01, 0x04, 0xff, 0xff, 0xff,
        0x00, 0x03, 0x04, 0x0a, 0x00, 0x02, 0x02, 0x06, 0x08, 0x0a, 0x00, 0x02, 0x03, 0x08, 0x08, 0x08,
        0x08,
    ]
    /// The ACK with the same options.
    private var ackOptions: [UInt8] { [0x35, 0x01, 0x05] + offerOptions[3...] }
    /// An ACK of 3600 s without T1 and T2: the client's defaults apply.
    private let shortAckOptions: [UInt8] = [
        0x35, 0x01, 0x05, 0x36, 0x04, 0x0a, 0x00, 0x02, 0x02, 0x33, 0x04, 0x00, 0x00, 0x0e, 0x10, 0x01,
        0x04, 0xff, 0xff, 0xff, 0x00, 0x03, 0x04, 0x0a, 0x00, 0x02, 0x02, 0x06, 0x04, 0x0a, 0x00, 0x02,
        0x03,
    ]
    private let nakOptions: [UInt8] = [0x35, 0x01, 0x06, 0x36, 0x04, 0x0a, 0x00, 0x02, 0x02]

    /// A client taken through DISCOVER, OFFER, REQUEST (sent at 1 s) and an
    /// ACK with `ackOptions`, bound at 1.2 s.
    private func boundClient(ack options: [UInt8]? = nil) throws -> DHCPClient {
        var client = DHCPClient(mac: mac, seed: 7)
        client.start(now: 0)
        let discover = try pollOne(&client, at: 0)
        receive(&client, reply(xid: discover.repr.transactionID, options: offerOptions), at: s(0.5))
        _ = try pollOne(&client, at: s(1))
        receive(&client, reply(xid: discover.repr.transactionID, options: options ?? ackOptions), at: s(1.2))
        XCTAssertEqual(client.state, .bound)
        return client
    }

    // MARK: - The exchange

    func testDiscoverOfferRequestAck() throws {
        var client = DHCPClient(mac: mac, seed: 1, hostname: "riad-test")
        XCTAssertEqual(client.state, .stopped)
        XCTAssertNil(client.nextDeadline())
        XCTAssertTrue(poll(&client, at: 0).isEmpty)
        client.start(now: s(2))
        XCTAssertEqual(client.state, .initial)
        XCTAssertEqual(client.nextDeadline(), s(2))

        let discover = try pollOne(&client, at: s(2))
        XCTAssertEqual(client.state, .selecting)
        XCTAssertEqual(discover.destination, .broadcast)
        XCTAssertEqual(client.sourceAddress, .unspecified)
        XCTAssertEqual(discover.repr.messageType, .discover)
        XCTAssertEqual(discover.repr.clientHardwareAddress, mac)
        XCTAssertTrue(discover.repr.broadcast)
        XCTAssertEqual(discover.repr.clientIdentifier.map(Array.init), [1, 2, 0, 0, 0, 0, 1])
        XCTAssertEqual(discover.repr.parameterRequestList.map(Array.init), [1, 3, 6])
        XCTAssertNil(discover.repr.requestedAddress)
        // Option 12 "riad-test", then End, at least 300 octets.
        let hostname: [UInt8] = [0x0c, 0x09] + Array("riad-test".utf8) + [0xff]
        XCTAssertNotNil(discover.bytes.firstRange(of: hostname), "\(discover.bytes)")
        XCTAssertEqual(discover.bytes.count, 300)
        XCTAssertEqual(client.counters.sent, 1)

        let xid = discover.repr.transactionID
        receive(&client, reply(xid: xid, options: offerOptions), at: s(2.5))
        XCTAssertEqual(client.state, .requesting)
        XCTAssertEqual(client.nextDeadline(), s(2.5), "the REQUEST is due at once")

        let request = try pollOne(&client, at: s(3))
        XCTAssertEqual(request.destination, .broadcast)
        XCTAssertEqual(request.repr.messageType, .request)
        XCTAssertEqual(request.repr.transactionID, xid, "the OFFER's xid (RFC 2131 section 4.4.1)")
        XCTAssertEqual(request.repr.requestedAddress, offered)
        XCTAssertEqual(request.repr.serverIdentifier, server)
        XCTAssertEqual(request.repr.clientAddress, .unspecified)
        XCTAssertEqual(request.repr.secondsElapsed, 1)
        XCTAssertNotNil(request.bytes.firstRange(of: hostname))
        XCTAssertNil(client.lease)
        XCTAssertEqual(client.leaseGeneration, 0)

        receive(&client, reply(xid: xid, options: ackOptions), at: s(3.1))
        XCTAssertEqual(client.state, .bound)
        XCTAssertEqual(client.leaseGeneration, 1)
        let lease = try XCTUnwrap(client.lease)
        XCTAssertEqual(lease.address, IPv4CIDR("10.0.2.15/24"))
        XCTAssertEqual(lease.router, server)
        XCTAssertEqual(Array(lease.dnsServers), [IPv4Address(10, 0, 2, 3), IPv4Address(8, 8, 8, 8)])
        XCTAssertEqual(lease.server, server)
        XCTAssertEqual(lease.leaseTime, 86400)
        // The lease runs from the REQUEST, and T1 and T2 are the server's.
        XCTAssertEqual(lease.obtainedAt, s(3))
        XCTAssertEqual(lease.renewAt, s(3 + 43200))
        XCTAssertEqual(lease.rebindAt, s(3 + 75600))
        XCTAssertEqual(lease.expiresAt, s(3 + 86400))
        XCTAssertEqual(client.sourceAddress, offered)
        XCTAssertEqual(client.nextDeadline(), s(3 + 43200))
        XCTAssertTrue(poll(&client, at: s(40000)).isEmpty, "nothing to do before T1")
        XCTAssertEqual(client.counters.accepted, 2)
        XCTAssertEqual(
            lease.description,
            "10.0.2.15/24 router 10.0.2.2 dns 10.0.2.3 dns 8.8.8.8 server 10.0.2.2 lease 86400")
    }

    func testDefaultRenewalAndRebindingTimes() throws {
        let client = try boundClient(ack: shortAckOptions)
        let lease = try XCTUnwrap(client.lease)
        XCTAssertEqual(lease.leaseTime, 3600)
        XCTAssertEqual(lease.renewAt, s(1 + 1800), "T1 = 0.5 lease")
        XCTAssertEqual(lease.rebindAt, s(1 + 3150), "T2 = 0.875 lease")
        XCTAssertEqual(lease.expiresAt, s(1 + 3600))
    }

    func testTimesOutOfOrderFallBackToDefaults() throws {
        // T1 4000 > T2 3000, and T2 above the 3600 s lease.
        let ack: [UInt8] =
            shortAckOptions + [0x3a, 0x04, 0x00, 0x00, 0x0f, 0xa0, 0x3b, 0x04, 0x00, 0x00, 0x1c, 0x20]
        let lease = try XCTUnwrap(try boundClient(ack: ack).lease)
        XCTAssertEqual(lease.rebindAt, s(1 + 3150))
        XCTAssertEqual(lease.renewAt, s(1 + 1800))
    }

    func testInfiniteLeaseNeverRenews() throws {
        // Lease 0xffffffff.
        var ack = shortAckOptions
        ack.replaceSubrange(11..<15, with: [0xff, 0xff, 0xff, 0xff])
        var client = try boundClient(ack: ack)
        XCTAssertEqual(client.lease?.expiresAt, .max)
        XCTAssertNil(client.nextDeadline())
        XCTAssertTrue(poll(&client, at: .max - 1).isEmpty)
        XCTAssertEqual(client.state, .bound)
    }

    func testRenewalAtT1IsUnicastToTheServer() throws {
        var client = try boundClient(ack: shortAckOptions)
        XCTAssertTrue(poll(&client, at: s(1800)).isEmpty, "T1 is at 1801 s")
        let renew = try pollOne(&client, at: s(1801))
        XCTAssertEqual(client.state, .renewing)
        XCTAssertEqual(renew.destination, .unicast(server))
        XCTAssertEqual(client.sourceAddress, offered, "renewals come from the leased address")
        XCTAssertEqual(renew.repr.messageType, .request)
        // RFC 2131 table 5: ciaddr set; no requested address, no server identifier.
        XCTAssertEqual(renew.repr.clientAddress, offered)
        XCTAssertNil(renew.repr.requestedAddress)
        XCTAssertNil(renew.repr.serverIdentifier)
        XCTAssertFalse(renew.repr.broadcast)
        XCTAssertEqual(renew.repr.secondsElapsed, 0)

        receive(&client, reply(xid: renew.repr.transactionID, options: shortAckOptions), at: s(1801.3))
        XCTAssertEqual(client.state, .bound)
        XCTAssertEqual(client.leaseGeneration, 1, "the same configuration, only extended")
        let lease = try XCTUnwrap(client.lease)
        XCTAssertEqual(lease.obtainedAt, s(1801))
        XCTAssertEqual(lease.renewAt, s(1801 + 1800))
        XCTAssertEqual(client.nextDeadline(), s(1801 + 1800))
    }

    func testRenewalWithAnotherAddressChangesTheGeneration() throws {
        var client = try boundClient(ack: shortAckOptions)
        let renew = try pollOne(&client, at: s(1801))
        receive(
            &client, reply(xid: renew.repr.transactionID, yiaddr: [10, 0, 2, 16], options: shortAckOptions),
            at: s(1802))
        XCTAssertEqual(client.lease?.address, IPv4CIDR("10.0.2.16/24"))
        XCTAssertEqual(client.leaseGeneration, 2)
    }

    /// Polls at each deadline from `start` until `stop` says so; returns
    /// when and what was sent.
    private func silentRun(
        _ client: inout DHCPClient, from start: UInt64, until stop: (Sent) -> Bool
    ) throws -> [(time: UInt64, sent: Sent)] {
        var log: [(time: UInt64, sent: Sent)] = []
        var now = start
        while log.count < 100 {
            for sent in poll(&client, at: now) {
                log.append((now, sent))
                if stop(sent) { return log }
            }
            now = try XCTUnwrap(client.nextDeadline())
        }
        XCTFail("no end")
        return log
    }

    func testRenewingRetransmitsThenRebindsAtT2() throws {
        var client = try boundClient(ack: shortAckOptions)
        let log = try silentRun(&client, from: s(1801)) { $0.destination == .broadcast }
        // RFC 2131 4.4.5: half the time left until T2 (3151 s), at least 60 s.
        XCTAssertEqual(
            log.map(\.time), [1801, 2476, 2813.5, 2982.25, 3066.625, 3126.625, 3151].map { s($0) })
        let renewals = log.dropLast().map(\.sent)
        XCTAssertEqual(Set(renewals.map(\.destination)), [.unicast(server)])
        XCTAssertEqual(Set(renewals.map(\.repr.transactionID)).count, 1, "retransmissions keep the xid")
        XCTAssertEqual(renewals.map(\.repr.secondsElapsed), [0, 675, 1012, 1181, 1265, 1325])

        let rebind = try XCTUnwrap(log.last).sent
        XCTAssertEqual(client.state, .rebinding)
        XCTAssertEqual(client.sourceAddress, offered, "still the leased address (RFC 2131 4.1)")
        XCTAssertEqual(rebind.repr.messageType, .request)
        XCTAssertEqual(rebind.repr.clientAddress, offered)
        XCTAssertNil(rebind.repr.serverIdentifier)
        XCTAssertNil(rebind.repr.requestedAddress)
        XCTAssertNotEqual(rebind.repr.transactionID, renewals[0].repr.transactionID)
        XCTAssertEqual(rebind.repr.secondsElapsed, 1350, "secs counts from the start of renewal")
        // Half of the 450 s left is 225 s.
        XCTAssertEqual(client.nextDeadline(), s(3151 + 225))

        // Another server answers the broadcast and takes the lease over.
        var otherServer = shortAckOptions
        otherServer.replaceSubrange(5..<9, with: [10, 0, 2, 9])
        receive(&client, reply(xid: rebind.repr.transactionID, options: otherServer), at: s(3152))
        XCTAssertEqual(client.state, .bound)
        XCTAssertEqual(client.lease?.server, IPv4Address(10, 0, 2, 9))
        XCTAssertEqual(client.lease?.obtainedAt, s(3151))
        XCTAssertEqual(client.leaseGeneration, 1)
    }

    func testLeaseExpiresIntoInit() throws {
        var client = try boundClient(ack: shortAckOptions)
        let log = try silentRun(&client, from: s(1801)) { $0.repr.messageType == .discover }
        // Six renewals, then REBINDING until the end of the lease at 3601 s:
        // 225 s, 112.5 s, 60 s later; 60 s more would pass the end.
        XCTAssertEqual(log.suffix(5).map(\.time), [3151, 3376, 3488.5, 3548.5, 3601].map { s($0) })
        XCTAssertEqual(
            log.suffix(5).dropLast().map(\.sent.destination), Array(repeating: .broadcast, count: 4))
        let discover = try XCTUnwrap(log.last).sent
        XCTAssertNil(client.lease)
        XCTAssertEqual(client.leaseGeneration, 2)
        XCTAssertEqual(client.state, .selecting)
        XCTAssertEqual(client.sourceAddress, .unspecified)
        XCTAssertEqual(discover.destination, .broadcast)
        XCTAssertEqual(discover.repr.requestedAddress, offered, "asks for its old address again")
    }

    func testClockJumpPastTheLeaseGoesStraightToInit() throws {
        var client = try boundClient(ack: shortAckOptions)
        let discover = try pollOne(&client, at: s(100_000))
        XCTAssertEqual(discover.repr.messageType, .discover)
        XCTAssertNil(client.lease)
    }

    // MARK: - NAK

    func testNakWhileRequestingStartsOver() throws {
        var client = DHCPClient(mac: mac, seed: 3)
        client.start(now: 0)
        let discover = try pollOne(&client, at: 0)
        let xid = discover.repr.transactionID
        receive(&client, reply(xid: xid, options: offerOptions), at: s(0.1))
        _ = try pollOne(&client, at: s(0.1))
        // A NAK from another server is not for this exchange.
        var otherServer = nakOptions
        otherServer.replaceSubrange(5..<9, with: [10, 0, 2, 9])
        receive(&client, reply(xid: xid, yiaddr: [0, 0, 0, 0], options: otherServer), at: s(0.2))
        XCTAssertEqual(client.state, .requesting)
        receive(&client, reply(xid: xid, yiaddr: [0, 0, 0, 0], options: nakOptions), at: s(0.2))
        XCTAssertEqual(client.state, .initial)
        let again = try pollOne(&client, at: s(0.2))
        XCTAssertEqual(again.repr.messageType, .discover)
        XCTAssertNotEqual(again.repr.transactionID, xid, "a new exchange, a new xid")
        XCTAssertEqual(client.leaseGeneration, 0)
    }

    func testNakWhileRenewingDropsTheLease() throws {
        var client = try boundClient(ack: shortAckOptions)
        let renew = try pollOne(&client, at: s(1801))
        receive(
            &client, reply(xid: renew.repr.transactionID, yiaddr: [0, 0, 0, 0], options: nakOptions),
            at: s(1802))
        XCTAssertNil(client.lease)
        XCTAssertEqual(client.leaseGeneration, 2)
        XCTAssertEqual(client.state, .initial)
        XCTAssertEqual(try pollOne(&client, at: s(1802)).repr.messageType, .discover)
    }

    // MARK: - Retransmission

    /// The times at which `count` messages go out when nobody answers.
    private func silentTimes(_ client: inout DHCPClient, count: Int) throws -> [UInt64] {
        var times: [UInt64] = []
        for _ in 0..<count {
            let now = try XCTUnwrap(client.nextDeadline())
            XCTAssertTrue(poll(&client, at: now - 1).isEmpty, "nothing before the deadline")
            XCTAssertEqual(poll(&client, at: now).count, 1)
            times.append(now)
        }
        return times
    }

    func testDiscoverBacksOffExponentially() throws {
        var client = DHCPClient(mac: mac, seed: 11)
        client.start(now: s(100))
        let times = try silentTimes(&client, count: 8)
        let gaps = zip(times.dropFirst(), times).map { $0 - $1 }
        // RFC 2131 4.1: 4, 8, 16, 32, 64, 64... seconds, each ±1 s.
        for (gap, base) in zip(gaps, [4.0, 8, 16, 32, 64, 64, 64]) {
            XCTAssertGreaterThanOrEqual(gap, s(base - 1), "\(gaps)")
            XCTAssertLessThanOrEqual(gap, s(base + 1), "\(gaps)")
        }
        XCTAssertGreaterThan(Set(gaps.map { $0 % s(1) }).count, 1, "randomised: \(gaps)")
        XCTAssertEqual(client.counters.sent, 8)

        // The same seed gives the same times; another seed, others.
        var same = DHCPClient(mac: mac, seed: 11)
        same.start(now: s(100))
        XCTAssertEqual(try silentTimes(&same, count: 8), times)
        var other = DHCPClient(mac: mac, seed: 12)
        other.start(now: s(100))
        XCTAssertNotEqual(try silentTimes(&other, count: 8), times)
    }

    func testRequestGivesUpAfterFiveAndStartsOver() throws {
        var client = DHCPClient(mac: mac, seed: 5)
        client.start(now: 0)
        let discover = try pollOne(&client, at: 0)
        receive(&client, reply(xid: discover.repr.transactionID, options: offerOptions), at: s(1))
        let times = try silentTimes(&client, count: 5)
        XCTAssertEqual(times.first, s(1))
        let gaps = zip(times.dropFirst(), times).map { $0 - $1 }
        for (gap, base) in zip(gaps, [4.0, 8, 16, 32]) {
            XCTAssertGreaterThanOrEqual(gap, s(base - 1), "\(gaps)")
            XCTAssertLessThanOrEqual(gap, s(base + 1), "\(gaps)")
        }
        XCTAssertEqual(client.state, .requesting)
        // 64 s (±1) after the fifth REQUEST, back to INIT and a DISCOVER.
        let last = try XCTUnwrap(times.last)
        let next = try XCTUnwrap(client.nextDeadline())
        XCTAssertGreaterThanOrEqual(next - last, s(63))
        XCTAssertLessThanOrEqual(next - last, s(65))
        let again = try pollOne(&client, at: next)
        XCTAssertEqual(again.repr.messageType, .discover)
        XCTAssertNotEqual(again.repr.transactionID, discover.repr.transactionID)
        XCTAssertEqual(client.state, .selecting)
    }

    func testRetransmittedDiscoverKeepsItsXidAndCountsSeconds() throws {
        var client = DHCPClient(mac: mac, seed: 9)
        client.start(now: s(10))
        let first = try pollOne(&client, at: s(10))
        let second = try pollOne(&client, at: try XCTUnwrap(client.nextDeadline()))
        XCTAssertEqual(second.repr.transactionID, first.repr.transactionID)
        XCTAssertEqual(first.repr.secondsElapsed, 0)
        XCTAssertTrue((3...5).contains(second.repr.secondsElapsed), "\(second.repr.secondsElapsed)")
    }

    // MARK: - Replies that are not for us

    func testRepliesToOthersAreIgnored() throws {
        var client = DHCPClient(mac: mac, seed: 4)
        client.start(now: 0)
        let xid = try pollOne(&client, at: 0).repr.transactionID
        // Another xid, another chaddr.
        receive(&client, reply(xid: xid &+ 1, options: offerOptions), at: 1)
        receive(&client, reply(xid: xid, chaddr: [0x02, 0, 0, 0, 0, 0x02], options: offerOptions), at: 1)
        // An ACK or a NAK while selecting.
        receive(&client, reply(xid: xid, options: ackOptions), at: 1)
        receive(&client, reply(xid: xid, options: nakOptions), at: 1)
        // An offer without a server identifier, or of an unusable address.
        receive(&client, reply(xid: xid, options: [0x35, 0x01, 0x02]), at: 1)
        receive(&client, reply(xid: xid, yiaddr: [0, 0, 0, 0], options: offerOptions), at: 1)
        receive(&client, reply(xid: xid, yiaddr: [224, 0, 0, 1], options: offerOptions), at: 1)
        receive(&client, reply(xid: xid, yiaddr: [127, 0, 0, 1], options: offerOptions), at: 1)
        // A client's DISCOVER with our xid (op 1).
        var discover = reply(xid: xid, options: [0x35, 0x01, 0x01])
        discover[0] = 1
        receive(&client, discover, at: 1)
        XCTAssertEqual(client.state, .selecting)
        XCTAssertEqual(client.counters.ignored, 9)
        XCTAssertEqual(client.counters.accepted, 0)

        receive(&client, reply(xid: xid, options: offerOptions), at: 2)
        XCTAssertEqual(client.state, .requesting)
        // A second offer is not taken: the first one was.
        receive(&client, reply(xid: xid, yiaddr: [10, 0, 2, 99], options: offerOptions), at: 2)
        let request = try pollOne(&client, at: 2)
        XCTAssertEqual(request.repr.requestedAddress, offered)

        // ACKs without a lease time, with a lease time of 0, with a
        // non-contiguous mask, from another server: no lease.
        receive(&client, reply(xid: xid, options: [0x35, 0x01, 0x05, 0x36, 0x04, 10, 0, 2, 2]), at: 3)
        var zero = shortAckOptions
        zero.replaceSubrange(11..<15, with: [0, 0, 0, 0])
        receive(&client, reply(xid: xid, options: zero), at: 3)
        var holes = shortAckOptions
        holes.replaceSubrange(17..<21, with: [255, 0, 255, 0])
        receive(&client, reply(xid: xid, options: holes), at: 3)
        var otherServer = shortAckOptions
        otherServer.replaceSubrange(5..<9, with: [10, 0, 2, 9])
        receive(&client, reply(xid: xid, options: otherServer), at: 3)
        // The subnet's broadcast address.
        receive(&client, reply(xid: xid, yiaddr: [10, 0, 2, 255], options: shortAckOptions), at: 3)
        XCTAssertEqual(client.state, .requesting)
        XCTAssertNil(client.lease)

        receive(&client, reply(xid: xid, options: shortAckOptions), at: 3)
        XCTAssertEqual(client.state, .bound)
        // Once bound, a late copy of the ACK is ignored.
        let ignored = client.counters.ignored
        receive(&client, reply(xid: xid, options: shortAckOptions), at: 4)
        XCTAssertEqual(client.counters.ignored, ignored + 1)
        XCTAssertEqual(client.leaseGeneration, 1)
    }

    func testAckWithoutMaskUsesTheAddressClass() throws {
        // Lease and server identifier only.
        let ack: [UInt8] = [
            0x35, 0x01, 0x05, 0x36, 0x04, 0x0a, 0x00, 0x02, 0x02, 0x33, 0x04, 0x00, 0x00, 0x0e, 0x10,
        ]
        let lease = try XCTUnwrap(try boundClient(ack: ack).lease)
        XCTAssertEqual(lease.address, IPv4CIDR("10.0.2.15/8"))
        XCTAssertNil(lease.router)
        XCTAssertTrue(lease.dnsServers.isEmpty)
    }

    func testUnusableRoutersAndDNSServersAreDropped() throws {
        // Router 0.0.0.0, DNS 255.255.255.255 and 10.0.2.3.
        let ack: [UInt8] =
            Array(shortAckOptions[0..<21]) + [
                0x03, 0x04, 0x00, 0x00, 0x00, 0x00, 0x06, 0x08, 0xff, 0xff, 0xff, 0xff, 0x0a, 0x00, 0x02,
                0x03,
            ]
        let lease = try XCTUnwrap(try boundClient(ack: ack).lease)
        XCTAssertNil(lease.router)
        XCTAssertEqual(Array(lease.dnsServers), [IPv4Address(10, 0, 2, 3)])
    }

    func testInvalidHostnamesAreNotSent() {
        for name in ["", "-riad", "riad-", "riad.example", "ri ad", String(repeating: "a", count: 64)] {
            XCTAssertNil(DHCPClient(mac: mac, seed: 1, hostname: name).hostname, name)
        }
        XCTAssertEqual(DHCPClient(mac: mac, seed: 1, hostname: "Riad-01").hostname, "Riad-01")
    }

    // MARK: - Hostile bytes

    func testMalformedPayloadsAreCountedAndIgnored() throws {
        var client = DHCPClient(mac: mac, seed: 6)
        client.start(now: 0)
        let xid = try pollOne(&client, at: 0).repr.transactionID
        let offer = reply(xid: xid, options: offerOptions)
        // Every truncation before End, and the empty payload.
        let end = try XCTUnwrap(offer.lastIndex(of: 0xff))
        for length in 0..<end {
            receive(&client, Array(offer[..<length]), at: 1)
        }
        XCTAssertEqual(client.counters.malformed, UInt64(end))
        XCTAssertEqual(client.state, .selecting)

        // Random bytes and mutated offers: never a trap, and the client is
        // always in a state the bytes explain.
        var random = SeededRandomBuffers(seed: 0xd4c9)
        for round in 0..<3000 {
            let bytes = round % 2 == 0 ? random.buffer(maximumLength: 600) : random.mutation(of: offer)
            var copy = client
            receive(&copy, bytes, at: 1)
            XCTAssertTrue(copy.state == .selecting || copy.state == .requesting, "round \(round)")
            XCTAssertEqual(
                copy.counters.malformed + copy.counters.ignored + copy.counters.accepted,
                client.counters.malformed + client.counters.ignored + client.counters.accepted + 1)
        }
    }
}
