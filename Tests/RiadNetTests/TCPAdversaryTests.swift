import Riad
import RiadNet
import XCTest

/// RFC 5961 ("Improving TCP's Robustness to Blind In-Window Attacks"): an
/// off-path attacker who guesses the 4-tuple but not the exact sequence
/// numbers cannot reset, desynchronise or inject into a connection. Each
/// test is one blind attack on an established connection (peer at 1001,
/// host at `iss + 1`), then proof that the connection still works.
final class TCPAdversaryTests: XCTestCase {
    /// Section 3.2: a reset inside the window but not at RCV.NXT earns a
    /// challenge ACK; only the exact sequence number resets.
    func testBlindResetInWindow() {
        var h = TCPHarness()
        h.openPassive()
        h.deliver(.rst, seq: 1001 + 4000)
        assertSegment(h.poll().first, [.ack], seq: h.iss &+ 1, ack: 1001, window: 8192)
        XCTAssertEqual(h.state, .established)
        XCTAssertEqual(h.layer.counters.challengeACKs, 1)
        assertStillWorks(&h)

        h.deliver(.rst, seq: 1011)
        XCTAssertEqual(h.state, .closed)
        XCTAssertEqual(h.layer.status(h.id).error, .reset)
    }

    /// A reset outside the window is dropped silently.
    func testBlindResetOutsideWindow() {
        var h = TCPHarness()
        h.openPassive()
        h.deliver(.rst, seq: 1001 + 100_000)
        h.deliver([.rst, .ack], seq: 1000, ack: h.iss &+ 1)
        XCTAssertTrue(h.poll().isEmpty)
        XCTAssertEqual(h.state, .established)
        XCTAssertEqual(h.layer.counters.challengeACKs, 0)
        assertStillWorks(&h)
    }

    /// Section 4.2: a SYN in a synchronized state, wherever its sequence
    /// number lies, earns a challenge ACK and changes nothing.
    func testBlindSYNInEstablished() {
        var h = TCPHarness()
        h.openPassive()
        for sequence: UInt32 in [123_456_789, 1001, 1500] {
            h.deliver(.syn, seq: sequence, options: .mss(536))
            assertSegment(h.poll().first, [.ack], seq: h.iss &+ 1, ack: 1001)
        }
        XCTAssertEqual(h.state, .established)
        XCTAssertEqual(h.layer.counters.challengeACKs, 3)
        assertStillWorks(&h)
    }

    /// Section 5.2: data whose ACK field is outside
    /// [SND.UNA - MAX.SND.WND, SND.NXT] is dropped, data and all, with a
    /// challenge ACK.
    func testBlindDataWithUnacceptableACK() {
        var h = TCPHarness()
        h.openPassive()
        h.deliver(.psh, seq: 1001, ack: h.iss &+ 5000, payload: Array("injected".utf8))
        assertSegment(h.poll().first, [.ack], seq: h.iss &+ 1, ack: 1001)
        h.deliver(.psh, seq: 1001, ack: h.iss &- 100_000, payload: Array("injected".utf8))
        assertSegment(h.poll().first, [.ack], seq: h.iss &+ 1, ack: 1001)
        XCTAssertNil(h.read(), "nothing was delivered")
        XCTAssertEqual(h.state, .established)
        XCTAssertEqual(h.layer.counters.challengeACKs, 2)
        assertStillWorks(&h)
    }

    /// Blind data outside the receive window is dropped with a duplicate ACK.
    func testBlindDataOutsideWindow() {
        var h = TCPHarness()
        h.openPassive()
        h.deliver(.psh, seq: 1001 + 50_000, ack: h.iss &+ 1, payload: Array("injected".utf8))
        assertSegment(h.poll().first, [.ack], seq: h.iss &+ 1, ack: 1001)
        XCTAssertNil(h.read())
        assertStillWorks(&h)
    }

    /// Section 7: challenge ACKs are rate-limited (ten a second per
    /// connection by default).
    func testChallengeACKRateLimit() {
        var h = TCPHarness()
        h.openPassive()
        var answered = 0
        for offset: UInt32 in 1...15 {
            h.deliver(.rst, seq: 1001 + offset * 100)
            answered += h.poll().count
        }
        XCTAssertEqual(answered, 10)
        XCTAssertEqual(h.layer.counters.challengeACKs, 10)
        XCTAssertEqual(h.layer.counters.challengeACKsSuppressed, 5)
        h.now += 1_000_000_000
        h.deliver(.rst, seq: 1500)
        XCTAssertEqual(h.poll().count, 1, "a new second, a new allowance")
        XCTAssertEqual(h.state, .established)
    }

    /// The connection still carries data both ways in order.
    private func assertStillWorks(_ h: inout TCPHarness, file: StaticString = #filePath, line: UInt = #line) {
        h.send(10)
        let out = h.poll()
        XCTAssertEqual(out.first?.payload.count, 10, "host still sends", file: file, line: line)
        let next = out.first.map { $0.seq &+ 10 } ?? 0
        h.deliver(.psh, seq: 1001, ack: next, payload: Array("0123456789".utf8))
        XCTAssertEqual(h.read(), Array("0123456789".utf8), "host still receives", file: file, line: line)
    }
}
