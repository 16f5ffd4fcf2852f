import RiadNet
import XCTest

/// The reassembler against literal fragment sequences, its limits, and a
/// random stream; fragmentation on send, checked by reassembling.
final class IPv4ReassemblyTests: XCTestCase {
    let source = IPv4Address(10, 0, 0, 1)
    let destination = IPv4Address(10, 0, 0, 2)
    let second: UInt64 = 1_000_000_000

    /// Byte `position` of datagram `identification`'s payload: fragments of
    /// the same datagram agree, different datagrams differ.
    func byte(_ position: Int, of identification: UInt16) -> UInt8 {
        UInt8(truncatingIfNeeded: position &* 7 &+ Int(identification) &* 13 &+ position >> 8)
    }

    func header(_ identification: UInt16, _ offset: Int, _ length: Int, more: Bool) -> IPv4Repr {
        IPv4Repr(
            source: source, destination: destination, protocol: .udp, payloadLength: length,
            identification: identification, moreFragments: more, fragmentOffset: offset)
    }

    /// Adds the fragment `offset..<offset+length` of datagram
    /// `identification` (its own bytes, or `bytes`); returns the payload of
    /// the datagram it completes.
    @discardableResult
    func add(
        _ reassembler: inout IPv4Reassembler, _ identification: UInt16, _ offset: Int, _ length: Int,
        more: Bool, now: UInt64 = 0, bytes: [UInt8]? = nil
    ) -> [UInt8]? {
        let payload = bytes ?? (offset..<(offset + length)).map { byte($0, of: identification) }
        let datagram = payload.withUnsafeBytes {
            reassembler.add(header(identification, offset, length, more: more), payload: $0, now: now)
        }
        guard let datagram else { return nil }
        XCTAssertFalse(datagram.header.isFragment)
        return datagram.withPayload { Array($0) }
    }

    func expected(_ identification: UInt16, _ length: Int) -> [UInt8] {
        (0..<length).map { byte($0, of: identification) }
    }

    func testInOrder() {
        var reassembler = IPv4Reassembler()
        XCTAssertNil(add(&reassembler, 1, 0, 1480, more: true))
        XCTAssertNil(add(&reassembler, 1, 1480, 1480, more: true))
        XCTAssertEqual(reassembler.datagramsInProgress, 1)
        XCTAssertEqual(add(&reassembler, 1, 2960, 1048, more: false), expected(1, 4008))
        XCTAssertEqual(reassembler.counters.reassembled, 1)
        XCTAssertEqual(reassembler.datagramsInProgress, 0)
    }

    /// The first fragment's header describes the whole, whenever it comes.
    func testOutOfOrder() throws {
        var reassembler = IPv4Reassembler()
        XCTAssertNil(add(&reassembler, 1, 2960, 1048, more: false))
        XCTAssertNil(add(&reassembler, 1, 1480, 1480, more: true))
        var first = header(1, 0, 1480, more: true)
        first.timeToLive = 9
        let bytes = expected(1, 1480)
        let datagram = try XCTUnwrap(bytes.withUnsafeBytes { reassembler.add(first, payload: $0, now: 0) })
        XCTAssertEqual(datagram.header.timeToLive, 9)
        XCTAssertEqual(datagram.header.payloadLength, 4008)
        XCTAssertEqual(datagram.header.identification, 1)
        XCTAssertEqual(datagram.withPayload { Array($0) }, expected(1, 4008))
    }

    /// The same bytes again are ignored, not an overlap.
    func testDuplicatesAreIgnored() {
        var reassembler = IPv4Reassembler()
        XCTAssertNil(add(&reassembler, 1, 0, 16, more: true))
        XCTAssertNil(add(&reassembler, 1, 0, 16, more: true))
        XCTAssertNil(add(&reassembler, 1, 24, 5, more: false))
        XCTAssertNil(add(&reassembler, 1, 24, 5, more: false))
        // Covering two fragments received apart, with their content.
        XCTAssertNil(add(&reassembler, 1, 0, 8, more: true))
        XCTAssertEqual(add(&reassembler, 1, 16, 8, more: true), expected(1, 29))
        XCTAssertEqual(reassembler.counters.duplicates, 3)
        XCTAssertEqual(reassembler.counters.overlaps, 0)
    }

