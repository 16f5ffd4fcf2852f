import Riad
import RiadNet
import XCTest

/// Loss recovery: the retransmission timer (RFC 6298) with backoff and
/// giving up, go-back-N with cwnd at one segment (RFC 5681 section 3.1),
/// fast retransmit and NewReno fast recovery (RFC 5681 section 3.2, RFC
/// 6582), Karn's rule and timestamps (RFC 7323 section 4).
final class TCPRetransmissionTests: XCTestCase {
    /// The handshake's RTT sample was 0, so the RTO is the 200 ms minimum;
    /// it doubles on each expiry, and the connection fails with `.timedOut`
    /// after `maximumRetransmissions`.
    func testRTOBackoffAndGiveUp() {
        var configuration = TCPConfiguration.plain
        configuration.maximumRetransmissions = 3
        var h = TCPHarness(configuration)
        h.openPassive()
        h.send(100)
        let start = h.now
        assertSegment(h.poll().first, [.psh, .ack], seq: h.iss &+ 1, ack: 1001, length: 100)
        XCTAssertEqual(h.layer.nextDeadline(), start + 200_000_000)
        var times: [UInt64] = []
        for _ in 0..<3 {
            let again = h.advanceToDeadline()
            assertSegment(again.first, [.psh, .ack], seq: h.iss &+ 1, ack: 1001, length: 100)
            times.append((h.now - start) / 1_000_000)
        }
        XCTAssertEqual(times, [200, 600, 1400], "200, then 400 and 800 ms apart")
        XCTAssertTrue(h.advanceToDeadline().isEmpty)
        XCTAssertEqual(h.now - start, 3_000_000_000)
        XCTAssertEqual(h.state, .closed)
        XCTAssertEqual(h.layer.status(h.id).error, .timedOut)
        XCTAssertEqual(h.readError(), .timedOut)
        XCTAssertEqual(h.layer.counters.timeouts, 4)
        XCTAssertEqual(h.layer.counters.retransmissions, 3)
        XCTAssertEqual(h.layer.counters.connectionFailures, 1)
    }

    /// An ACK of new data ends the backoff count: the next loss starts again.
    func testACKResetsTheRetransmissionCount() {
        var configuration = TCPConfiguration.plain
        configuration.maximumRetransmissions = 1
        var h = TCPHarness(configuration)
        h.openPassive()
        h.send(100)
        _ = h.poll()
        _ = h.advanceToDeadline()
        h.deliver([], seq: 1001, ack: h.iss &+ 101)
        h.send(100, first: 100)
        _ = h.poll()
        XCTAssertEqual(h.advanceToDeadline().count, 1)
        XCTAssertEqual(h.state, .established)
    }

    /// After a timeout, cwnd is one segment and sending restarts at
    /// SND.UNA; each ACK then opens cwnd again (slow start).
    func testTimeoutGoesBackToOneSegment() {
        var h = TCPHarness()
        h.openPassive()
        h.send(4 * 1460)
        XCTAssertEqual(h.poll().count, 4)
        let resent = h.advanceToDeadline()
        XCTAssertEqual(resent.count, 1, "cwnd is one segment")
        assertSegment(resent.first, [.ack], seq: h.iss &+ 1, ack: 1001, length: 1460)
        h.deliver([], seq: 1001, ack: h.iss &+ 1461)
        let next = h.poll()
        XCTAssertEqual(next.map(\.seq), [h.iss &+ 1461, h.iss &+ 2921], "slow start: two")
    }

    /// Three duplicate ACKs retransmit the missing segment at once (RFC
    /// 5681 section 3.2); the ACK for everything ends fast recovery.
    func testFastRetransmitAfterThreeDuplicateACKs() {
        var h = TCPHarness()
        h.openPassive()
        h.send(5 * 1460)
        XCTAssertEqual(h.poll().count, 5)
        h.deliver([], seq: 1001, ack: h.iss &+ 1461)
        XCTAssertTrue(h.poll().isEmpty)
        h.deliver([], seq: 1001, ack: h.iss &+ 1461)
        h.deliver([], seq: 1001, ack: h.iss &+ 1461)
        XCTAssertTrue(h.poll().isEmpty, "two duplicates are not enough")
        h.deliver([], seq: 1001, ack: h.iss &+ 1461)
        let out = h.poll()
        XCTAssertEqual(out.count, 1)
        assertSegment(out.first, [.ack], seq: h.iss &+ 1461, ack: 1001, length: 1460)
        XCTAssertEqual(h.layer.counters.fastRetransmits, 1)
        XCTAssertEqual(h.layer.counters.retransmissions, 1)

        h.deliver([], seq: 1001, ack: h.iss &+ 7301)
        XCTAssertTrue(h.poll().isEmpty)
        XCTAssertNil(h.layer.nextDeadline(), "all acknowledged: no timer")
        XCTAssertEqual(h.layer.counters.timeouts, 0)
    }

