import RiadNet
import XCTest

final class TCPTests: XCTestCase {
    let client = IPv4Address(10, 0, 0, 2)
    let server = IPv4Address(10, 0, 0, 1)

    /// A Linux-style SYN: 10.0.0.2:49152 > 10.0.0.1:80, seq 100, win 64240,
    /// mss 1460, sackOK, ts 1 0, nop, ws 7.
    let syn: [UInt8] = [
        0xc0, 0x00, 0x00, 0x50, 0x00, 0x00, 0x00, 0x64, 0x00, 0x00, 0x00, 0x00,
        0xa0, 0x02, 0xfa, 0xf0, 0x78, 0x57, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4,
        0x04, 0x02, 0x08, 0x0a, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
        0x01, 0x03, 0x03, 0x07,
    ]

    /// The SYN-ACK: seq 300 ack 101, win 65535, mss 1460, nop nop sackOK, nop ws 7.
    let synAck: [UInt8] = [
        0x00, 0x50, 0xc0, 0x00, 0x00, 0x00, 0x01, 0x2c, 0x00, 0x00, 0x00, 0x65,
        0x80, 0x12, 0xff, 0xff, 0x99, 0x1d, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4,
        0x01, 0x01, 0x04, 0x02, 0x01, 0x03, 0x03, 0x07,
    ]

    /// PSH+ACK with "hello": seq 101 ack 301, win 502, nop nop ts 2 1,
    /// nop nop sack 601:701 750:799.
    let data: [UInt8] = [
        0xc0, 0x00, 0x00, 0x50, 0x00, 0x00, 0x00, 0x65, 0x00, 0x00, 0x01, 0x2d,
        0xd0, 0x18, 0x01, 0xf6, 0xf9, 0xb5, 0x00, 0x00, 0x01, 0x01, 0x08, 0x0a,
        0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x01, 0x01, 0x05, 0x12,
        0x00, 0x00, 0x02, 0x59, 0x00, 0x00, 0x02, 0xbd, 0x00, 0x00, 0x02, 0xee,
        0x00, 0x00, 0x03, 0x1f, 0x68, 0x65, 0x6c, 0x6c, 0x6f,
    ]

    private func parse(
        _ bytes: [UInt8], from source: IPv4Address, to destination: IPv4Address, verify: Bool = true
    ) throws(WireError) -> TCPRepr {
        try bytes.withUnsafeBytes { buffer in
            Result { () throws(WireError) -> TCPRepr in
                try TCPRepr.parse(buffer, source: source, destination: destination, verifyChecksum: verify)
            }
        }.get()
    }

    /// Emits `repr` with the payload `bytes[repr.payload]` copied from
    /// `original`, into a buffer of exactly `bufferLength` bytes.
    private func emit(
        _ repr: TCPRepr, payloadFrom original: [UInt8], from source: IPv4Address,
        to destination: IPv4Address
    ) -> [UInt8] {
        var out = [UInt8](repeating: 0xaa, count: repr.bufferLength)
        let payload = repr.payload.isEmpty ? [] : Array(original[repr.payload])
        let length = out.withUnsafeMutableBytes { buffer in
            payload.withUnsafeBytes {
                repr.emit(into: buffer, payload: $0, source: source, destination: destination)
            }
        }
        XCTAssertEqual(length, out.count)
        return out
    }

    private func assertThrows(
        _ expected: WireError, _ bytes: [UInt8], verify: Bool = true, line: UInt = #line
    ) {
        do {
            let repr = try parse(bytes, from: client, to: server, verify: verify)
            XCTFail("parsed \(repr)", line: line)
        } catch {
            XCTAssertEqual(error, expected, line: line)
        }
    }

    /// Replaces the checksum of `bytes` (client to server) by a correct one.
    private func fixChecksum(_ bytes: inout [UInt8]) {
        bytes[16] = 0
        bytes[17] = 0
        var sum = pseudoHeaderChecksum(
            source: client, destination: server, protocol: .tcp, length: UInt16(bytes.count))
        bytes.withUnsafeBytes { sum.add($0) }
        bytes[16] = UInt8(sum.value >> 8)
        bytes[17] = UInt8(sum.value & 0xff)
    }

