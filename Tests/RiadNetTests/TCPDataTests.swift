import Riad
import RiadNet
import XCTest

/// Data in ESTABLISHED: both directions, delayed ACKs (RFC 1122 section
/// 4.2.3.2), Nagle (RFC 896), the MSS (RFC 9293 section 3.7.1) and
/// out-of-order data (RFC 9293 section 3.10.7.4, RFC 2018). Literal
/// segments from an established fixture: the peer's next sequence number is
/// 1001, the host's `iss + 1`.
final class TCPDataTests: XCTestCase {
    func testDataBothWays() {
        var h = TCPHarness()
        h.openPassive()
        h.send(100)
        let out = h.poll()
        XCTAssertEqual(out.count, 1)
        assertSegment(out.first, [.psh, .ack], seq: h.iss &+ 1, ack: 1001, window: 8192, length: 100)
        XCTAssertEqual(out.first?.payload, (0..<100).map { UInt8($0) })

        // The peer acknowledges and answers in one segment.
        let answer = (0..<50).map { UInt8(200 - $0) }
        h.deliver(.psh, seq: 1001, ack: h.iss &+ 101, payload: answer)
        XCTAssertTrue(h.poll().isEmpty, "the ACK waits (delayed ACK)")
        XCTAssertEqual(h.read(), answer)
        XCTAssertNil(h.read(), "nothing more yet")
        XCTAssertEqual(h.layer.status(h.id).sendSpace, 8192, "the 100 bytes were acknowledged")

        // The delayed ACK; the window it advertises did not grow by the 50
        // bytes read: under an MSS (receiver SWS avoidance).
        let ack = h.advance(by: 40_000_000)
        assertSegment(ack.first, [.ack], seq: h.iss &+ 101, ack: 1051, window: 8142)
    }

    func testDelayedACKTiming() {
        var h = TCPHarness()
        h.openPassive()
        h.deliver([], seq: 1001, ack: h.iss &+ 1, payload: [UInt8](repeating: 1, count: 1460))
        XCTAssertTrue(h.poll().isEmpty)
        XCTAssertEqual(h.layer.nextDeadline(), h.now + 40_000_000)
        XCTAssertTrue(h.advance(by: 39_999_999).isEmpty)
        assertSegment(h.advance(by: 1).first, [.ack], seq: h.iss &+ 1, ack: 2461, window: 6732)

        // A second full segment is acknowledged at once.
        h.deliver([], seq: 2461, ack: h.iss &+ 1, payload: [UInt8](repeating: 2, count: 1460))
        XCTAssertTrue(h.poll().isEmpty)
        h.deliver([], seq: 3921, ack: h.iss &+ 1, payload: [UInt8](repeating: 3, count: 1460))
        assertSegment(h.poll().first, [.ack], seq: h.iss &+ 1, ack: 5381, window: 3812)
        XCTAssertNil(h.layer.nextDeadline(), "no timer left")
    }

    func testDelayedACKRidesOnData() {
        var h = TCPHarness()
        h.openPassive()
        h.deliver([], seq: 1001, ack: h.iss &+ 1, payload: [1, 2, 3])
        h.send(5)
        let out = h.poll()
        XCTAssertEqual(out.count, 1, "the reply carries the ACK")
        assertSegment(out.first, [.psh, .ack], seq: h.iss &+ 1, ack: 1004, length: 5)
        XCTAssertTrue(h.advance(by: 40_000_000).isEmpty)
    }

    func testNagleHoldsShortSegmentsWhileDataIsUnacknowledged() {
        var h = TCPHarness()
        h.openPassive()
        h.send(100)
        assertSegment(h.poll().first, [.psh, .ack], seq: h.iss &+ 1, ack: 1001, length: 100)
        h.send(100, first: 100)
        h.send(100, first: 200)
        XCTAssertTrue(h.poll().isEmpty, "Nagle: 200 bytes wait for the ACK")
        h.deliver([], seq: 1001, ack: h.iss &+ 101)
        let out = h.poll()
        assertSegment(out.first, [.psh, .ack], seq: h.iss &+ 101, ack: 1001, length: 200)
        XCTAssertEqual(out.first?.payload, (100..<300).map { UInt8(truncatingIfNeeded: $0) })

        // Full segments are never held; the short tail is.
        h.deliver([], seq: 1001, ack: h.iss &+ 301)
        h.send(3000)
        XCTAssertEqual(h.poll().map(\.payload.count), [1460, 1460])
        h.deliver([], seq: 1001, ack: h.iss &+ 3221)
        XCTAssertEqual(h.poll().map(\.payload.count), [80])
    }

    func testNoDelaySendsAtOnce() {
        var h = TCPHarness()
        h.openPassive()
        h.layer.setNoDelay(h.id, true)
        h.send(100)
        h.send(10)
        XCTAssertEqual(h.poll().map(\.payload.count), [110])
        h.send(10)
        assertSegment(h.poll().first, [.psh, .ack], seq: h.iss &+ 111, ack: 1001, length: 10)
    }