    /// NewReno (RFC 6582): a partial ACK in fast recovery retransmits the
    /// next hole at once instead of waiting for a timeout.
    func testPartialACKRetransmitsTheNextHole() {
        var h = TCPHarness()
        h.openPassive(window: 16384)
        h.layer.setNoDelay(h.id, true)
        h.send(5 * 1460)
        XCTAssertEqual(h.poll().count, 5)
        // Segments 2 and 4 lost.
        for _ in 0..<4 { h.deliver([], seq: 1001, ack: h.iss &+ 1461, window: 16384) }
        assertSegment(h.poll().first, [.ack], seq: h.iss &+ 1461, ack: 1001, length: 1460)
        h.deliver([], seq: 1001, ack: h.iss &+ 4381, window: 16384)
        let hole = h.poll()
        XCTAssertEqual(hole.count, 1)
        assertSegment(hole.first, [.ack], seq: h.iss &+ 4381, ack: 1001, length: 1460)
        h.deliver([], seq: 1001, ack: h.iss &+ 7301, window: 16384)
        XCTAssertEqual(h.layer.counters.fastRetransmits, 1)
        XCTAssertEqual(h.layer.counters.retransmissions, 2)
        XCTAssertEqual(h.layer.counters.timeouts, 0)
    }

    /// With SACK (RFC 2018, RFC 6675), a duplicate ACK in fast recovery
    /// whose blocks show a second hole sends it at once, without waiting
    /// for the partial ACK.
    func testSACKRetransmitsTheSecondHoleOnADuplicateACK() {
        var h = sackHarness()
        h.send(6 * 1460)
        XCTAssertEqual(h.poll().count, 6)
        let base = h.iss &+ 1
        // Segments 2 and 4 lost: 1 is acknowledged, 3, 5 and 6 SACKed.
        h.deliver([], seq: 1001, ack: base &+ 1460, window: 16384)
        h.deliver([], seq: 1001, ack: base &+ 1460, window: 16384, options: sacked(base, [(2920, 4380)]))
        h.deliver(
            [], seq: 1001, ack: base &+ 1460, window: 16384,
            options: sacked(base, [(5840, 7300), (2920, 4380)]))
        XCTAssertTrue(h.poll().isEmpty)
        h.deliver(
            [], seq: 1001, ack: base &+ 1460, window: 16384,
            options: sacked(base, [(5840, 8760), (2920, 4380)]))
        assertSegment(h.poll().first, [.ack], seq: base &+ 1460, ack: 1001, length: 1460)
        h.deliver(
            [], seq: 1001, ack: base &+ 1460, window: 16384,
            options: sacked(base, [(5840, 8760), (2920, 4380)]))
        let second = h.poll()
        XCTAssertEqual(second.count, 1)
        assertSegment(second.first, [.ack], seq: base &+ 4380, ack: 1001, length: 1460)
        h.deliver([], seq: 1001, ack: base &+ 8760, window: 16384)
        XCTAssertTrue(h.poll().isEmpty)
        XCTAssertEqual(h.layer.counters.retransmissions, 2)
        XCTAssertEqual(h.layer.counters.fastRetransmits, 1)
        XCTAssertEqual(h.layer.counters.timeouts, 0)
    }

    /// After a timeout the SACK scoreboard is forgotten (RFC 2018 section
    /// 8), but the SACKs that come back with the first retransmission's ACK
    /// keep go-back-N from sending what the peer holds.
    func testGoBackNSkipsSACKedDataAfterATimeout() {
        var h = sackHarness()
        h.send(6 * 1460)
        XCTAssertEqual(h.poll().count, 6)
        let base = h.iss &+ 1
        assertSegment(h.advanceToDeadline().first, [.ack], seq: base, ack: 1001, length: 1460)
        h.deliver([], seq: 1001, ack: base &+ 1460, window: 16384, options: sacked(base, [(2920, 8760)]))
        let resent = h.poll()
        XCTAssertEqual(resent.map(\.seq), [base &+ 1460], "segment 2 only; 3 to 6 are SACKed")
        h.deliver([], seq: 1001, ack: base &+ 8760, window: 16384)
        XCTAssertTrue(h.poll().isEmpty)
        XCTAssertEqual(h.layer.counters.retransmissions, 2)
    }