    // MARK: - Round trips

    func testSYNRoundTrip() throws {
        let repr = try parse(syn, from: client, to: server)
        XCTAssertEqual(repr.sourcePort, 49152)
        XCTAssertEqual(repr.destinationPort, 80)
        XCTAssertEqual(repr.sequenceNumber, TCPSeqNumber(rawValue: 100))
        XCTAssertNil(repr.acknowledgmentNumber)
        XCTAssertEqual(repr.flags, .syn)
        XCTAssertEqual(repr.controlBits, .syn)
        XCTAssertEqual(repr.window, 64240)
        XCTAssertEqual(repr.urgentPointer, 0)
        XCTAssertEqual(repr.options.maximumSegmentSize, 1460)
        XCTAssertEqual(repr.options.windowScale, 7)
        XCTAssertTrue(repr.options.sackPermitted)
        XCTAssertTrue(repr.options.sackBlocks.isEmpty)
        XCTAssertEqual(repr.options.timestamps, TCPTimestamps(value: 1, echoReply: 0))
        XCTAssertEqual(repr.payload, 40..<40)
        XCTAssertEqual(repr.headerLength, 40)
        XCTAssertEqual(repr.segmentLength, 1)
        XCTAssertEqual(
            repr.description, "TCP 49152 > 80 [S] seq 100 win 64240 mss 1460 ws 7 sackOK ts 1 0 len 0")
        XCTAssertEqual(emit(repr, payloadFrom: syn, from: client, to: server), syn)
    }

    func testSYNACKRoundTrip() throws {
        let repr = try parse(synAck, from: server, to: client)
        XCTAssertEqual(repr.sourcePort, 80)
        XCTAssertEqual(repr.destinationPort, 49152)
        XCTAssertEqual(repr.sequenceNumber, TCPSeqNumber(rawValue: 300))
        XCTAssertEqual(repr.acknowledgmentNumber, TCPSeqNumber(rawValue: 101))
        XCTAssertEqual(repr.flags, .syn)
        XCTAssertEqual(repr.controlBits, [.syn, .ack])
        XCTAssertEqual(repr.window, 65535)
        XCTAssertEqual(repr.options.maximumSegmentSize, 1460)
        XCTAssertEqual(repr.options.windowScale, 7)
        XCTAssertTrue(repr.options.sackPermitted)
        XCTAssertNil(repr.options.timestamps)
        XCTAssertEqual(repr.payload, 32..<32)
        XCTAssertEqual(
            repr.description, "TCP 80 > 49152 [S.] seq 300 ack 101 win 65535 mss 1460 ws 7 sackOK len 0")
        XCTAssertEqual(emit(repr, payloadFrom: synAck, from: server, to: client), synAck)
    }

    func testDataWithSACKRoundTrip() throws {
        let repr = try parse(data, from: client, to: server)
        XCTAssertEqual(repr.sequenceNumber, TCPSeqNumber(rawValue: 101))
        XCTAssertEqual(repr.acknowledgmentNumber, TCPSeqNumber(rawValue: 301))
        XCTAssertEqual(repr.flags, .psh)
        XCTAssertEqual(repr.window, 502)
        XCTAssertNil(repr.options.maximumSegmentSize)
        XCTAssertNil(repr.options.windowScale)
        XCTAssertFalse(repr.options.sackPermitted)
        XCTAssertEqual(repr.options.timestamps, TCPTimestamps(value: 2, echoReply: 1))
        XCTAssertEqual(
            Array(repr.options.sackBlocks),
            [
                TCPSACKBlock(left: TCPSeqNumber(rawValue: 601), right: TCPSeqNumber(rawValue: 701)),
                TCPSACKBlock(left: TCPSeqNumber(rawValue: 750), right: TCPSeqNumber(rawValue: 799)),
            ])
        XCTAssertEqual(repr.payload, 52..<57)
        XCTAssertEqual(Array(data[repr.payload]), Array("hello".utf8))
        XCTAssertEqual(repr.segmentLength, 5)
        XCTAssertEqual(
            repr.description,
            "TCP 49152 > 80 [P.] seq 101 ack 301 win 502 sack 601:701 750:799 ts 2 1 len 5")
        XCTAssertEqual(emit(repr, payloadFrom: data, from: client, to: server), data)
    }

