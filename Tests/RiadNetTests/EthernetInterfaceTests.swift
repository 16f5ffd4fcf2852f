import Riad
import RiadNet
import XCTest

/// The interface against literal frames: ARP replies, echo replies, and
/// hostile input counted and dropped, never a trap.
final class EthernetInterfaceTests: XCTestCase {
    let ours = MACAddress(0x02, 0, 0, 0, 0, 0x02)
    let theirs = MACAddress(0x02, 0, 0, 0, 0, 0x01)

    func makeInterface() -> EthernetInterface {
        EthernetInterface(mac: ours, address: IPv4CIDR("10.0.0.2/24")!)
    }

    /// Feeds `frame`; returns the frames sent in reply.
    func exchange(_ interface: inout EthernetInterface, _ frame: [UInt8]) -> [[UInt8]] {
        var sent: [[UInt8]] = []
        frame.withUnsafeBytes { bytes in
            interface.receive(bytes, now: 1_000) { length, fill in
                var buffer = [UInt8](repeating: 0xee, count: length)
                buffer.withUnsafeMutableBytes { fill($0) }
                sent.append(buffer)
                return true
            }
        }
        return sent
    }

    func testAnswersARPForItsAddress() throws {
        var interface = makeInterface()
        // who-has 10.0.0.2 tell 10.0.0.1, from 02:00:00:00:00:01
        let request: [UInt8] =
            [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x06]
            + [0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01, 0x02, 0, 0, 0, 0, 0x01, 10, 0, 0, 1]
            + [0, 0, 0, 0, 0, 0, 10, 0, 0, 2] + [UInt8](repeating: 0, count: 18)
        let replies = exchange(&interface, request)
        XCTAssertEqual(replies.count, 1)
        let reply = try XCTUnwrap(replies.first)
        XCTAssertEqual(reply.count, 60)
        let arp = try reply.withUnsafeBytes { try ARPRepr.parse(UnsafeRawBufferPointer(rebasing: $0[14...])) }
        XCTAssertEqual(arp.operation, .reply)
        XCTAssertEqual(arp.senderHardwareAddress, ours)
        XCTAssertEqual(arp.senderProtocolAddress, IPv4Address(10, 0, 0, 2))
        XCTAssertEqual(arp.targetHardwareAddress, theirs)
        XCTAssertEqual(Array(reply[0..<6]), [0x02, 0, 0, 0, 0, 0x01])
        XCTAssertEqual(Array(reply[42...]), [UInt8](repeating: 0, count: 18))
        XCTAssertEqual(interface.neighbours.lookup(IPv4Address(10, 0, 0, 1), now: 2_000), theirs)
        // Not for us: no reply.
        var other = request
        other[41] = 9
        XCTAssertTrue(exchange(&interface, other).isEmpty)
    }

    func testAnswersEchoRequestsWithTheSameData() throws {
        try checkEcho(options: [])
    }

    /// The ICMP message follows the IPv4 options: four NOPs here.
    func testAnswersEchoRequestsWithIPv4Options() throws {
        try checkEcho(options: [1, 1, 1, 1])
    }

    func checkEcho(options: [UInt8]) throws {
        var interface = makeInterface()
        let data: [UInt8] = Array("riad ping data".utf8)
        var icmp: [UInt8] = [8, 0, 0, 0, 0x12, 0x34, 0x00, 0x07] + data
        let icmpChecksum = icmp.withUnsafeBytes { InternetChecksum.of($0) }
        icmp[2] = UInt8(icmpChecksum >> 8)
        icmp[3] = UInt8(icmpChecksum & 0xff)
        let headerLength = 20 + options.count
        var ip: [UInt8] =
            [
                0x40 | UInt8(headerLength / 4), 0, 0, UInt8(headerLength + icmp.count), 0xab, 0xcd, 0x40, 0,
                64, 1,
                0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
            ] + options
        let ipChecksum = ip.withUnsafeBytes { InternetChecksum.of($0) }
        ip[10] = UInt8(ipChecksum >> 8)
        ip[11] = UInt8(ipChecksum & 0xff)
        let frame: [UInt8] = [0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00] + ip + icmp
        let replies = exchange(&interface, frame)
        XCTAssertEqual(replies.count, 1)
        let reply = try XCTUnwrap(replies.first)
        try reply.withUnsafeBytes { bytes in
            let ethernet = try EthernetRepr.parse(bytes)
            XCTAssertEqual(ethernet.destination, theirs)
            let ipBytes = UnsafeRawBufferPointer(rebasing: bytes[14...])
            let ipReply = try IPv4Repr.parse(ipBytes)
            XCTAssertEqual(ipReply.source, IPv4Address(10, 0, 0, 2))
            XCTAssertEqual(ipReply.destination, IPv4Address(10, 0, 0, 1))
            let icmpBytes = UnsafeRawBufferPointer(rebasing: ipBytes[20..<(20 + ipReply.payloadLength)])
            let echo = try ICMPv4Repr.parse(icmpBytes)
            XCTAssertEqual(echo.message, .echoReply(identifier: 0x1234, sequenceNumber: 7))
            XCTAssertEqual(Array(icmpBytes[8...]), data)
        }
        XCTAssertEqual(interface.counters.echoRepliesSent, 1)
    }

