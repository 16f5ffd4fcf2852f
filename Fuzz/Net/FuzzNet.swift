// libFuzzer target for every RiadNet wire-format parser (docs/fuzzing.md).
//
// The first input byte chooses the parser (modulo the number of parsers),
// so one corpus covers them all; the rest is the packet. No parser may trap
// on any input. Whatever parses is also described, emitted again and
// parsed back: the second parse must succeed and give the same value
// (checksums are not verified on the first parse, so that mutated inputs
// get past them; the emitted copy's checksums are).

import Riad
import RiadNet

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let bytes = UnsafeRawBufferPointer(start: data + 1, count: size - 1)
    switch data[0] % 12 {
    case 0: fuzzEthernet(bytes)
    case 1: fuzzARP(bytes)
    case 2: fuzzIPv4(bytes)
    case 3: fuzzICMPv4(bytes)
    case 4: fuzzUDP(bytes)
    case 5: fuzzTCP(bytes)
    case 6: fuzzTCPOptions(bytes)
    case 7: fuzzDHCP(bytes)
    case 8: fuzzDNSHeader(bytes)
    case 9: fuzzDNSResponse(bytes)
    case 10: fuzzText(bytes)
    default: fuzzVirtioNetHeader(bytes)
    }
    return 0
}

/// Stops the run, which libFuzzer records as a crash, if `condition` fails.
func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError("fuzz-net: " + message()) }
}

/// Runs `body` on `count` fresh bytes, filled with a pattern rather than
/// zeros so that a field left unwritten shows.
func withScratch<R>(_ count: Int, _ body: (UnsafeMutableRawBufferPointer) -> R) -> R {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 8)
    defer { buffer.deallocate() }
    buffer.initializeMemory(as: UInt8.self, repeating: 0xa5)
    return body(buffer)
}

let source = IPv4Address(10, 0, 0, 1)
let destination = IPv4Address(10, 0, 0, 2)

func fuzzEthernet(_ bytes: UnsafeRawBufferPointer) {
    guard let repr = try? EthernetRepr.parse(bytes) else { return }
    _ = repr.description
    withScratch(EthernetRepr.headerLength) { out in
        repr.emit(into: out)
        let again = try? EthernetRepr.parse(UnsafeRawBufferPointer(out))
        check(again == repr, "Ethernet \(repr) came back as \(String(describing: again))")
    }
}

func fuzzARP(_ bytes: UnsafeRawBufferPointer) {
    guard let repr = try? ARPRepr.parse(bytes) else { return }
    _ = repr.description
    withScratch(ARPRepr.bufferLength) { out in
        repr.emit(into: out)
        let again = try? ARPRepr.parse(UnsafeRawBufferPointer(out))
        check(again == repr, "ARP \(repr) came back as \(String(describing: again))")
    }
}

func fuzzIPv4(_ bytes: UnsafeRawBufferPointer) {
    _ = try? IPv4Repr.parse(bytes)
    guard let view = try? IPv4PacketView(checking: bytes) else { return }
    _ = view.options.count
    guard let repr = try? IPv4Repr.parse(view, verifyChecksum: false) else { return }
    _ = repr.description
    check(
        view.payload.count == repr.payloadLength,
        "IPv4 \(repr): the view's payload has \(view.payload.count) bytes")
    withScratch(repr.bufferLength) { out in
        repr.emit(into: out)
        let again = try? IPv4Repr.parse(UnsafeRawBufferPointer(out))
        check(again == repr, "IPv4 \(repr) came back as \(String(describing: again))")
    }
}

func fuzzICMPv4(_ bytes: UnsafeRawBufferPointer) {
    _ = try? ICMPv4Repr.parse(bytes)
    guard let repr = try? ICMPv4Repr.parse(bytes, verifyChecksum: false) else { return }
    _ = repr.description
    // The data does not change what parses; zeros stand in for it.
    withScratch(repr.bufferLength) { out in
        UnsafeMutableRawBufferPointer(rebasing: out[repr.dataOffset...]).initializeMemory(
            as: UInt8.self, repeating: 0)
        repr.emit(into: out)
        let again = try? ICMPv4Repr.parse(UnsafeRawBufferPointer(out))
        check(again == repr, "ICMP \(repr) came back as \(String(describing: again))")
    }
}

func fuzzUDP(_ bytes: UnsafeRawBufferPointer) {
    _ = try? UDPRepr.parse(bytes, source: source, destination: destination)
    guard let view = try? UDPDatagramView(checking: bytes),
        let repr = try? UDPRepr.parse(view, source: source, destination: destination, verifyChecksum: false)
    else { return }
    _ = repr.description
    check(
        view.payload.count == repr.payloadLength,
        "UDP \(repr): the view's payload has \(view.payload.count) bytes")
    withScratch(repr.bufferLength) { out in
        UnsafeMutableRawBufferPointer(rebasing: out[UDPRepr.headerLength...]).copyMemory(from: view.payload)
        repr.emit(into: out, source: source, destination: destination)
        let again = try? UDPRepr.parse(UnsafeRawBufferPointer(out), source: source, destination: destination)
        check(again == repr, "UDP \(repr) came back as \(String(describing: again))")
    }
}

/// The options `emit` writes for `options`: the SACK blocks that fit.
func emitted(_ options: TCPOptions) -> TCPOptions {
    var expected = options
    expected.sackBlocks = TCPSACKBlocks()
    for block in options.sackBlocks.prefix(options.emittedSACKBlockCount) {
        expected.sackBlocks.append(block)
    }
    return expected
}

