import Riad
import RiadNet
import XCTest

/// Closing (RFC 9293 section 3.6): a FIN from each side through every
/// closing state, simultaneous close, TIME-WAIT and its expiry, and the
/// application's close and abort. Literal segments from an established
/// fixture: the peer's next sequence number is 1001, the host's `iss + 1`.
final class TCPCloseTests: XCTestCase {
    /// ESTABLISHED → FIN-WAIT-1 → FIN-WAIT-2 → TIME-WAIT → CLOSED.
    func testActiveClose() throws {
        var h = TCPHarness()
        h.openPassive()
        try h.layer.shutdown(h.id)
        XCTAssertEqual(h.state, .finWait1)
        assertSegment(h.poll().first, [.fin, .ack], seq: h.iss &+ 1, ack: 1001)
        XCTAssertThrowsError(
            try [UInt8](repeating: 0, count: 4).withUnsafeBytes { try h.layer.send(h.id, $0) }
        ) {
            XCTAssertEqual(($0 as? RiadError)?.kind, .closed)
        }

        h.deliver([], seq: 1001, ack: h.iss &+ 2)
        XCTAssertEqual(h.state, .finWait2)
        XCTAssertTrue(h.poll().isEmpty)

        // Half-closed: the peer may still send.
        h.deliver(.psh, seq: 1001, ack: h.iss &+ 2, payload: [7, 8, 9])
        XCTAssertEqual(h.read(), [7, 8, 9])

        h.deliver(.fin, seq: 1004, ack: h.iss &+ 2)
        XCTAssertEqual(h.state, .timeWait)
        assertSegment(h.poll().first, [.ack], seq: h.iss &+ 2, ack: 1005)
        XCTAssertEqual(h.read(), [], "end of stream")
        XCTAssertEqual(h.layer.nextDeadline(), h.now + 60_000_000_000, "2 × MSL")
        XCTAssertTrue(h.advance(by: 59_999_999_999).isEmpty)
        XCTAssertEqual(h.state, .timeWait)
        XCTAssertTrue(h.advance(by: 1).isEmpty)
        XCTAssertEqual(h.state, .closed)
        XCTAssertEqual(h.read(), [], "end of stream still")
        h.layer.close(h.id)
        XCTAssertNil(h.state)
        XCTAssertEqual(h.layer.connectionCount(in: .closed), 0)
    }

    /// ESTABLISHED → CLOSE-WAIT → LAST-ACK → CLOSED.
    func testPassiveClose() throws {
        var h = TCPHarness()
        h.openPassive()
        h.deliver(.fin, seq: 1001, ack: h.iss &+ 1)
        XCTAssertEqual(h.state, .closeWait)
        assertSegment(h.poll().first, [.ack], seq: h.iss &+ 1, ack: 1002)
        XCTAssertTrue(h.layer.status(h.id).readable)
        XCTAssertEqual(h.read(), [])

        // CLOSE-WAIT still sends.
        h.send(20)
        assertSegment(h.poll().first, [.psh, .ack], seq: h.iss &+ 1, ack: 1002, length: 20)
        try h.layer.shutdown(h.id)
        XCTAssertEqual(h.state, .lastAck)
        h.deliver([], seq: 1002, ack: h.iss &+ 21)
        assertSegment(h.poll().first, [.fin, .ack], seq: h.iss &+ 21, ack: 1002)
        h.deliver([], seq: 1002, ack: h.iss &+ 22)
        XCTAssertEqual(h.state, .closed)
        XCTAssertNil(h.layer.status(h.id).error)
        XCTAssertNil(h.layer.nextDeadline())
    }

    /// The FIN leaves with the last data when the application shuts down
    /// with data queued.
    func testFINRidesOnTheLastData() throws {
        var h = TCPHarness()
        h.openPassive()
        h.send(10)
        try h.layer.shutdown(h.id)
        assertSegment(h.poll().first, [.fin, .psh, .ack], seq: h.iss &+ 1, ack: 1001, length: 10)
    }

