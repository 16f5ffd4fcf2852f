import Riad
import RiadNet
import XCTest

/// The interface's sending side and UDP: routing to a neighbour or the
/// gateway, ARP requests with their rate limit, datagrams kept until the
/// answer, gratuitous ARP, UDP delivery and port unreachable.
final class EthernetInterfaceRoutingTests: XCTestCase {
    let ours = MACAddress(0x02, 0, 0, 0, 0, 0x02)
    let peerMAC = MACAddress(0x02, 0, 0, 0, 0, 0x01)
    let ourAddress = IPv4Address(10, 0, 0, 2)
    let peer = IPv4Address(10, 0, 0, 1)

    func makeInterface(gateway: IPv4Address? = nil) -> EthernetInterface {
        EthernetInterface(mac: ours, address: IPv4CIDR("10.0.0.2/24")!, gateway: gateway)
    }

    /// Collects what the interface sends.
    final class Wire {
        var frames: [[UInt8]] = []
        var accepting = true

        func transmit(_ length: Int, _ fill: (UnsafeMutableRawBufferPointer) -> Void) -> Bool {
            guard accepting else { return false }
            var buffer = [UInt8](repeating: 0xee, count: length)
            buffer.withUnsafeMutableBytes { fill($0) }
            frames.append(buffer)
            return true
        }

        func arp(_ index: Int) throws -> ARPRepr {
            try frames[index].withUnsafeBytes {
                try ARPRepr.parse(UnsafeRawBufferPointer(rebasing: $0[14...]))
            }
        }

        func ipv4(_ index: Int) throws -> (IPv4Repr, [UInt8]) {
            try frames[index].withUnsafeBytes { bytes in
                let view = try IPv4PacketView(checking: UnsafeRawBufferPointer(rebasing: bytes[14...]))
                return (try IPv4Repr.parse(view), Array(view.payload))
            }
        }
    }

    /// An Ethernet frame carrying a UDP datagram from the peer.
    func udpFrame(
        to port: UInt16, from source: IPv4Address? = nil, destination: IPv4Address? = nil, payload: [UInt8]
    )
        -> [UInt8]
    {
        let source = source ?? peer
        let destination = destination ?? ourAddress
        let udp = UDPRepr(sourcePort: 5353, destinationPort: port, payloadLength: payload.count)
        let ip = IPv4Repr(
            source: source, destination: destination, protocol: .udp, payloadLength: udp.bufferLength)
        var frame = [UInt8](repeating: 0, count: 14 + ip.bufferLength)
        frame.withUnsafeMutableBytes { bytes in
            EthernetRepr(source: peerMAC, destination: ours, etherType: .ipv4).emit(into: bytes)
            let ipBytes = UnsafeMutableRawBufferPointer(rebasing: bytes[14...])
            let udpBytes = UnsafeMutableRawBufferPointer(rebasing: ipBytes[20...])
            UnsafeMutableRawBufferPointer(rebasing: udpBytes[8...]).copyBytes(from: payload)
            udp.emit(into: udpBytes, source: source, destination: destination)
            ip.emit(into: ipBytes)
        }
        return frame
    }

    func arpReply(from address: IPv4Address, mac: MACAddress) -> [UInt8] {
        var frame = [UInt8](repeating: 0, count: 60)
        frame.withUnsafeMutableBytes { bytes in
            EthernetRepr(source: mac, destination: ours, etherType: .arp).emit(into: bytes)
            ARPRepr(
                operation: .reply, senderHardwareAddress: mac, senderProtocolAddress: address,
                targetHardwareAddress: ours, targetProtocolAddress: ourAddress
            ).emit(into: UnsafeMutableRawBufferPointer(rebasing: bytes[14...]))
        }
        return frame
    }

    func receive(_ interface: inout EthernetInterface, _ frame: [UInt8], _ wire: Wire, now: UInt64 = 0) {
        frame.withUnsafeBytes { interface.receive($0, now: now, transmit: wire.transmit) }
    }