    func testEmitWithPayloadInPlaceMatchesCopy() throws {
        let repr = try parse(data, from: client, to: server)
        var out = [UInt8](repeating: 0, count: repr.bufferLength)
        out.replaceSubrange(repr.payload, with: "hello".utf8)
        out.withUnsafeMutableBytes { _ = repr.emit(into: $0, source: client, destination: server) }
        XCTAssertEqual(out, data)
    }

    func testTheView() {
        syn.withUnsafeBytes { bytes in
            guard let segment = try? TCPSegment(bytes) else { return XCTFail("not a segment") }
            XCTAssertEqual(segment.headerLength, 40)
            XCTAssertEqual(segment.flags, .syn)
            XCTAssertEqual(segment.checksum, 0x7857)
            XCTAssertEqual(segment.options.count, 20)
            XCTAssertEqual(segment.payload.count, 0)
            XCTAssertTrue(segment.verifyChecksum(source: client, destination: server))
            XCTAssertFalse(segment.verifyChecksum(source: client, destination: IPv4Address(10, 0, 0, 9)))
        }
    }

    func testFlagLetters() {
        XCTAssertEqual(TCPFlags().tcpdumpLetters, "none")
        XCTAssertEqual(TCPFlags.ack.tcpdumpLetters, ".")
        XCTAssertEqual(TCPFlags([.fin, .psh, .ack]).tcpdumpLetters, "FP.")
        XCTAssertEqual(TCPFlags([.rst, .urg, .ece, .cwr]).tcpdumpLetters, "RUEW")
    }

    // MARK: - Refusals

    func testBadChecksumIsRefused() throws {
        for index in [0, 5, 17, 30, data.count - 1] {
            var bytes = data
            bytes[index] ^= 0x01
            assertThrows(.badChecksum, bytes)
        }
        // The same segment with other addresses does not verify either.
        XCTAssertThrowsError(try parse(data, from: client, to: IPv4Address(10, 0, 0, 3)))
        // Unless the device checked it already.
        XCTAssertNoThrow(try parse(data, from: client, to: IPv4Address(10, 0, 0, 3), verify: false))
    }

    func testEveryTruncationThrows() {
        for packet in [syn, synAck, data] {
            for length in 0..<packet.count {
                XCTAssertThrowsError(try parse(Array(packet[..<length]), from: client, to: server))
                XCTAssertThrowsError(try parse(Array(packet[..<length]), from: server, to: client))
            }
        }
        assertThrows(.truncated, Array(syn[..<19]))
        assertThrows(.truncated, Array(syn[..<39]), verify: false)
    }

    func testDataOffsetBelowFiveIsRefused() {
        for offset in 0..<5 {
            var bytes = syn
            bytes[12] = UInt8(offset) << 4
            fixChecksum(&bytes)
            assertThrows(.malformed("data offset"), bytes)
        }
    }

    func testPortZeroIsRefused() {
        var bytes = syn
        bytes[2] = 0
        bytes[3] = 0
        fixChecksum(&bytes)
        assertThrows(.malformed("port"), bytes)
    }

    /// The SYN's 20 option octets replaced by `options` (a multiple of 4).
    private func synWithOptions(_ options: [UInt8]) -> [UInt8] {
        var bytes = Array(syn[..<20]) + options
        bytes[12] = UInt8(bytes.count / 4) << 4
        fixChecksum(&bytes)
        return bytes
    }

