import Riad
import RiadNet
import XCTest

/// Opening connections (RFC 9293 section 3.5): LISTEN to ESTABLISHED,
/// active open, simultaneous open, resets in and to every opening state,
/// and the listen backlog. Every segment is literal; the host's ISS is read
/// from its first segment.
final class TCPHandshakeTests: XCTestCase {
    func testPassiveOpenThroughSynReceived() throws {
        var h = TCPHarness()
        let listener = try h.layer.listen(port: 80, backlog: 4)
        XCTAssertEqual(h.layer.connectionCount(in: .listen), 1)

        h.deliver(.syn, seq: 1000, window: 8192, options: .mss(1460))
        XCTAssertEqual(h.layer.connectionCount(in: .synReceived), 1)
        let synAck = h.poll()
        XCTAssertEqual(synAck.count, 1)
        let iss = synAck[0].seq
        assertSegment(synAck.first, [.syn, .ack], seq: iss, ack: 1001, window: 8192)
        XCTAssertEqual(synAck[0].repr.options.maximumSegmentSize, 1460)
        XCTAssertNil(synAck[0].repr.options.windowScale)
        XCTAssertNil(synAck[0].repr.options.timestamps)
        XCTAssertFalse(h.layer.hasPendingConnection(listener))
        XCTAssertNil(h.layer.accept(listener))

        h.deliver([], seq: 1001, ack: iss &+ 1)
        XCTAssertTrue(h.poll().isEmpty)
        XCTAssertTrue(h.layer.hasPendingConnection(listener))
        let id = try XCTUnwrap(h.layer.accept(listener))
        XCTAssertEqual(h.layer.state(id), .established)
        XCTAssertEqual(h.layer.local(id), SocketAddress(TCPHarness.host, 80))
        XCTAssertEqual(h.layer.remote(id), SocketAddress(TCPHarness.peer, 40000))
        XCTAssertTrue(h.layer.status(id).established)
        XCTAssertNil(h.layer.accept(listener))
        XCTAssertEqual(h.layer.counters.passiveOpens, 1)
    }

    /// A lost SYN-ACK: the retransmission timer sends it again, and so does
    /// the peer's repeated SYN.
    func testSynAckIsRetransmitted() throws {
        var h = TCPHarness()
        _ = try h.layer.listen(port: 80, backlog: 4)
        h.deliver(.syn, seq: 1000, options: .mss(1460))
        let iss = h.poll()[0].seq
        XCTAssertEqual(h.layer.nextDeadline(), h.now + 1_000_000_000, "the initial RTO, 1 s")
        assertSegment(h.advanceToDeadline().first, [.syn, .ack], seq: iss, ack: 1001)
        h.deliver(.syn, seq: 1000, options: .mss(1460))
        assertSegment(h.poll().first, [.syn, .ack], seq: iss, ack: 1001)
        XCTAssertEqual(h.layer.counters.retransmissions, 2)
        h.deliver([], seq: 1001, ack: iss &+ 1)
        XCTAssertEqual(h.layer.connectionCount(in: .established), 1)
    }

    func testActiveOpenNegotiatesOptions() throws {
        var h = TCPHarness(TCPConfiguration())
        let id = try h.layer.connect(
            from: TCPHarness.host, to: SocketAddress(TCPHarness.peer, 40000), now: h.now)
        h.id = id
        h.port = try XCTUnwrap(h.layer.local(id)?.port)
        XCTAssertTrue((49152...65535).contains(h.port))
        XCTAssertEqual(h.state, .synSent)
        let syn = h.poll()
        XCTAssertEqual(syn.count, 1)
        let iss = syn[0].seq
        assertSegment(syn.first, [.syn], seq: iss, ack: nil, window: 65535)
        let offered = syn[0].repr.options
        XCTAssertEqual(offered.maximumSegmentSize, 1460)
        XCTAssertEqual(offered.windowScale, 2, "128 KiB needs a shift of 2")
        XCTAssertTrue(offered.sackPermitted)
        let ourClock = try XCTUnwrap(offered.timestamps).value
        XCTAssertEqual(offered.timestamps?.echoReply, 0)

        var answer = TCPOptions.mss(1400)
        answer.windowScale = 7
        answer.sackPermitted = true
        answer.timestamps = TCPTimestamps(value: 777, echoReply: ourClock)
        h.deliver(.syn, seq: 5000, ack: iss &+ 1, window: 65535, options: answer)
        XCTAssertEqual(h.state, .established)
        let ack = h.poll()
        XCTAssertEqual(ack.count, 1)
        // Our window from now on is scaled: 131072 >> 2.
        assertSegment(ack.first, [.ack], seq: iss &+ 1, ack: 5001, window: 32768)
        XCTAssertEqual(ack[0].repr.options.timestamps?.echoReply, 777)
        XCTAssertNil(ack[0].repr.options.windowScale, "window scale only in SYNs")
        XCTAssertEqual(h.layer.counters.activeOpens, 1)

        // The peer's MSS 1400 less 12 bytes of timestamps per segment.
        h.send(3000)
        let data = h.poll()
        XCTAssertEqual(
            data.map(\.payload.count), [1388, 1388], "Nagle holds the short tail while data is unacknowledged"
        )
    }

