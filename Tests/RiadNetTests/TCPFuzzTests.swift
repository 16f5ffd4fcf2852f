import Riad
import RiadNet
import XCTest

/// 10,000 random, mutated and structured-but-arbitrary segments fed to a
/// layer with a listener and an established connection, between polls,
/// timer runs and application calls. The test passes if nothing traps
/// (a trap ends the test run) and the layer still works afterwards.
final class TCPFuzzTests: XCTestCase {
    func testArbitrarySegmentsNeverTrap() throws {
        var random = SeededRandomBuffers(seed: 0x7c9)
        var h = TCPHarness(TCPConfiguration(), seed: 77)
        var options = TCPOptions.mss(1460)
        options.windowScale = 7
        options.sackPermitted = true
        options.timestamps = TCPTimestamps(value: 1, echoReply: 0)
        h.openPassive(options: options)
        let templates = validSegments(iss: h.iss)
        var peerPort: UInt16 = TCPHarness.peerPort
        var buffer = [UInt8](repeating: 0, count: 4096)

        for round in 0..<10_000 {
            var bytes: [UInt8]
            switch random.next(upTo: 3) {
            case 0:
                bytes = random.buffer(maximumLength: 80)
            case 1:
                bytes = random.mutation(of: templates[random.next(upTo: templates.count - 1)])
                if random.next(upTo: 3) == 0 { bytes.removeLast(random.next(upTo: bytes.count)) }
            default:
                bytes = structuredSegment(&random, port: peerPort)
            }
            // Most get a correct checksum, to reach past the parser.
            if random.next(upTo: 4) > 0 { fixChecksum(&bytes) }
            h.deliver(bytes: bytes, checksumVerified: random.next(upTo: 9) == 0)

            switch random.next(upTo: 15) {
            case 0: h.now += UInt64(random.next(upTo: 2_000_000_000))
            case 1: _ = h.advanceToDeadline()
            case 2: _ = try? buffer.withUnsafeMutableBytes { try h.layer.receive(h.id, into: $0) }
            case 3: _ = try? buffer.withUnsafeBytes { try h.layer.send(h.id, $0) }
            case 4 where round % 7 == 0: try? h.layer.shutdown(h.id)
            case 5 where round % 13 == 0: h.layer.close(h.id)
            case 6: if let listener = h.listener, let id = h.layer.accept(listener) { h.id = id }
            default: break
            }
            _ = h.poll()
            // Keep an established connection to attack.
            if h.state == nil || h.state == .closed {
                if h.state == .closed { h.layer.close(h.id) }
                peerPort = peerPort == 65535 ? 40000 : peerPort + 1
                reopen(&h, from: peerPort)
            }
        }

        // Afterwards: a new handshake works and the counters add up.
        h.deliver(.syn, seq: 9000, options: .mss(1460), from: 33333)
        XCTAssertTrue(h.poll().contains { $0.flags == [.syn, .ack] && $0.ack == 9001 })
        let counters = h.layer.counters
        XCTAssertGreaterThan(counters.badSegments, 0)
        XCTAssertGreaterThan(counters.challengeACKs + counters.challengeACKsSuppressed, 0)
        XCTAssertGreaterThan(counters.droppedUnacceptable, 0)
        XCTAssertGreaterThanOrEqual(counters.segmentsReceived, 10_000)
    }

    /// A handshake from `port` to the existing listener, accepted.
    private func reopen(_ h: inout TCPHarness, from port: UInt16) {
        guard let listener = h.listener else { return }
        h.deliver(.syn, seq: 1000, options: .mss(1460), from: port, to: TCPHarness.hostPort)
        guard
            let synAck = h.poll().first(where: {
                $0.flags == [.syn, .ack] && $0.repr.destinationPort == port
            })
        else { return }
        h.deliver([], seq: 1001, ack: synAck.seq &+ 1, from: port, to: TCPHarness.hostPort)
        _ = h.poll()
        while let id = h.layer.accept(listener) { h.id = id }
        h.iss = synAck.seq
    }

