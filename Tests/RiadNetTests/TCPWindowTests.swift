import Riad
import RiadNet
import XCTest

/// Flow control: zero windows and their probes (RFC 9293 section 3.8.6.1),
/// window updates and silly window syndrome avoidance on both sides
/// (section 3.8.6.2), and window scaling (RFC 7323 section 2).
final class TCPWindowTests: XCTestCase {
    /// The peer's window closes: data waits, a probe goes after an RTO and
    /// then at doubling intervals; the window opening lets the data go.
    func testZeroWindowProbe() {
        var h = TCPHarness()
        h.openPassive()
        h.deliver([], seq: 1001, ack: h.iss &+ 1, window: 0)
        h.send(100)
        XCTAssertTrue(h.poll().isEmpty)
        let start = h.now
        XCTAssertEqual(h.layer.nextDeadline(), start + 200_000_000, "the persist timer, one RTO")

        // A probe: an ACK with an old sequence number, which the peer must answer.
        assertSegment(h.advanceToDeadline().first, [.ack], seq: h.iss, ack: 1001, length: 0)
        h.deliver([], seq: 1001, ack: h.iss &+ 1, window: 0)
        XCTAssertTrue(h.poll().isEmpty)
        XCTAssertEqual(h.layer.nextDeadline(), start + 600_000_000, "backed off to 400 ms")
        assertSegment(h.advanceToDeadline().first, [.ack], seq: h.iss, ack: 1001, length: 0)

        h.deliver([], seq: 1001, ack: h.iss &+ 1, window: 8192)
        assertSegment(h.poll().first, [.psh, .ack], seq: h.iss &+ 1, ack: 1001, length: 100)
        XCTAssertEqual(h.state, .established)
    }

    /// A peer that answers no probe is given up after `maximumRetransmissions`.
    func testUnansweredProbesGiveUp() {
        var configuration = TCPConfiguration.plain
        configuration.maximumRetransmissions = 2
        var h = TCPHarness(configuration)
        h.openPassive()
        h.deliver([], seq: 1001, ack: h.iss &+ 1, window: 0)
        h.send(100)
        _ = h.poll()
        let start = h.now
        XCTAssertEqual(h.advanceToDeadline().count, 1)
        XCTAssertEqual(h.advanceToDeadline().count, 1)
        XCTAssertTrue(h.advanceToDeadline().isEmpty)
        XCTAssertEqual(h.now - start, 1_400_000_000)
        XCTAssertEqual(h.layer.status(h.id).error, .timedOut)
    }

    /// Our window closes as the buffer fills and opens as the application
    /// reads, in steps of at least an MSS (receiver SWS avoidance); a probe
    /// of the closed window is answered.
    func testReceiveWindowClosesAndReopens() {
        var h = TCPHarness()
        h.openPassive()
        var sequence: UInt32 = 1001
        var windows: [UInt16] = []
        for size in [1460, 1460, 1460, 1460, 1460, 892] {
            h.deliver([], seq: sequence, ack: h.iss &+ 1, payload: [UInt8](repeating: 5, count: size))
            sequence += UInt32(size)
            windows += h.poll().map(\.window)
        }
        XCTAssertEqual(windows, [5272, 2352], "an ACK for every second full segment")
        assertSegment(h.advance(by: 40_000_000).first, [.ack], seq: h.iss &+ 1, ack: 9193, window: 0)

        // The peer probes; the answer still says 0. A byte past the window
        // is not taken.
        h.deliver([], seq: 9192, ack: h.iss &+ 1)
        assertSegment(h.poll().first, [.ack], seq: h.iss &+ 1, ack: 9193, window: 0)
        h.deliver([], seq: 9193, ack: h.iss &+ 1, payload: [1])
        assertSegment(h.poll().first, [.ack], seq: h.iss &+ 1, ack: 9193, window: 0)

        XCTAssertEqual(h.read(maximum: 4096)?.count, 4096)
        assertSegment(h.poll().first, [.ack], seq: h.iss &+ 1, ack: 9193, window: 4096)
        XCTAssertEqual(h.read(maximum: 1000)?.count, 1000)
        XCTAssertTrue(h.poll().isEmpty, "1000 bytes more is under an MSS: no update")
        XCTAssertEqual(h.read(maximum: 1000)?.count, 1000)
        assertSegment(h.poll().first, [.ack], seq: h.iss &+ 1, ack: 9193, window: 6096)
    }