    func testUDPToABoundPortIsQueuedWithItsSender() {
        var interface = makeInterface()
        let wire = Wire()
        XCTAssertEqual(try interface.udp.bind(53), 53)
        receive(&interface, udpFrame(to: 53, payload: Array("query".utf8)), wire)
        XCTAssertTrue(wire.frames.isEmpty)
        XCTAssertTrue(interface.udp.hasDatagram(on: 53))
        var buffer = [UInt8](repeating: 0, count: 64)
        let received = buffer.withUnsafeMutableBytes { interface.udp.receive(on: 53, into: $0) }
        XCTAssertEqual(received?.length, 5)
        XCTAssertEqual(received?.from, SocketAddress(peer, 5353))
        XCTAssertEqual(Array(buffer[0..<5]), Array("query".utf8))
        XCTAssertFalse(interface.udp.hasDatagram(on: 53))
    }

    func testUDPToAClosedPortIsAnsweredPortUnreachableQuotingIt() throws {
        var interface = makeInterface()
        let wire = Wire()
        let frame = udpFrame(to: 9999, payload: Array("hello".utf8))
        receive(&interface, frame, wire)
        XCTAssertEqual(wire.frames.count, 1)
        let (ip, payload) = try wire.ipv4(0)
        XCTAssertEqual(ip.protocol, .icmp)
        XCTAssertEqual(ip.destination, peer)
        let icmp = try payload.withUnsafeBytes { try ICMPv4Repr.parse($0) }
        guard case .destinationUnreachable(let code, _, let original) = icmp.message else {
            return XCTFail("expected port unreachable, got \(icmp)")
        }
        XCTAssertEqual(code, .portUnreachable)
        XCTAssertEqual(original.destination, ourAddress)
        // The first 8 bytes after the quoted header: the UDP header.
        XCTAssertEqual(Array(payload[28..<36]), Array(frame[34..<42]))
        XCTAssertEqual(interface.counters.portUnreachablesSent, 1)
    }

    func testPortUnreachableIsRateLimitedAndNeverForBroadcasts() {
        var interface = makeInterface()
        let wire = Wire()
        for _ in 0..<(EthernetInterface.unreachablesPerSecond + 20) {
            receive(&interface, udpFrame(to: 9999, payload: [1]), wire, now: 5_000_000_000)
        }
        XCTAssertEqual(wire.frames.count, EthernetInterface.unreachablesPerSecond)
        // The next second has a fresh budget.
        receive(&interface, udpFrame(to: 9999, payload: [1]), wire, now: 6_000_000_000)
        XCTAssertEqual(wire.frames.count, EthernetInterface.unreachablesPerSecond + 1)
        receive(
            &interface, udpFrame(to: 9999, destination: .broadcast, payload: [1]), wire, now: 7_000_000_000)
        receive(
            &interface, udpFrame(to: 9999, destination: IPv4Address(10, 0, 0, 255), payload: [1]), wire,
            now: 7_000_000_000)
        XCTAssertEqual(wire.frames.count, EthernetInterface.unreachablesPerSecond + 1)
    }

    func testSendingToAnUnknownNeighbourAsksOnceASecondAndSendsWhenAnswered() throws {
        var interface = makeInterface()
        let wire = Wire()
        let payload: [UInt8] = Array("ping".utf8)
        let outcome = payload.withUnsafeBytes {
            interface.sendUDP($0, from: 4000, to: SocketAddress(peer, 7), now: 0, transmit: wire.transmit)
        }
        XCTAssertEqual(outcome, .resolving)
        XCTAssertEqual(wire.frames.count, 1)
        let request = try wire.arp(0)
        XCTAssertEqual(request.operation, .request)
        XCTAssertEqual(request.targetProtocolAddress, peer)
        XCTAssertEqual(Array(wire.frames[0][0..<6]), [0xff, 0xff, 0xff, 0xff, 0xff, 0xff])
        // A second datagram within the second asks nothing more.
        _ = payload.withUnsafeBytes {
            interface.sendUDP(
                $0, from: 4000, to: SocketAddress(peer, 7), now: 500_000_000, transmit: wire.transmit)
        }
        XCTAssertEqual(wire.frames.count, 1)
        XCTAssertEqual(interface.nextDeadline, 1_000_000_000)
        // The answer sends both, to the MAC address learned.
        receive(&interface, arpReply(from: peer, mac: peerMAC), wire, now: 600_000_000)
        XCTAssertEqual(wire.frames.count, 3)
        for index in 1...2 {
            XCTAssertEqual(Array(wire.frames[index][0..<6]), peerMAC.octets)
            let (ip, udp) = try wire.ipv4(index)
            XCTAssertEqual(ip.destination, peer)
            XCTAssertEqual(Array(udp[8..<12]), payload)
        }
        XCTAssertNil(interface.nextDeadline)
    }