    /// FIN-WAIT-1 straight to TIME-WAIT: the peer's FIN acknowledges ours.
    func testFinWait1ToTimeWait() throws {
        var h = TCPHarness()
        h.openPassive()
        try h.layer.shutdown(h.id)
        _ = h.poll()
        h.deliver(.fin, seq: 1001, ack: h.iss &+ 2)
        XCTAssertEqual(h.state, .timeWait)
        assertSegment(h.poll().first, [.ack], seq: h.iss &+ 2, ack: 1002)
    }

    /// Both FINs cross: FIN-WAIT-1 → CLOSING → TIME-WAIT.
    func testSimultaneousClose() throws {
        var h = TCPHarness()
        h.openPassive()
        try h.layer.shutdown(h.id)
        assertSegment(h.poll().first, [.fin, .ack], seq: h.iss &+ 1, ack: 1001)
        h.deliver(.fin, seq: 1001, ack: h.iss &+ 1)
        XCTAssertEqual(h.state, .closing)
        assertSegment(h.poll().first, [.ack], seq: h.iss &+ 2, ack: 1002)
        h.deliver([], seq: 1002, ack: h.iss &+ 2)
        XCTAssertEqual(h.state, .timeWait)
        XCTAssertTrue(h.poll().isEmpty)
    }

    /// A lost ACK of the peer's FIN: TIME-WAIT acknowledges the FIN again
    /// and restarts its timer.
    func testTimeWaitAnswersARetransmittedFIN() throws {
        var h = TCPHarness()
        h.openPassive()
        try h.layer.shutdown(h.id)
        _ = h.poll()
        h.deliver(.fin, seq: 1001, ack: h.iss &+ 2)
        _ = h.poll()
        XCTAssertTrue(h.advance(by: 30_000_000_000).isEmpty)
        h.deliver(.fin, seq: 1001, ack: h.iss &+ 2)
        assertSegment(h.poll().first, [.ack], seq: h.iss &+ 2, ack: 1002)
        XCTAssertEqual(h.layer.nextDeadline(), h.now + 60_000_000_000)
    }

    /// A lost FIN is retransmitted like data.
    func testFINIsRetransmitted() throws {
        var h = TCPHarness()
        h.openPassive()
        try h.layer.shutdown(h.id)
        _ = h.poll()
        assertSegment(h.advanceToDeadline().first, [.fin, .ack], seq: h.iss &+ 1, ack: 1001)
        XCTAssertEqual(h.layer.counters.retransmissions, 1)
    }

    /// `close` lets go of the ID; the layer finishes the close and frees
    /// the slot after TIME-WAIT.
    func testCloseFinishesWithoutTheApplication() throws {
        var h = TCPHarness()
        h.openPassive()
        h.layer.close(h.id)
        XCTAssertEqual(h.readError(), .closed)
        assertSegment(h.poll().first, [.fin, .ack], seq: h.iss &+ 1, ack: 1001)
        h.deliver([], seq: 1001, ack: h.iss &+ 2)
        XCTAssertEqual(h.layer.connectionCount(in: .finWait2), 1)
        h.deliver(.fin, seq: 1001, ack: h.iss &+ 2)
        XCTAssertEqual(h.layer.connectionCount(in: .timeWait), 1)
        _ = h.advance(by: 60_000_000_000)
        XCTAssertEqual(h.layer.connectionCount(in: .timeWait), 0)
        XCTAssertNil(h.state, "the slot is free")
    }

    /// A full table gives up its oldest orphaned TIME-WAIT connection for
    /// a new one.
    func testFullTableReusesATimeWaitSlot() throws {
        var configuration = TCPConfiguration.plain
        configuration.maximumConnections = 1
        var h = TCPHarness(configuration)
        h.openPassive()
        h.layer.close(h.id)
        _ = h.poll()
        h.deliver(.fin, seq: 1001, ack: h.iss &+ 2)
        XCTAssertEqual(h.layer.connectionCount(in: .timeWait), 1)
        // Not while its ACK of the FIN waits to go.
        h.deliver(.syn, seq: 7000, from: 40001)
        XCTAssertEqual(h.layer.counters.backlogOverflows, 1)
        XCTAssertEqual(h.poll().map(\.ack), [1002])
        h.deliver(.syn, seq: 7000, from: 40001)
        XCTAssertEqual(h.poll().map(\.ack), [7001])
        XCTAssertEqual(h.layer.connectionCount(in: .timeWait), 0)
        XCTAssertEqual(h.layer.connectionCount(in: .synReceived), 1)
    }