    /// An overlap refuses the datagram; its later fragments are dropped
    /// until its timeout, then the identification is free again.
    func testOverlapsRefuseTheDatagram() {
        var reassembler = IPv4Reassembler()
        XCTAssertNil(add(&reassembler, 1, 0, 16, more: true))
        XCTAssertNil(add(&reassembler, 1, 8, 16, more: true))
        XCTAssertEqual(reassembler.counters.overlaps, 1)
        XCTAssertEqual(reassembler.datagramsInProgress, 0)
        XCTAssertNil(add(&reassembler, 1, 16, 8, more: true))
        XCTAssertNil(add(&reassembler, 1, 24, 8, more: false))
        XCTAssertEqual(reassembler.counters.fragmentsDropped, 2)
        // The same range with other bytes is an overlap too.
        XCTAssertNil(add(&reassembler, 2, 0, 16, more: true))
        XCTAssertNil(add(&reassembler, 2, 0, 16, more: true, bytes: [UInt8](repeating: 0xaa, count: 16)))
        XCTAssertEqual(reassembler.counters.overlaps, 2)
        // After the timeout, datagram 1 can be sent again.
        XCTAssertNil(add(&reassembler, 1, 0, 16, more: true, now: 16 * second))
        XCTAssertEqual(add(&reassembler, 1, 16, 8, more: false, now: 16 * second), expected(1, 24))
        XCTAssertEqual(reassembler.counters.timedOut, 0)
    }

    /// A missing fragment: the datagram times out and its slot is freed.
    func testMissingFragmentTimesOut() {
        var reassembler = IPv4Reassembler()
        XCTAssertNil(add(&reassembler, 1, 0, 1480, more: true, now: 1 * second))
        XCTAssertNil(add(&reassembler, 1, 2960, 100, more: false, now: 2 * second))
        reassembler.expire(now: 15 * second)
        XCTAssertEqual(reassembler.datagramsInProgress, 1)
        reassembler.expire(now: 16 * second)
        XCTAssertEqual(reassembler.datagramsInProgress, 0)
        XCTAssertEqual(reassembler.counters.timedOut, 1)
        // The buffer is kept for the next datagram: no new memory.
        let memory = reassembler.memoryInUse
        XCTAssertEqual(memory, 4096)
        XCTAssertNil(add(&reassembler, 2, 0, 1480, more: true, now: 17 * second))
        XCTAssertEqual(add(&reassembler, 2, 1480, 8, more: false, now: 17 * second), expected(2, 1488))
        XCTAssertEqual(reassembler.memoryInUse, memory)
        // The late fragment starts a new datagram, which cannot complete.
        XCTAssertNil(add(&reassembler, 1, 1480, 1480, more: true, now: 17 * second))
        XCTAssertEqual(reassembler.datagramsInProgress, 1)
        XCTAssertEqual(reassembler.memoryInUse, memory)
    }

    /// A fifth datagram drops the oldest of four.
    func testTooManyDatagramsDropTheOldest() {
        var reassembler = IPv4Reassembler()
        for identification: UInt16 in 1...4 {
            XCTAssertNil(add(&reassembler, identification, 0, 8, more: true, now: UInt64(identification)))
        }
        XCTAssertEqual(reassembler.datagramsInProgress, 4)
        XCTAssertNil(add(&reassembler, 5, 0, 8, more: true, now: 5))
        XCTAssertEqual(reassembler.datagramsInProgress, 4)
        XCTAssertEqual(reassembler.counters.droppedForLimits, 1)
        // 1 was dropped (its end starts it again, dropping 2); 3 completes.
        XCTAssertNil(add(&reassembler, 1, 8, 8, more: false, now: 6))
        XCTAssertEqual(add(&reassembler, 3, 8, 8, more: false, now: 7), expected(3, 16))
        XCTAssertEqual(reassembler.counters.droppedForLimits, 2)
    }