    func testANeighbourThatNeverAnswersIsUnreachableAfterThreeRequests() {
        var interface = makeInterface()
        let wire = Wire()
        _ = [UInt8](repeating: 1, count: 4).withUnsafeBytes {
            interface.sendUDP($0, from: 4000, to: SocketAddress(peer, 7), now: 0, transmit: wire.transmit)
        }
        var now: UInt64 = 0
        while let deadline = interface.nextDeadline {
            now = deadline
            interface.poll(now: now, transmit: wire.transmit)
        }
        XCTAssertEqual(wire.frames.count, 3)
        XCTAssertEqual(now, 3_000_000_000)
        XCTAssertEqual(interface.counters.datagramsUnreachable, 1)
    }

    func testOffLinkDestinationsGoThroughTheGatewayOrNowhere() throws {
        let gateway = IPv4Address(10, 0, 0, 254)
        var routed = makeInterface(gateway: gateway)
        XCTAssertEqual(routed.nextHop(for: IPv4Address(192, 0, 2, 1)), gateway)
        XCTAssertEqual(routed.nextHop(for: peer), peer)
        XCTAssertEqual(routed.nextHop(for: IPv4Address(10, 0, 0, 255)), .broadcast)
        let wire = Wire()
        _ = [UInt8](repeating: 1, count: 4).withUnsafeBytes {
            routed.sendUDP(
                $0, from: 4000, to: SocketAddress(IPv4Address(192, 0, 2, 1), 53), now: 0,
                transmit: wire.transmit)
        }
        XCTAssertEqual(try wire.arp(0).targetProtocolAddress, gateway)

        var isolated = makeInterface()
        let outcome = [UInt8](repeating: 1, count: 4).withUnsafeBytes {
            isolated.sendUDP(
                $0, from: 4000, to: SocketAddress(IPv4Address(192, 0, 2, 1), 53), now: 0,
                transmit: wire.transmit)
        }
        XCTAssertEqual(outcome, .unreachable)
    }

    func testBroadcastsGoToTheBroadcastMACWithoutARP() throws {
        var interface = EthernetInterface(mac: ours)
        let wire = Wire()
        let outcome = [UInt8](repeating: 7, count: 300).withUnsafeBytes {
            interface.sendUDP(
                $0, from: 68, to: SocketAddress(.broadcast, 67), now: 0, transmit: wire.transmit)
        }
        XCTAssertEqual(outcome, .sent)
        XCTAssertEqual(Array(wire.frames[0][0..<6]), [0xff, 0xff, 0xff, 0xff, 0xff, 0xff])
        let (ip, _) = try wire.ipv4(0)
        XCTAssertEqual(ip.source, .unspecified)
    }

    func testUnconfiguredHostAcceptsUDPForDHCPButAnswersNoARP() {
        var interface = EthernetInterface(mac: ours)
        let wire = Wire()
        XCTAssertEqual(try interface.udp.bind(68), 68)
        receive(&interface, udpFrame(to: 68, destination: IPv4Address(10, 0, 0, 9), payload: [2]), wire)
        XCTAssertTrue(interface.udp.hasDatagram(on: 68))
        interface.announce(transmit: wire.transmit)
        XCTAssertTrue(wire.frames.isEmpty)
    }

    func testGratuitousARPAnnouncesTheAddress() throws {
        var interface = makeInterface()
        let wire = Wire()
        interface.announce(transmit: wire.transmit)
        let arp = try wire.arp(0)
        XCTAssertEqual(arp.operation, .request)
        XCTAssertEqual(arp.senderProtocolAddress, ourAddress)
        XCTAssertEqual(arp.targetProtocolAddress, ourAddress)
    }

    func testBusyDeviceIsReportedAndNothingCounted() {
        var interface = makeInterface()
        let wire = Wire()
        receive(&interface, arpReply(from: peer, mac: peerMAC), wire)
        wire.accepting = false
        let outcome = interface.sendIPv4(
            to: peer, protocol: .tcp, payloadLength: 20, now: 0, transmit: wire.transmit
        ) { $0.initializeMemory(as: UInt8.self, repeating: 0) }
        XCTAssertEqual(outcome, .deviceBusy)
        XCTAssertEqual(interface.counters.framesSent, 0)
        XCTAssertEqual(interface.counters.transmitFailures, 1)
    }
}