    /// RFC 9293 figure 8: both ends send a SYN; each answers the other's
    /// with a SYN-ACK and the SYN-ACKs complete the handshake.
    func testSimultaneousOpen() throws {
        var h = TCPHarness()
        h.id = try h.layer.connect(
            from: TCPHarness.host, to: SocketAddress(TCPHarness.peer, 40000), now: h.now)
        h.port = try XCTUnwrap(h.layer.local(h.id)?.port)
        let iss = h.poll()[0].seq

        h.deliver(.syn, seq: 5000, options: .mss(1460))
        XCTAssertEqual(h.state, .synReceived)
        let synAck = h.poll()
        XCTAssertEqual(synAck.count, 1)
        assertSegment(synAck.first, [.syn, .ack], seq: iss, ack: 5001, window: 8192)

        h.deliver(.syn, seq: 5000, ack: iss &+ 1, options: .mss(1460))
        XCTAssertEqual(h.state, .established)
        XCTAssertTrue(h.poll().isEmpty, "nothing more: the peer's SYN-ACK acknowledged ours")
        h.send(10)
        assertSegment(h.poll().first, [.psh, .ack], seq: iss &+ 1, ack: 5001, length: 10)
    }

    func testResetInSynSentRefuses() throws {
        var h = TCPHarness()
        h.id = try h.layer.connect(
            from: TCPHarness.host, to: SocketAddress(TCPHarness.peer, 40000), now: h.now)
        h.port = try XCTUnwrap(h.layer.local(h.id)?.port)
        let iss = h.poll()[0].seq

        // Not acceptable: no ACK, or an ACK of something else. Ignored.
        h.deliver(.rst, seq: 0)
        h.deliver(.rst, seq: 0, ack: iss &+ 7)
        XCTAssertEqual(h.state, .synSent)
        XCTAssertTrue(h.poll().isEmpty)

        h.deliver(.rst, seq: 0, ack: iss &+ 1)
        XCTAssertEqual(h.state, .closed)
        XCTAssertEqual(h.layer.status(h.id).error, .refused)
        XCTAssertTrue(h.layer.status(h.id).readable)
        XCTAssertEqual(h.readError(), .refused)
        XCTAssertEqual(h.layer.counters.resetsReceived, 3)
        XCTAssertNil(h.layer.nextDeadline(), "no timer left")
        h.layer.close(h.id)
        XCTAssertNil(h.state)
    }

    /// RFC 9293 section 3.10.7.3: an ACK in SYN-SENT that does not
    /// acknowledge our SYN is answered <SEQ=SEG.ACK><CTL=RST>.
    func testBadAckInSynSentIsReset() throws {
        var h = TCPHarness()
        h.id = try h.layer.connect(
            from: TCPHarness.host, to: SocketAddress(TCPHarness.peer, 40000), now: h.now)
        h.port = try XCTUnwrap(h.layer.local(h.id)?.port)
        let iss = h.poll()[0].seq
        h.deliver(.syn, seq: 5000, ack: iss &+ 100)
        assertSegment(h.poll().first, [.rst], seq: iss &+ 100, ack: nil, window: 0)
        XCTAssertEqual(h.state, .synSent)
    }

    func testSynRetriesGiveUp() throws {
        var configuration = TCPConfiguration.plain
        configuration.synRetries = 2
        var h = TCPHarness(configuration)
        h.id = try h.layer.connect(
            from: TCPHarness.host, to: SocketAddress(TCPHarness.peer, 40000), now: h.now)
        let start = h.now
        let iss = h.poll()[0].seq
        assertSegment(h.advanceToDeadline().first, [.syn], seq: iss, ack: nil)
        XCTAssertEqual(h.now, start + 1_000_000_000)
        assertSegment(h.advanceToDeadline().first, [.syn], seq: iss, ack: nil)
        XCTAssertEqual(h.now, start + 3_000_000_000, "backed off to 2 s")
        XCTAssertTrue(h.advanceToDeadline().isEmpty)
        XCTAssertEqual(h.now, start + 7_000_000_000)
        XCTAssertEqual(h.state, .closed)
        XCTAssertEqual(h.layer.status(h.id).error, .timedOut)
        XCTAssertEqual(h.layer.counters.connectionFailures, 1)
    }