    func testMalformedOptionLengthsAreRefused() {
        // Length 0, length 1, a length past the header, a length octet missing.
        assertThrows(.malformed("option length"), synWithOptions([0x02, 0x00, 0x05, 0xb4]))
        assertThrows(.malformed("option length"), synWithOptions([0x01, 0x01, 0x1e, 0x01]))
        assertThrows(.malformed("option length"), synWithOptions([0x01, 0x01, 0x1e, 0x03]))
        assertThrows(.malformed("option length"), synWithOptions([0x01, 0x01, 0x01, 0x1e]))
        assertThrows(.malformed("option length"), synWithOptions([0x08, 0x0a, 0, 0, 0, 0, 0, 0]))
        // Known options with lengths their RFCs do not give.
        assertThrows(.malformed("MSS option"), synWithOptions([0x02, 0x03, 0x05, 0x01]))
        assertThrows(.malformed("window scale option"), synWithOptions([0x03, 0x04, 0x07, 0x01]))
        assertThrows(.malformed("SACK-permitted option"), synWithOptions([0x04, 0x03, 0x00, 0x01]))
        assertThrows(.malformed("SACK option"), synWithOptions([0x05, 0x02, 0x01, 0x01]))
        assertThrows(
            .malformed("SACK option"), synWithOptions([0x05, 0x07, 0, 0, 0, 0, 0, 0x01]))
        assertThrows(
            .malformed("timestamps option"),
            synWithOptions([0x08, 0x08, 0, 0, 0, 0, 0, 0x01]))
    }

    func testEndOfOptionsUnknownOptionsAndScaleClamp() throws {
        // An unknown kind 30 of length 4 is skipped; EOL ends the list and
        // the MSS after it is padding, not an option.
        let repr = try parse(
            synWithOptions([0x1e, 0x04, 0xff, 0xff, 0x03, 0x03, 0x0f, 0x00, 0x02, 0x04, 0x05, 0xb4]),
            from: client, to: server)
        XCTAssertNil(repr.options.maximumSegmentSize)
        // RFC 7323 section 2.3: a shift count of 15 is taken as 14.
        XCTAssertEqual(repr.options.windowScale, 14)
    }

    func testSACKBlocksAreLimitedToWhatFits() throws {
        var options = TCPOptions()
        for index in 0..<5 {
            let left = TCPSeqNumber(rawValue: UInt32(1000 * index))
            XCTAssertEqual(options.sackBlocks.append(TCPSACKBlock(left: left, right: left + 500)), index < 4)
        }
        XCTAssertEqual(options.sackBlocks.count, 4)
        XCTAssertEqual(options.encodedLength, 36)
        options.timestamps = TCPTimestamps(value: 9, echoReply: 8)
        // RFC 2018 section 3: with timestamps, three blocks at most.
        XCTAssertEqual(options.emittedSACKBlockCount, 3)
        XCTAssertEqual(options.encodedLength, 40)
        let repr = TCPRepr(
            sourcePort: 1, destinationPort: 2, sequenceNumber: TCPSeqNumber(rawValue: 7),
            acknowledgmentNumber: TCPSeqNumber(rawValue: 9), window: 10, options: options)
        let bytes = emit(repr, payloadFrom: [], from: client, to: server)
        XCTAssertEqual(bytes.count, 60)
        let parsed = try parse(bytes, from: client, to: server)
        XCTAssertEqual(parsed.options.sackBlocks.count, 3)
        XCTAssertEqual(Array(parsed.options.sackBlocks), Array(options.sackBlocks.prefix(3)))
        XCTAssertEqual(parsed.options.timestamps, options.timestamps)
    }

    // MARK: - Sequence numbers