    /// Well-formed segments of the fixture's connection, to mutate.
    private func validSegments(iss: UInt32) -> [[UInt8]] {
        var sack = TCPOptions()
        sack.sackBlocks.append(
            TCPSACKBlock(left: TCPSeqNumber(rawValue: iss), right: TCPSeqNumber(rawValue: iss &+ 9)))
        sack.timestamps = TCPTimestamps(value: 5, echoReply: 5)
        let shapes: [(TCPFlags, UInt32?, TCPOptions, Int)] = [
            (.psh, iss &+ 1, TCPOptions(), 100),
            ([], iss &+ 1, sack, 0),
            (.fin, iss &+ 1, TCPOptions(), 10),
            (.rst, nil, TCPOptions(), 0),
            (.syn, nil, .mss(536), 0),
            ([.syn, .fin, .urg], iss &+ 1, sack, 3),
        ]
        return shapes.map { flags, ack, options, length in
            let repr = TCPRepr(
                sourcePort: TCPHarness.peerPort, destinationPort: TCPHarness.hostPort,
                sequenceNumber: TCPSeqNumber(rawValue: 1001),
                acknowledgmentNumber: ack.map { TCPSeqNumber(rawValue: $0) },
                flags: flags, window: 512, urgentPointer: 3, options: options)
            return TCPHarness.emit(
                repr, payload: [UInt8](repeating: 0x61, count: length), from: TCPHarness.peer,
                to: TCPHarness.host)
        }
    }

    /// A parseable segment with arbitrary flags, numbers, window, options
    /// and length, from the peer's current port or another.
    private func structuredSegment(_ random: inout SeededRandomBuffers, port: UInt16) -> [UInt8] {
        var options = TCPOptions()
        if random.next(upTo: 3) == 0 {
            options.maximumSegmentSize = UInt16(truncatingIfNeeded: random.next())
        }
        if random.next(upTo: 3) == 0 { options.windowScale = UInt8(random.next(upTo: 20)) }
        if random.next(upTo: 3) == 0 { options.sackPermitted = true }
        if random.next(upTo: 2) == 0 {
            options.timestamps = TCPTimestamps(
                value: UInt32(truncatingIfNeeded: random.next()),
                echoReply: UInt32(truncatingIfNeeded: random.next()))
        }
        for _ in 0..<random.next(upTo: 3) {
            let left = TCPSeqNumber(rawValue: UInt32(truncatingIfNeeded: random.next()))
            options.sackBlocks.append(TCPSACKBlock(left: left, right: left + random.next(upTo: 70000)))
        }
        // Sequence numbers near the connection's (1000...) or anywhere.
        let near = random.next(upTo: 1) == 0
        let sequence =
            near ? UInt32(1001 + random.next(upTo: 200_000)) : UInt32(truncatingIfNeeded: random.next())
        let ack: TCPSeqNumber? =
            random.next(upTo: 3) == 0
            ? nil : TCPSeqNumber(rawValue: UInt32(truncatingIfNeeded: random.next()))
        let repr = TCPRepr(
            sourcePort: random.next(upTo: 4) == 0 ? UInt16(1 + random.next(upTo: 65534)) : port,
            destinationPort: random.next(upTo: 5) == 0
                ? UInt16(1 + random.next(upTo: 65534)) : TCPHarness.hostPort,
            sequenceNumber: TCPSeqNumber(rawValue: sequence), acknowledgmentNumber: ack,
            flags: TCPFlags(rawValue: UInt8(truncatingIfNeeded: random.next())),
            window: UInt16(truncatingIfNeeded: random.next()),
            urgentPointer: UInt16(truncatingIfNeeded: random.next()),
            options: options)
        let payload = [UInt8](repeating: 0x5a, count: random.next(upTo: 1) == 0 ? 0 : random.next(upTo: 3000))
        return TCPHarness.emit(repr, payload: payload, from: TCPHarness.peer, to: TCPHarness.host)
    }

    /// Writes a correct checksum over the peer-to-host pseudo-header, if
    /// the bytes are long enough to have the field.
    private func fixChecksum(_ bytes: inout [UInt8]) {
        guard bytes.count >= 20, bytes.count <= 65535 else { return }
        bytes[16] = 0
        bytes[17] = 0
        var sum = pseudoHeaderChecksum(
            source: TCPHarness.peer, destination: TCPHarness.host, protocol: .tcp, length: UInt16(bytes.count)
        )
        bytes.withUnsafeBytes { sum.add($0) }
        bytes[16] = UInt8(sum.value >> 8)
        bytes[17] = UInt8(sum.value & 0xff)
    }
}