    /// An established connection with SACK on both sides, 16 KiB buffers
    /// and a 16 KiB peer window.
    private func sackHarness() -> TCPHarness {
        var configuration = TCPConfiguration.plain
        configuration.sack = true
        configuration.sendBufferSize = 16384
        var h = TCPHarness(configuration)
        var options = TCPOptions.mss(1460)
        options.sackPermitted = true
        h.openPassive(options: options, window: 16384)
        return h
    }

    /// SACK blocks at offsets from `base`.
    private func sacked(_ base: UInt32, _ blocks: [(UInt32, UInt32)]) -> TCPOptions {
        var options = TCPOptions()
        for (left, right) in blocks {
            options.sackBlocks.append(
                TCPSACKBlock(
                    left: TCPSeqNumber(rawValue: base &+ left), right: TCPSeqNumber(rawValue: base &+ right)))
        }
        return options
    }

    /// Without timestamps, an RTT is measured on one segment at a time and
    /// never on a retransmitted one (Karn): the RTO follows the samples.
    func testRTOFollowsMeasuredRTT() {
        var h = TCPHarness()
        h.openPassive()
        h.send(10)
        _ = h.poll()
        h.now += 300_000_000
        h.deliver([], seq: 1001, ack: h.iss &+ 11)
        // First sample after the handshake's 0: SRTT 37.5 ms, RTTVAR 75 ms
        // (RFC 6298 section 2.3), RTO 337.5 ms.
        h.send(10)
        _ = h.poll()
        XCTAssertEqual(h.layer.nextDeadline(), h.now + 337_500_000)
        // A retransmission is not timed: its ACK leaves the RTO alone.
        _ = h.advanceToDeadline()
        h.now += 5_000_000
        h.deliver([], seq: 1001, ack: h.iss &+ 21)
        h.send(10)
        _ = h.poll()
        XCTAssertEqual(h.layer.nextDeadline(), h.now + 675_000_000, "still backed off: no sample taken")
    }

    /// With timestamps, every ACK of new data is a sample, even of a
    /// retransmission: its TSecr says which transmission it answers.
    func testTimestampsGiveSamplesForRetransmissions() {
        var configuration = TCPConfiguration.plain
        configuration.timestamps = true
        var h = TCPHarness(configuration)
        var options = TCPOptions.mss(1460)
        options.timestamps = TCPTimestamps(value: 1, echoReply: 0)
        h.listener = try? h.layer.listen(port: 80, backlog: 4)
        h.deliver(.syn, seq: 1000, options: options)
        let synAck = h.poll()[0]
        h.iss = synAck.seq
        let clock = synAck.repr.options.timestamps!.value
        options.timestamps = TCPTimestamps(value: 2, echoReply: clock)
        h.deliver([], seq: 1001, ack: h.iss &+ 1, options: options)
        h.id = h.layer.accept(h.listener!)!

        h.send(10)
        _ = h.poll()
        let retransmission = h.advanceToDeadline()[0]
        XCTAssertEqual(h.layer.nextDeadline(), h.now + 400_000_000, "backed off")
        // The ACK echoes the retransmission's clock, 100 ms later.
        h.now += 100_000_000
        options.timestamps = TCPTimestamps(value: 3, echoReply: retransmission.repr.options.timestamps!.value)
        h.deliver([], seq: 1001, ack: h.iss &+ 11, options: options)
        h.send(10)
        let data = h.poll()
        XCTAssertEqual(data.first?.repr.options.timestamps?.echoReply, 3, "TS.Recent")
        // Samples 0 then 100 ms: SRTT 12.5 ms, RTTVAR 25 ms, so 112.5 ms,
        // raised to the 200 ms minimum; the backoff to 400 ms is over.
        XCTAssertEqual(h.layer.nextDeadline(), h.now + 200_000_000)
    }

    /// PAWS (RFC 7323 section 5): a segment with an older timestamp is an
    /// old duplicate and is dropped, whatever its sequence number.
    func testPAWSDropsOldTimestamps() {
        var configuration = TCPConfiguration.plain
        configuration.timestamps = true
        var h = TCPHarness(configuration)
        var options = TCPOptions.mss(1460)
        options.timestamps = TCPTimestamps(value: 100, echoReply: 0)
        h.openPassive(options: options)
        options.timestamps = TCPTimestamps(value: 99, echoReply: 0)
        h.deliver(.psh, seq: 1001, ack: h.iss &+ 1, options: options, payload: [1, 2, 3])
        XCTAssertNil(h.read())
        XCTAssertEqual(h.poll().first?.ack, 1001)
        options.timestamps = TCPTimestamps(value: 101, echoReply: 0)
        h.deliver(.psh, seq: 1001, ack: h.iss &+ 1, options: options, payload: [1, 2, 3])
        XCTAssertEqual(h.read(), [1, 2, 3])
    }
}
