import Riad
import RiadNet
import XCTest

/// The layer around the connections: IDs and slots, the device refusing
/// frames, limits, keepalive, malformed input and the counters.
final class TCPLayerTests: XCTestCase {
    /// A freed slot is reused with a new generation: the old ID names nothing.
    func testStaleIDNamesNothing() throws {
        var configuration = TCPConfiguration.plain
        configuration.maximumConnections = 1
        var h = TCPHarness(configuration)
        let first = try h.layer.connect(
            from: TCPHarness.host, to: SocketAddress(TCPHarness.peer, 80), now: h.now)
        h.layer.abort(first)
        let second = try h.layer.connect(
            from: TCPHarness.host, to: SocketAddress(TCPHarness.peer, 80), now: h.now)
        XCTAssertEqual(first.slot, second.slot)
        XCTAssertNotEqual(first, second)
        XCTAssertNil(h.layer.state(first))
        XCTAssertEqual(h.layer.state(second), .synSent)
        XCTAssertEqual(h.layer.status(first).error, .closed)
        XCTAssertThrowsError(
            try [UInt8](repeating: 0, count: 1).withUnsafeBytes { try h.layer.send(first, $0) }
        ) {
            XCTAssertEqual(($0 as? RiadError)?.kind, .closed)
        }
        h.layer.close(first)
        XCTAssertEqual(h.layer.state(second), .synSent, "closing a stale ID touches nothing")
    }

    func testTableFullIsExhausted() throws {
        var configuration = TCPConfiguration.plain
        configuration.maximumConnections = 2
        var layer = TCPLayer(configuration: configuration, seed: 3)
        for port: UInt16 in [80, 81] {
            _ = try layer.connect(from: TCPHarness.host, to: SocketAddress(TCPHarness.peer, port), now: 1)
        }
        XCTAssertThrowsError(
            try layer.connect(from: TCPHarness.host, to: SocketAddress(TCPHarness.peer, 82), now: 1)
        ) { XCTAssertEqual(($0 as? RiadError)?.kind, .exhausted) }
        XCTAssertThrowsError(
            try layer.connect(from: TCPHarness.host, to: SocketAddress(TCPHarness.peer, 0), now: 1)
        ) { XCTAssertEqual(($0 as? RiadError)?.kind, .invalidArgument) }
        XCTAssertThrowsError(
            try layer.connect(from: TCPHarness.host, to: SocketAddress(.broadcast, 80), now: 1)
        ) { XCTAssertEqual(($0 as? RiadError)?.kind, .invalidArgument) }
    }

    /// A device that cannot take a frame loses nothing: the segment goes at
    /// the next poll, and `nextDeadline` says so.
    func testRefusedTransmitIsRetried() {
        var h = TCPHarness()
        h.openPassive()
        h.layer.setNoDelay(h.id, true)
        h.send(3000)
        let first = h.poll(refusingAfter: 1)
        XCTAssertEqual(first.map(\.payload.count), [1460])
        XCTAssertEqual(h.layer.nextDeadline(), h.now, "more is ready now")
        let rest = h.poll()
        XCTAssertEqual(rest.map(\.seq), [h.iss &+ 1461, h.iss &+ 2921])
        XCTAssertEqual(h.layer.counters.retransmissions, 0)
        XCTAssertEqual(h.layer.counters.segmentsSent, 4, "SYN-ACK and three data segments")
    }

    func testIdleLayerHasNoDeadline() throws {
        var h = TCPHarness()
        XCTAssertNil(h.layer.nextDeadline())
        h.openPassive()
        XCTAssertNil(h.layer.nextDeadline(), "an idle connection needs no timer")
        XCTAssertTrue(h.poll().isEmpty)
    }

    /// RFC 1122 section 4.2.3.6: after the idle time, probes at the
    /// interval; answered, the connection lives; unanswered, it fails.
    func testKeepalive() {
        var configuration = TCPConfiguration.plain
        configuration.keepalive = true
        configuration.keepaliveIdle = 10_000_000_000
        configuration.keepaliveInterval = 1_000_000_000
        configuration.keepaliveCount = 2
        var h = TCPHarness(configuration)
        h.openPassive()
        let start = h.now
        XCTAssertEqual(h.layer.nextDeadline(), start + 10_000_000_000)
        assertSegment(h.advanceToDeadline().first, [.ack], seq: h.iss, ack: 1001)
        h.deliver([], seq: 1001, ack: h.iss &+ 1)
        XCTAssertEqual(h.layer.nextDeadline(), h.now + 10_000_000_000, "answered: idle again")

        let quiet = h.now
        XCTAssertEqual(h.advanceToDeadline().count, 1)
        XCTAssertEqual(h.advanceToDeadline().count, 1)
        XCTAssertTrue(h.advanceToDeadline().isEmpty)
        XCTAssertEqual(h.now - quiet, 12_000_000_000)
        XCTAssertEqual(h.layer.status(h.id).error, .timedOut)
    }

    /// Malformed bytes, bad checksums and broadcast addresses are counted
    /// and dropped.
    func testBadSegmentsAreCounted() {
        var h = TCPHarness()
        h.openPassive()
        h.deliver(bytes: [1, 2, 3])
        var bytes = TCPHarness.emit(
            TCPRepr(
                sourcePort: 40000, destinationPort: 80, sequenceNumber: TCPSeqNumber(rawValue: 1001),
                acknowledgmentNumber: TCPSeqNumber(rawValue: h.iss &+ 1), window: 8192),
            payload: [1, 2, 3], from: TCPHarness.peer, to: TCPHarness.host)
        bytes[bytes.count - 1] ^= 0xff
        h.deliver(bytes: bytes)
        XCTAssertNil(h.read())
        // The same bytes pass when the device vouches for the checksum.
        h.deliver(bytes: bytes, checksumVerified: true)
        XCTAssertEqual(h.read(), [1, 2, 0xfc])
        let time = h.now
        bytes.withUnsafeBytes {
            h.layer.receive(segment: $0, source: TCPHarness.peer, destination: .broadcast, now: time)
        }
        XCTAssertEqual(h.layer.counters.badSegments, 3)
        XCTAssertEqual(h.layer.counters.segmentsReceived, 6)
    }

    /// Connection counts by state, for monitoring.
    func testConnectionCounts() throws {
        var h = TCPHarness()
        h.openPassive()
        _ = try h.layer.connect(from: TCPHarness.host, to: SocketAddress(TCPHarness.peer, 443), now: h.now)
        XCTAssertEqual(h.layer.connectionCount(in: .listen), 1)
        XCTAssertEqual(h.layer.connectionCount(in: .established), 1)
        XCTAssertEqual(h.layer.connectionCount(in: .synSent), 1)
        XCTAssertEqual(h.layer.connectionCount(in: .timeWait), 0)
    }

    /// The same seed gives the same ISS; another seed another (RFC 6528).
    func testInitialSequenceNumbersComeFromTheSeed() throws {
        func iss(seed: UInt64, now: UInt64) throws -> UInt32 {
            var h = TCPHarness(seed: seed)
            h.now = now
            _ = try h.layer.connect(from: TCPHarness.host, to: SocketAddress(TCPHarness.peer, 80), now: now)
            return h.poll()[0].seq
        }
        XCTAssertEqual(try iss(seed: 5, now: 1000), try iss(seed: 5, now: 1000))
        XCTAssertNotEqual(try iss(seed: 5, now: 1000), try iss(seed: 6, now: 1000))
        // The clock adds one every 4 microseconds.
        XCTAssertEqual(try iss(seed: 5, now: 41000) &- (try iss(seed: 5, now: 1000)), 10)
    }
}