    func testSequenceNumbersCompareAcrossTheWrap() {
        let high = TCPSeqNumber(rawValue: 0xffff_fff0)
        let low = TCPSeqNumber(rawValue: 0x0000_0010)
        XCTAssertTrue(high < low)
        XCTAssertFalse(low < high)
        XCTAssertTrue(low > high)
        XCTAssertEqual(high + 0x20, low)
        XCTAssertEqual(low - 0x20, high)
        XCTAssertEqual(low - high, 0x20)
        XCTAssertEqual(high - low, -0x20)
        XCTAssertEqual(high + -1, TCPSeqNumber(rawValue: 0xffff_ffef))
        XCTAssertEqual(TCPSeqNumber(rawValue: 0xffff_ffff) + 1, TCPSeqNumber(rawValue: 0))
        XCTAssertEqual(TCPSeqNumber.max(high, low), low)
        XCTAssertEqual(TCPSeqNumber.min(high, low), high)
        var value = high
        value += 0x10
        XCTAssertEqual(value, TCPSeqNumber(rawValue: 0))
        value -= 1
        XCTAssertEqual(value, TCPSeqNumber(rawValue: 0xffff_ffff))
        // Exactly half the space apart: neither is before the other in the
        // signed sense for one direction (RFC 9293 leaves it undefined).
        let zero = TCPSeqNumber(rawValue: 0)
        let half = TCPSeqNumber(rawValue: 0x8000_0000)
        XCTAssertFalse(zero < half)
        XCTAssertFalse(half < zero)
        XCTAssertTrue(TCPSeqNumber(rawValue: 0x7fff_ffff) > zero)
        XCTAssertFalse(zero < zero)
        XCTAssertTrue(zero <= zero)
        XCTAssertEqual(TCPSeqNumber(rawValue: 4_294_967_295).description, "4294967295")
    }

    func testSequenceIntervals() {
        let start = TCPSeqNumber(rawValue: 0xffff_fff0)
        let end = start + 0x20
        XCTAssertTrue(start.isIn(from: start, upTo: end))
        XCTAssertTrue((start + 0x1f).isIn(from: start, upTo: end))
        XCTAssertTrue(TCPSeqNumber(rawValue: 0).isIn(from: start, upTo: end))
        XCTAssertFalse(end.isIn(from: start, upTo: end))
        XCTAssertFalse((start - 1).isIn(from: start, upTo: end))
        XCTAssertFalse(start.isIn(from: start, upTo: start))
    }

    // MARK: - Random bytes

    func testRandomBytesParseOrThrow() {
        var random = SeededRandomBuffers(seed: 0x7c9_0001)
        var parsed = 0
        for round in 0..<10_000 {
            var bytes = random.buffer(maximumLength: 1500)
            if round % 2 == 1, bytes.count >= 20 {
                // Half the buffers get a plausible data offset so that the
                // option parser sees random options.
                bytes[12] = UInt8(5 + random.next(upTo: min(10, bytes.count / 4 - 5))) << 4
            }
            if let repr = try? parse(bytes, from: client, to: server, verify: false) {
                parsed += 1
                XCTAssertLessThanOrEqual(repr.payload.upperBound, bytes.count)
                XCTAssertGreaterThanOrEqual(repr.payload.lowerBound, 20)
                _ = repr.description
            }
            _ = try? parse(bytes, from: client, to: server, verify: true)
        }
        XCTAssertGreaterThan(parsed, 100)
    }

    func testMutatedSegmentsParseOrThrow() {
        var random = SeededRandomBuffers(seed: 0x7c9_0002)
        for round in 0..<10_000 {
            let template = [syn, synAck, data][round % 3]
            let bytes = random.mutation(of: template)
            if let repr = try? parse(bytes, from: client, to: server, verify: false) {
                // What parses emits again, and parses to the same value
                // (less the SACK blocks that no longer fit beside the
                // options in the layout emit uses).
                let again = emit(repr, payloadFrom: bytes, from: client, to: server)
                var expected = repr
                expected.options.sackBlocks = TCPSACKBlocks()
                for block in repr.options.sackBlocks.prefix(repr.options.emittedSACKBlockCount) {
                    expected.options.sackBlocks.append(block)
                }
                expected.payload = repr.headerLength..<repr.headerLength + repr.payload.count
                XCTAssertEqual(try? parse(again, from: client, to: server), expected)
            }
        }
    }
}