    /// An orphaned FIN-WAIT-2 whose peer never sends its FIN is dropped
    /// after `finWait2Timeout`.
    func testOrphanedFinWait2TimesOut() throws {
        var h = TCPHarness()
        h.openPassive()
        h.layer.close(h.id)
        _ = h.poll()
        h.deliver([], seq: 1001, ack: h.iss &+ 2)
        XCTAssertEqual(h.layer.nextDeadline(), h.now + 60_000_000_000)
        _ = h.advanceToDeadline()
        XCTAssertNil(h.state)
    }

    /// Closing with unread data resets (RFC 2525 section 2.17), and data
    /// that arrives after `close` does too: nobody will read it.
    func testCloseWithUnreadDataResets() {
        var h = TCPHarness()
        h.openPassive()
        h.deliver(.psh, seq: 1001, ack: h.iss &+ 1, payload: [1, 2, 3])
        h.layer.close(h.id)
        assertSegment(h.poll().first, [.rst], seq: h.iss &+ 1, ack: nil)
        XCTAssertNil(h.state)

        var late = TCPHarness()
        late.openPassive()
        late.layer.close(late.id)
        _ = late.poll()
        late.deliver(.psh, seq: 1001, ack: late.iss &+ 2, payload: [1, 2, 3])
        assertSegment(late.poll().first, [.rst], seq: late.iss &+ 2, ack: nil)
        XCTAssertNil(late.state)
    }

    func testAbortResets() {
        var h = TCPHarness()
        h.openPassive()
        h.send(10)
        _ = h.poll()
        h.layer.abort(h.id)
        XCTAssertNil(h.state)
        assertSegment(h.poll().first, [.rst], seq: h.iss &+ 11, ack: nil)
        // The peer's next segment meets no connection any more.
        h.deliver([], seq: 1001, ack: h.iss &+ 11)
        assertSegment(h.poll().first, [.rst], seq: h.iss &+ 11, ack: nil)
    }

    func testResetFromPeerFailsTheConnection() {
        var h = TCPHarness()
        h.openPassive()
        h.deliver(.psh, seq: 1001, ack: h.iss &+ 1, payload: [1, 2, 3])
        h.deliver(.rst, seq: 1004)
        XCTAssertEqual(h.state, .closed)
        XCTAssertEqual(h.layer.status(h.id).error, .reset)
        XCTAssertEqual(h.readError(), .reset, "unread data is dropped with the reset")
        XCTAssertThrowsError(
            try [UInt8](repeating: 0, count: 1).withUnsafeBytes { try h.layer.send(h.id, $0) }
        ) {
            XCTAssertEqual(($0 as? RiadError)?.kind, .reset)
        }
        // The 4-tuple is free again: a segment for it now meets CLOSED.
        h.deliver([], seq: 1004, ack: h.iss &+ 1)
        assertSegment(h.poll().first, [.rst], seq: h.iss &+ 1, ack: nil)
    }

    func testCloseListenerResetsUnacceptedConnections() throws {
        var h = TCPHarness()
        h.openPassive()
        let listener = try XCTUnwrap(h.listener)
        h.deliver(.syn, seq: 7000, from: 40001)
        let iss2 = h.poll()[0].seq
        h.deliver([], seq: 7001, ack: iss2 &+ 1, from: 40001)
        h.deliver(.syn, seq: 9000, from: 40002)
        let iss3 = h.poll()[0].seq
        h.layer.closeListener(listener)
        let resets = h.poll()
        XCTAssertEqual(resets.map(\.seq), [iss2 &+ 1, iss3 &+ 1])
        XCTAssertTrue(resets.allSatisfy { $0.flags == .rst })
        XCTAssertEqual(h.state, .established, "the accepted connection stays")
        XCTAssertEqual(h.layer.connectionCount(in: .established), 1)
        XCTAssertEqual(h.layer.connectionCount(in: .synReceived), 0)
    }
}