    /// A 4000-byte echo request in three fragments: the reply goes in three
    /// fragments too, which reassemble into the echo reply.
    func testAnswersFragmentedEchoRequestsInFragments() throws {
        var interface = makeInterface()
        let data = (0..<4000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) }
        let request = ICMPv4Repr(
            message: .echoRequest(identifier: 0x1234, sequenceNumber: 9), dataLength: 4000)
        let icmp = emitted(count: request.bufferLength) { bytes in
            data.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: bytes[8...]).copyMemory(from: $0) }
            request.emit(into: bytes)
        }
        var replies: [[UInt8]] = []
        for (offset, end) in [(0, 1480), (1480, 2960), (2960, 4008)] {
            let ip = IPv4Repr(
                source: IPv4Address(10, 0, 0, 1), destination: IPv4Address(10, 0, 0, 2), protocol: .icmp,
                payloadLength: end - offset, identification: 0x5151, moreFragments: end < 4008,
                fragmentOffset: offset)
            let frame: [UInt8] =
                [0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00]
                + emitted(count: 20) { ip.emit(into: $0) } + icmp[offset..<end]
            replies += exchange(&interface, frame)
        }
        XCTAssertEqual(replies.count, 3)
        XCTAssertEqual(interface.reassembler.counters.reassembled, 1)
        var reassembler = IPv4Reassembler()
        var whole: ReassembledDatagram?
        var identifications: Set<UInt16> = []
        for (index, reply) in replies.enumerated() {
            XCTAssertLessThanOrEqual(reply.count, 14 + 1500)
            try reply.withUnsafeBytes { bytes in
                let view = try IPv4PacketView(checking: UnsafeRawBufferPointer(rebasing: bytes[14...]))
                let ip = try IPv4Repr.parse(view)
                XCTAssertEqual(ip.fragmentOffset, [0, 1480, 2960][index])
                XCTAssertEqual(ip.moreFragments, index < 2)
                XCTAssertEqual(ip.destination, IPv4Address(10, 0, 0, 1))
                identifications.insert(ip.identification)
                whole = reassembler.add(ip, payload: view.payload, now: 0) ?? whole
            }
        }
        XCTAssertEqual(identifications.count, 1)
        let datagram = try XCTUnwrap(whole)
        XCTAssertEqual(datagram.header.payloadLength, 4008)
        try datagram.withPayload { bytes in
            let echo = try ICMPv4Repr.parse(bytes)
            XCTAssertEqual(echo.message, .echoReply(identifier: 0x1234, sequenceNumber: 9))
            XCTAssertTrue(Array(bytes[8...]) == data)
        }
        XCTAssertEqual(interface.counters.echoRepliesSent, 1)
        XCTAssertEqual(interface.counters.fragmentsSent, 3)
    }

    func testHostileFramesAreCountedNeverTrapped() {
        var interface = makeInterface()
        var generator = SplitMix(seed: 42)
        for _ in 0..<20_000 {
            let length = Int(generator.next() % 200)
            var frame = (0..<length).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            // Often aim at us, with a plausible type, to get past the first checks.
            if length >= 14 && generator.next() % 2 == 0 {
                frame.replaceSubrange(0..<6, with: ours.octets)
                frame[12] = 0x08
                frame[13] = generator.next() % 2 == 0 ? 0x00 : 0x06
            }
            _ = exchange(&interface, frame)
        }
        XCTAssertEqual(interface.counters.framesReceived, 20_000)
        XCTAssertGreaterThan(interface.counters.framesMalformed, 0)
    }
}

/// A small seeded generator for repeatable random input.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