    /// Data past 65,535 bytes, or past the end the last fragment set.
    func testLengthLimits() {
        var reassembler = IPv4Reassembler()
        // 65,515 bytes of payload is the most: with the header, 65,535.
        XCTAssertNil(add(&reassembler, 1, 65512, 3, more: false))
        XCTAssertEqual(reassembler.counters.beyondLength, 0)
        XCTAssertNil(add(&reassembler, 2, 65512, 4, more: false))
        XCTAssertNil(add(&reassembler, 3, 65504, 16, more: true))
        XCTAssertEqual(reassembler.counters.beyondLength, 2)
        // Past the last fragment's end: refused, and so is the datagram.
        XCTAssertNil(add(&reassembler, 4, 1480, 520, more: false))
        XCTAssertNil(add(&reassembler, 4, 2000, 8, more: true))
        XCTAssertNil(add(&reassembler, 4, 0, 1480, more: true))
        // Two last fragments that disagree.
        XCTAssertNil(add(&reassembler, 5, 16, 8, more: false))
        XCTAssertNil(add(&reassembler, 5, 8, 8, more: false))
        // A last fragment before data already received.
        XCTAssertNil(add(&reassembler, 6, 64, 8, more: true))
        XCTAssertNil(add(&reassembler, 6, 8, 8, more: false))
        XCTAssertEqual(reassembler.counters.beyondLength, 5)
        XCTAssertEqual(reassembler.counters.reassembled, 0)
        // Datagram 1 still completes, at the largest size.
        XCTAssertEqual(add(&reassembler, 1, 0, 65512, more: true), expected(1, 65515))
    }

    /// The memory limit drops the oldest datagram for a new one's data.
    func testMemoryLimit() {
        var reassembler = IPv4Reassembler(limits: .init(memoryLimit: 8192))
        XCTAssertNil(add(&reassembler, 1, 0, 1480, more: true, now: 1))
        XCTAssertEqual(reassembler.memoryInUse, 2048)
        XCTAssertNil(add(&reassembler, 2, 6000, 1000, more: false, now: 2))
        XCTAssertEqual(reassembler.memoryInUse, 8192)
        XCTAssertEqual(reassembler.datagramsInProgress, 1)
        XCTAssertEqual(reassembler.counters.droppedForLimits, 1)
        // More than the whole limit: refused, without dropping others.
        XCTAssertNil(add(&reassembler, 3, 8192, 8, more: true, now: 3))
        XCTAssertEqual(reassembler.counters.droppedForLimits, 2)
        XCTAssertEqual(reassembler.datagramsInProgress, 1)
        XCTAssertEqual(reassembler.memoryInUse, 8192)
        XCTAssertEqual(add(&reassembler, 2, 0, 6000, more: true, now: 4), expected(2, 7000))
    }

    func testMalformedFragmentsAreDropped() {
        var reassembler = IPv4Reassembler()
        XCTAssertNil(add(&reassembler, 1, 0, 12, more: true))  // not a multiple of 8
        XCTAssertNil(add(&reassembler, 1, 0, 0, more: true))  // empty
        XCTAssertNil(add(&reassembler, 1, 0, 8, more: false))  // not a fragment
        let payload = [UInt8](repeating: 1, count: 8)
        XCTAssertNil(
            payload.withUnsafeBytes { reassembler.add(header(1, 0, 16, more: true), payload: $0, now: 0) })
        XCTAssertEqual(reassembler.counters.fragmentsDropped, 4)
        XCTAssertEqual(reassembler.datagramsInProgress, 0)
    }

