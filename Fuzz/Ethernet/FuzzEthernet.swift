// libFuzzer target for the whole EthernetInterface (docs/fuzzing.md).
//
// The input is a sequence of frames, each given as
//
//     [seconds since the previous frame, in halves] [length: 2 bytes, big-endian] [frame]
//
// (a last frame shorter than its length takes the rest), received in turn
// by a fresh interface at 10.0.0.2/24, 02:00:00:00:00:02, so that state
// carried between frames (neighbours, fragments waiting for the rest) is
// exercised too. Frames are cut to 1514 bytes, the most an Ethernet device
// delivers. Every reply the interface transmits must fit in such a frame
// and parse back: an Ethernet header from our address, then an ARP reply,
// or an IPv4 packet from our address with a valid checksum (and, unless it
// is a fragment, an ICMP message with a valid checksum).
//
// TCP segments go on to a TCP layer listening on port 7 with a UDP port
// bound too, and the layer is polled after each frame, so the whole
// receive path of the direct stack (Ethernet, ARP, IPv4, reassembly, ICMP,
// UDP, TCP's state machine) sees the fuzzer's bytes; segments TCP sends go
// out through the interface as the stack sends them.

import Riad
import RiadNet

let ourMAC = MACAddress(0x02, 0, 0, 0, 0, 0x02)
let ourAddress = IPv4Address(10, 0, 0, 2)
let ourNetwork = IPv4CIDR(address: ourAddress, prefixLength: 24)!
let maximumFrameLength = 1514

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    var interface = EthernetInterface(mac: ourMAC, address: ourNetwork)
    var tcp = TCPLayer(seed: 1)
    let listener = try? tcp.listen(port: 7, backlog: 4)
    _ = try? interface.udp.bind(53)
    var now: UInt64 = 1_000_000_000
    var index = 0
    while index + 3 <= input.count {
        now += UInt64(input[index]) * 500_000_000
        let length = min(Int(input[index + 1]) << 8 | Int(input[index + 2]), maximumFrameLength)
        let start = index + 3
        let end = min(start + length, input.count)
        index = end
        // A copy of exactly the frame's bytes, so that a read past it is caught.
        let frame = UnsafeMutableRawBufferPointer.allocate(byteCount: end - start, alignment: 8)
        frame.copyMemory(from: UnsafeRawBufferPointer(rebasing: input[start..<end]))
        interface.receive(UnsafeRawBufferPointer(frame), now: now, transmit: transmitted) { segment, ip in
            tcp.receive(segment: segment, source: ip.source, destination: ip.destination, now: now)
        }
        frame.deallocate()
        // Accepted connections are read and closed, as a server would.
        while let listener, let connection = tcp.accept(listener) {
            _ = tcp.status(connection)
            tcp.close(connection)
        }
        tcp.poll(now: now) { _, destination, length, fill in
            interface.sendIPv4(
                to: destination, protocol: .tcp, payloadLength: length, now: now, transmit: transmitted,
                fill: fill)
                == .sent
        }
    }
    return 0
}

/// Stops the run, which libFuzzer records as a crash, if `condition` fails.
func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError("fuzz-ethernet: " + message()) }
}

/// The transmit closure: lends `length` bytes to `fill`, then checks the
/// reply it wrote.
func transmitted(_ length: Int, _ fill: (UnsafeMutableRawBufferPointer) -> Void) -> Bool {
    check(length >= 60 && length <= maximumFrameLength, "a reply of \(length) bytes")
    let frame = UnsafeMutableRawBufferPointer.allocate(byteCount: length, alignment: 8)
    defer { frame.deallocate() }
    frame.initializeMemory(as: UInt8.self, repeating: 0xa5)
    fill(frame)
    let bytes = UnsafeRawBufferPointer(frame)
    guard let ethernet = try? EthernetRepr.parse(bytes) else {
        check(false, "a reply without Ethernet")
        return false
    }
    check(ethernet.source == ourMAC, "a reply from \(ethernet.source)")
    let payload = UnsafeRawBufferPointer(rebasing: bytes[EthernetRepr.headerLength...])
    switch ethernet.etherType {
    case .arp:
        let arp = try? ARPRepr.parse(payload)
        check(
            (arp?.operation == .reply || arp?.operation == .request) && arp?.senderHardwareAddress == ourMAC
                && arp?.senderProtocolAddress == ourAddress,
            "an ARP reply that parses as \(String(describing: arp))")
    case .ipv4:
        guard let view = try? IPv4PacketView(checking: payload), let ip = try? IPv4Repr.parse(view) else {
            check(false, "an IPv4 reply that does not parse")
            return false
        }
        check(ip.source == ourAddress, "an IPv4 reply from \(ip.source)")
        if !ip.isFragment, ip.protocol == .tcp {
            let segment = try? TCPRepr.parse(view.payload, source: ip.source, destination: ip.destination)
            check(segment != nil, "a TCP segment that does not parse: \(ip)")
            return true
        }
        guard !ip.isFragment, ip.protocol == .icmp else { return true }
        let icmp = try? ICMPv4Repr.parse(view.payload)
        check(icmp != nil, "an ICMP reply that does not parse: \(ip)")
    default:
        check(false, "a reply of type \(ethernet.etherType)")
    }
    return true
}