    /// RFC 9293 section 3.8.6.2.1: with nothing in flight, a window under
    /// half the largest the peer offered is not filled at once; the
    /// persist timer's override sends what fits.
    func testSenderSWSAvoidance() {
        var h = TCPHarness()
        h.openPassive()
        h.layer.setNoDelay(h.id, true)
        h.deliver([], seq: 1001, ack: h.iss &+ 1, window: 1000)
        h.send(5000)
        XCTAssertTrue(h.poll().isEmpty, "1000 bytes is under half of 8192")
        let forced = h.advanceToDeadline()
        XCTAssertEqual(forced.map(\.payload.count), [1000])
        h.deliver([], seq: 1001, ack: h.iss &+ 1001, window: 8192)
        XCTAssertEqual(h.poll().map(\.payload.count), [1460, 1460, 1080])
    }

    /// RFC 7323 section 2: SYNs carry unscaled windows and the shifts;
    /// afterwards the peer's windows are multiplied by its shift and ours
    /// divided by our shift (3 for a 256 KiB buffer).
    func testWindowScalingArithmetic() {
        var configuration = TCPConfiguration.plain
        configuration.windowScaling = true
        configuration.receiveBufferSize = 256 * 1024
        configuration.sendBufferSize = 4096
        var h = TCPHarness(configuration)
        var options = TCPOptions.mss(1460)
        options.windowScale = 2
        h.listener = try? h.layer.listen(port: 80, backlog: 4)
        h.deliver(.syn, seq: 1000, window: 100, options: options)
        let synAck = h.poll()
        assertSegment(synAck.first, [.syn, .ack], seq: synAck[0].seq, ack: 1001, window: 65535)
        XCTAssertEqual(synAck.first?.repr.options.windowScale, 3)
        h.iss = synAck[0].seq
        h.deliver([], seq: 1001, ack: h.iss &+ 1, window: 100)
        h.id = h.layer.accept(h.listener!)!
        h.layer.setNoDelay(h.id, true)

        // 100 << 2: 400 bytes may go.
        h.send(1000)
        XCTAssertEqual(h.poll().map(\.payload.count), [400])
        h.deliver([], seq: 1001, ack: h.iss &+ 401, window: 250)
        XCTAssertEqual(h.poll().map(\.payload.count), [600])

        // Ours: (262144 - 1000) >> 3.
        h.deliver([], seq: 1001, ack: h.iss &+ 1001, window: 250, payload: [UInt8](repeating: 0, count: 1000))
        assertSegment(h.advance(by: 40_000_000).first, [.ack], seq: h.iss &+ 1001, ack: 2001, window: 32643)
    }

    /// The window shift is the smallest that fits the buffer in 16 bits.
    func testWindowScaleOffered() {
        for (buffer, shift) in [(65535, 0), (65536, 1), (128 * 1024, 2), (256 * 1024, 3), (1 << 20, 5)] {
            var configuration = TCPConfiguration()
            configuration.receiveBufferSize = buffer
            configuration.sendBufferSize = 1024
            var layer = TCPLayer(configuration: configuration, seed: 9)
            _ = try? layer.connect(from: TCPHarness.host, to: SocketAddress(TCPHarness.peer, 80), now: 1)
            var scale: UInt8?
            layer.poll(now: 1) { source, destination, length, fill in
                var bytes = [UInt8](repeating: 0, count: length)
                bytes.withUnsafeMutableBytes { fill($0) }
                scale = TCPHarness.parse(bytes, from: source, to: destination).repr.options.windowScale
                return true
            }
            XCTAssertEqual(scale, UInt8(shift), "buffer \(buffer)")
        }
    }
}