    /// RFC 9293 section 3.10.7.1: segments for no connection are answered
    /// with a reset the sender will accept; resets are not.
    func testResetToClosedPort() {
        var h = TCPHarness()
        h.deliver([], seq: 77, ack: 99, to: 81)
        assertSegment(h.poll().first, [.rst], seq: 99, ack: nil, window: 0)
        h.deliver(.syn, seq: 1000, to: 81)
        assertSegment(h.poll().first, [.rst, .ack], seq: 0, ack: 1001)
        h.deliver([.syn, .fin], seq: 1000, payload: [1, 2, 3], to: 81)
        assertSegment(h.poll().first, [.rst, .ack], seq: 0, ack: 1005)
        h.deliver(.rst, seq: 1000, to: 81)
        XCTAssertTrue(h.poll().isEmpty)
        XCTAssertEqual(h.layer.counters.droppedNoConnection, 4)
        XCTAssertEqual(h.layer.counters.resetsSent, 3)
    }

    /// RFC 9293 section 3.10.7.2: an ACK to a listener is reset; a bare
    /// segment without SYN is dropped.
    func testListenerAnswersAckWithReset() throws {
        var h = TCPHarness()
        _ = try h.layer.listen(port: 80, backlog: 4)
        h.deliver([], seq: 500, ack: 12345)
        assertSegment(h.poll().first, [.rst], seq: 12345, ack: nil)
        h.deliver(.fin, seq: 500)
        h.deliver(.rst, seq: 500)
        XCTAssertTrue(h.poll().isEmpty)
        XCTAssertEqual(h.layer.connectionCount(in: .synReceived), 0)
    }

    func testBacklogOverflowDropsSyn() throws {
        var h = TCPHarness()
        let listener = try h.layer.listen(port: 80, backlog: 2)
        h.deliver(.syn, seq: 1000, from: 40001)
        h.deliver(.syn, seq: 2000, from: 40002)
        h.deliver(.syn, seq: 3000, from: 40003)
        let answers = h.poll()
        XCTAssertEqual(answers.map(\.ack), [1001, 2001])
        XCTAssertEqual(h.layer.counters.backlogOverflows, 1)
        XCTAssertEqual(h.layer.connectionCount(in: .synReceived), 2)

        // Accepting one makes room.
        h.deliver([], seq: 1001, ack: answers[0].seq &+ 1, from: 40001)
        XCTAssertNotNil(h.layer.accept(listener))
        h.deliver(.syn, seq: 3000, from: 40003)
        XCTAssertEqual(h.poll().map(\.ack), [3001])
    }

    /// A reset for a connection in SYN-RECEIVED from a listener sends it
    /// back to LISTEN: the connection goes, the listener stays.
    func testResetInSynReceivedReturnsToListen() throws {
        var h = TCPHarness()
        let listener = try h.layer.listen(port: 80, backlog: 4)
        h.deliver(.syn, seq: 1000)
        _ = h.poll()
        h.deliver(.rst, seq: 1001)
        XCTAssertEqual(h.layer.connectionCount(in: .synReceived), 0)
        XCTAssertFalse(h.layer.hasPendingConnection(listener))
        h.deliver(.syn, seq: 7000)
        XCTAssertEqual(h.poll().first?.ack, 7001)
    }

    /// The ACK of the handshake must acknowledge the SYN-ACK; any other is
    /// reset (RFC 9293 section 3.10.7.4, SYN-RECEIVED).
    func testBadAckInSynReceivedIsReset() throws {
        var h = TCPHarness()
        _ = try h.layer.listen(port: 80, backlog: 4)
        h.deliver(.syn, seq: 1000)
        let iss = h.poll()[0].seq
        h.deliver([], seq: 1001, ack: iss &+ 50)
        assertSegment(h.poll().first, [.rst], seq: iss &+ 50, ack: nil)
        XCTAssertEqual(h.layer.connectionCount(in: .synReceived), 1)
    }

    func testListenErrors() throws {
        var h = TCPHarness()
        let listener = try h.layer.listen(port: 80, backlog: 4)
        XCTAssertThrowsError(try h.layer.listen(port: 80, backlog: 4)) {
            XCTAssertEqual(($0 as? RiadError)?.kind, .addressInUse)
        }
        XCTAssertThrowsError(try h.layer.listen(port: 0, backlog: 4)) {
            XCTAssertEqual(($0 as? RiadError)?.kind, .invalidArgument)
        }
        XCTAssertThrowsError(try h.layer.listen(port: 81, backlog: 0)) {
            XCTAssertEqual(($0 as? RiadError)?.kind, .invalidArgument)
        }
        h.layer.closeListener(listener)
        XCTAssertFalse(h.layer.hasPendingConnection(listener))
        let again = try h.layer.listen(port: 80, backlog: 4)
        XCTAssertNotEqual(again, listener, "a stale listener ID names nothing")
    }
}