    func testMSSClamp() {
        // The peer's MSS limits ours.
        var small = TCPHarness()
        small.openPassive(options: .mss(536))
        small.layer.setNoDelay(small.id, true)
        small.send(2000)
        XCTAssertEqual(small.poll().map(\.payload.count), [536, 536, 536, 392])

        // Ours limits the peer's.
        var large = TCPHarness()
        large.openPassive(options: .mss(9000), window: 65535)
        large.layer.setNoDelay(large.id, true)
        large.send(4000)
        XCTAssertEqual(large.poll().map(\.payload.count), [1460, 1460, 1080])

        // No option: 536 (RFC 9293 section 3.7.1).
        var none = TCPHarness()
        none.openPassive(options: TCPOptions())
        none.layer.setNoDelay(none.id, true)
        none.send(1000)
        XCTAssertEqual(none.poll().map(\.payload.count), [536, 464])

        // A silly MSS is raised to 88 rather than followed into tiny segments.
        var tiny = TCPHarness()
        tiny.openPassive(options: .mss(0))
        tiny.layer.setNoDelay(tiny.id, true)
        tiny.send(100)
        XCTAssertEqual(tiny.poll().map(\.payload.count), [88, 12])
    }

    /// Segments 2 and 3 arrive before 1: each is answered at once with a
    /// duplicate ACK and SACK blocks (most recent first, RFC 2018 section
    /// 4); nothing is readable until 1 fills the hole, then all of it is,
    /// in order, and the ACK goes at once (RFC 5681 section 4.2).
    func testOutOfOrderDataDeliveredInOrderOnceTheHoleFills() {
        var configuration = TCPConfiguration.plain
        configuration.sack = true
        var h = TCPHarness(configuration)
        var options = TCPOptions.mss(1460)
        options.sackPermitted = true
        h.openPassive(options: options)
        let data = (0..<500).map { UInt8(truncatingIfNeeded: $0 * 7) }

        h.deliver([], seq: 1201, ack: h.iss &+ 1, payload: Array(data[200..<300]))
        var ack = h.poll()
        assertSegment(ack.first, [.ack], seq: h.iss &+ 1, ack: 1001, window: 8192)
        XCTAssertEqual(ack.first?.repr.options.sackBlocks.map(\.left.rawValue), [1201])
        XCTAssertEqual(ack.first?.repr.options.sackBlocks.map(\.right.rawValue), [1301])
        XCTAssertNil(h.read())

        h.deliver([], seq: 1401, ack: h.iss &+ 1, payload: Array(data[400..<500]))
        ack = h.poll()
        XCTAssertEqual(ack.first?.repr.options.sackBlocks.map(\.left.rawValue), [1401, 1201])

        h.deliver([], seq: 1101, ack: h.iss &+ 1, payload: Array(data[100..<200]))
        ack = h.poll()
        assertSegment(ack.first, [.ack], seq: h.iss &+ 1, ack: 1001)
        XCTAssertEqual(ack.first?.repr.options.sackBlocks.map(\.left.rawValue), [1101, 1401])
        XCTAssertEqual(ack.first?.repr.options.sackBlocks.map(\.right.rawValue), [1301, 1501])
        XCTAssertNil(h.read())

        h.deliver([], seq: 1001, ack: h.iss &+ 1, payload: Array(data[0..<100]))
        ack = h.poll()
        assertSegment(ack.first, [.ack], seq: h.iss &+ 1, ack: 1301)
        XCTAssertEqual(ack.first?.repr.options.sackBlocks.map(\.left.rawValue), [1401])
        XCTAssertEqual(h.read(), Array(data[0..<300]))

        h.deliver([], seq: 1301, ack: h.iss &+ 1, payload: Array(data[300..<400]))
        assertSegment(h.poll().first, [.ack], seq: h.iss &+ 1, ack: 1501)
        XCTAssertEqual(h.read(), Array(data[300..<500]))
        XCTAssertEqual(h.layer.counters.outOfOrderSegments, 3)
    }

    /// Retransmitted data overlapping what arrived is trimmed to the new
    /// part; an old duplicate is answered with an ACK.
    func testOverlappingAndDuplicateData() {
        var h = TCPHarness()
        h.openPassive()
        let data = (0..<300).map { UInt8(truncatingIfNeeded: $0) }
        h.deliver([], seq: 1001, ack: h.iss &+ 1, payload: Array(data[0..<200]))
        h.deliver([], seq: 1101, ack: h.iss &+ 1, payload: Array(data[100..<300]))
        XCTAssertEqual(h.read(), data)
        h.deliver([], seq: 1001, ack: h.iss &+ 1, payload: Array(data[0..<100]))
        assertSegment(h.poll().first, [.ack], seq: h.iss &+ 1, ack: 1301)
    }

    func testSendBufferFillsAndDrains() throws {
        var h = TCPHarness()
        h.openPassive()
        let bytes = [UInt8](repeating: 9, count: 10000)
        let taken = try bytes.withUnsafeBytes { try h.layer.send(h.id, $0) }
        XCTAssertEqual(taken, 8192)
        XCTAssertFalse(h.layer.status(h.id).writable)
        XCTAssertEqual(try bytes.withUnsafeBytes { try h.layer.send(h.id, $0) }, 0)
        // The 892-byte tail waits for an ACK (Nagle).
        XCTAssertEqual(h.poll().map(\.payload.count), [1460, 1460, 1460, 1460, 1460])
        h.deliver([], seq: 1001, ack: h.iss &+ 2921)
        XCTAssertTrue(h.layer.status(h.id).writable)
        XCTAssertEqual(h.layer.status(h.id).sendSpace, 2920)
    }
}