    /// Datagrams split at random, shuffled, duplicated and mixed with
    /// random fragments: the reassembler never traps, stays in its limits,
    /// and what it completes is the datagram or refused.
    func testRandomStreamNeverTraps() {
        var random = SeededRandomBuffers(seed: 791)
        var reassembler = IPv4Reassembler()
        var now: UInt64 = 0
        var completed = 0
        for round in 0..<300 {
            let identification = UInt16(truncatingIfNeeded: round)
            let length = 1 + random.next(upTo: 9000)
            var pieces: [(Int, Int, Bool)] = []
            var offset = 0
            while offset < length {
                let size = min(length - offset, 8 * (1 + random.next(upTo: 200)))
                pieces.append((offset, size, offset + size < length))
                offset += size
            }
            if random.next(upTo: 3) == 0 { pieces.append(pieces[random.next(upTo: pieces.count - 1)]) }
            for index in pieces.indices.reversed() { pieces.swapAt(index, random.next(upTo: index)) }
            var result: [UInt8]?
            for (offset, size, more) in pieces {
                if let payload = add(&reassembler, identification, offset, size, more: more, now: now) {
                    result = payload
                }
                // Noise: random fragments of recent datagrams, now and then
                // of this one.
                for _ in 0..<random.next(upTo: 2) {
                    let recent = random.next(upTo: 7) == 0 ? round : round - 1 - random.next(upTo: 2)
                    let noise = UInt16(truncatingIfNeeded: recent)
                    // Mostly where datagrams are, sometimes anywhere; a length
                    // in 8-byte units half of the time.
                    let noiseOffset = 8 * random.next(upTo: random.next(upTo: 9) == 0 ? 8300 : 1200)
                    let noiseLength =
                        random.next(upTo: 1) == 0
                        ? 8 * (1 + random.next(upTo: 200)) : 1 + random.next(upTo: 1600)
                    let more = random.next(upTo: 1) == 0
                    let bytes = (0..<noiseLength).map { _ in UInt8(truncatingIfNeeded: random.next()) }
                    if let payload = add(
                        &reassembler, noise, noiseOffset, noiseLength, more: more, now: now, bytes: bytes)
                    {
                        XCTAssertLessThanOrEqual(payload.count, IPv4Reassembler.maximumPayloadLength)
                    }
                }
                // Milliseconds pass, and now and then half a minute.
                now +=
                    UInt64(random.next(upTo: 200)) * 1_000_000
                    + (random.next(upTo: 150) == 0 ? 30 * second : 0)
                XCTAssertLessThanOrEqual(reassembler.memoryInUse, 128 * 1024)
                XCTAssertLessThanOrEqual(reassembler.datagramsInProgress, 4)
            }
            if let result {
                XCTAssertTrue(result == expected(identification, length), "datagram \(round)")
                completed += 1
            }
        }
        XCTAssertGreaterThan(completed, 100)
        XCTAssertGreaterThan(reassembler.counters.overlaps, 0)
        XCTAssertGreaterThan(reassembler.counters.timedOut, 0)
    }

    func testFragmentsFitTheMTU() throws {
        let datagram = IPv4Repr(
            source: source, destination: destination, protocol: .icmp, payloadLength: 4008, identification: 7)
        let fragments = try XCTUnwrap(IPv4Fragments(datagram, mtu: 1500))
        XCTAssertEqual(fragments.count, 3)
        let all = Array(fragments)
        XCTAssertEqual(all.map(\.payload), [0..<1480, 1480..<2960, 2960..<4008])
        XCTAssertEqual(all.map(\.header.fragmentOffset), [0, 1480, 2960])
        XCTAssertEqual(all.map(\.header.moreFragments), [true, true, false])
        XCTAssertEqual(all.map(\.header.identification), [7, 7, 7])
        XCTAssertTrue(all.allSatisfy { $0.header.bufferLength <= 1500 })
        // An MTU that is not 20 plus a multiple of 8 rounds the data down.
        XCTAssertEqual(IPv4Fragments(datagram, mtu: 1000)?.map(\.payload.count), [976, 976, 976, 976, 104])
        // A datagram that fits is sent as it is.
        let small = IPv4Repr(source: source, destination: destination, protocol: .icmp, payloadLength: 1480)
        XCTAssertEqual(try XCTUnwrap(IPv4Fragments(small, mtu: 1500)).map { $0.header }, [small])
        // DF forbids fragmenting; a tiny MTU cannot carry fragments.
        var dontFragment = datagram
        dontFragment.dontFragment = true
        XCTAssertNil(IPv4Fragments(dontFragment, mtu: 1500))
        XCTAssertNil(IPv4Fragments(datagram, mtu: 27))
        // Fragments reassemble into the datagram, at every MTU.
        for mtu in stride(from: 28, to: datagram.bufferLength, by: 37) {
            var reassembler = IPv4Reassembler()
            var result: [UInt8]?
            for (fragment, range) in try XCTUnwrap(IPv4Fragments(datagram, mtu: mtu)) {
                let bytes = range.map { byte($0, of: 7) }
                let done = bytes.withUnsafeBytes { reassembler.add(fragment, payload: $0, now: 0) }
                if let done { result = done.withPayload { Array($0) } }
            }
            XCTAssertTrue(result == expected(7, 4008), "MTU \(mtu)")
        }
    }
}