func fuzzTCP(_ bytes: UnsafeRawBufferPointer) {
    _ = try? TCPRepr.parse(bytes, source: source, destination: destination)
    guard
        let repr = try? TCPRepr.parse(bytes, source: source, destination: destination, verifyChecksum: false)
    else { return }
    _ = repr.description
    _ = repr.segmentLength
    check(
        repr.payload.lowerBound >= 20 && repr.payload.upperBound == bytes.count,
        "TCP \(repr): payload \(repr.payload) in \(bytes.count) bytes")
    let payload = UnsafeRawBufferPointer(rebasing: bytes[repr.payload])
    withScratch(repr.headerLength + payload.count) { out in
        let length = repr.emit(into: out, payload: payload, source: source, destination: destination)
        check(length == out.count, "TCP \(repr): emitted \(length) of \(out.count) bytes")
        guard
            let again = try? TCPRepr.parse(
                UnsafeRawBufferPointer(out), source: source, destination: destination)
        else { return check(false, "TCP \(repr) does not parse back") }
        check(
            again.sourcePort == repr.sourcePort && again.destinationPort == repr.destinationPort
                && again.sequenceNumber == repr.sequenceNumber
                && again.acknowledgmentNumber == repr.acknowledgmentNumber && again.flags == repr.flags
                && again.window == repr.window && again.urgentPointer == repr.urgentPointer
                && again.options == emitted(repr.options) && again.payload.count == repr.payload.count,
            "TCP \(repr) came back as \(again)")
    }
}

func fuzzTCPOptions(_ bytes: UnsafeRawBufferPointer) {
    guard let options = try? TCPOptions.parse(bytes) else { return }
    let length = options.encodedLength
    check(
        length % 4 == 0 && length <= TCPOptions.maximumLength,
        "TCP options \(options) encode in \(length) bytes")
    withScratch(length) { out in
        options.emit(into: out)
        let again = try? TCPOptions.parse(UnsafeRawBufferPointer(out))
        check(again == emitted(options), "TCP options \(options) came back as \(String(describing: again))")
    }
}

func fuzzDHCP(_ bytes: UnsafeRawBufferPointer) {
    guard let repr = try? DHCPRepr.parse(bytes) else { return }
    _ = repr.description
    withScratch(repr.bufferLength) { out in
        let length = repr.emit(into: out)
        check(length == out.count, "DHCP \(repr): emitted \(length) of \(out.count) bytes")
        let again = try? DHCPRepr.parse(UnsafeRawBufferPointer(out))
        check(again == repr, "DHCP \(repr) came back as \(String(describing: again))")
    }
}

func fuzzDNSHeader(_ bytes: UnsafeRawBufferPointer) {
    guard let header = try? DNSHeader.parse(bytes) else { return }
    withScratch(DNSMessage.headerLength) { out in
        header.emit(into: out)
        let again = try? DNSHeader.parse(UnsafeRawBufferPointer(out))
        check(again == header, "DNS header \(header) came back as \(String(describing: again))")
    }
}

func fuzzDNSResponse(_ bytes: UnsafeRawBufferPointer) {
    if let response = try? DNSResponse.parse(bytes) {
        _ = response.description
        check(
            response.addresses.count <= response.header.answerCount,
            "DNS response \(response): more addresses than answers")
    }
    // As the answer to a query for a fixed name, with the response's id.
    guard bytes.count >= 2,
        let query = try? DNSQuery(id: UInt16(bytes[0]) << 8 | UInt16(bytes[1]), name: "example.com")
    else { return }
    _ = try? DNSResponse.parse(bytes, for: query)
}

func fuzzText(_ bytes: UnsafeRawBufferPointer) {
    if let address = IPv4Address(utf8: bytes) {
        check(
            address.description.utf8.elementsEqual(bytes),
            "IPv4 address \(address) parsed from other text")
    }
    if let cidr = IPv4CIDR(utf8: bytes) {
        check(IPv4CIDR(cidr.description) == cidr, "IPv4 CIDR \(cidr) does not parse back")
    }
    let name = String(decoding: bytes, as: UTF8.self)
    guard let query = try? DNSQuery(id: 0x1234, name: name) else { return }
    _ = query.description
    withScratch(query.bufferLength) { out in
        let length = query.emit(into: out)
        check(length == out.count, "DNS query for \(name): emitted \(length) of \(out.count) bytes")
        let header = try? DNSHeader.parse(UnsafeRawBufferPointer(out))
        check(
            header?.id == 0x1234 && header?.questionCount == 1 && header?.isResponse == false,
            "DNS query for \(name) has the header \(String(describing: header))")
        // The query's own bytes with QR set: a response asking its question.
        out[2] |= 0x80
        _ = try? DNSResponse.parse(UnsafeRawBufferPointer(out), for: query)
    }
}

/// A virtio-net header and the frame after it, as a host with offloads
/// hands them over: whatever parses stays inside the frame, and emits and
/// parses back to itself.
func fuzzVirtioNetHeader(_ bytes: UnsafeRawBufferPointer) {
    guard let header = try? VirtioNetHeader.parse(bytes) else { return }
    let frame = bytes.count - VirtioNetHeader.length
    if header.flags & VirtioNetHeader.needsChecksum != 0 {
        check(
            Int(header.checksumStart) + Int(header.checksumOffset) + 2 <= frame,
            "a checksum at \(header.checksumStart)+\(header.checksumOffset) in a \(frame)-byte frame")
    }
    if header.gsoType != VirtioNetHeader.gsoNone {
        check(header.gsoSize > 0 && Int(header.headerLength) <= frame, "GSO header \(header)")
    }
    withScratch(bytes.count) { out in
        out.copyMemory(from: bytes)
        header.emit(into: out)
        let again = try? VirtioNetHeader.parse(UnsafeRawBufferPointer(out))
        check(again == header, "virtio-net header \(header) came back as \(String(describing: again))")
    }
}
