import Foundation
import Riad
import RiadNet
import XCTest

/// pcap files as Wireshark reads them: literal frames written with
/// PcapFormat, and the captures `--pcap` makes of a kernel being pinged.
/// Each frame must decode as the protocol it carries, with no malformed
/// packet and no bad checksum (checksum validation is turned on).
final class PcapTests: XCTestCase {
    /// tshark, or a failure naming the package to install.
    private func tshark() throws -> String {
        for candidate in ["/usr/bin/tshark", "/usr/local/bin/tshark", "/usr/sbin/tshark"]
        where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        throw TestFailure(
            description: "tshark is not installed: install the Debian package 'tshark' "
                + "(DEBIAN_FRONTEND=noninteractive apt-get install -y tshark)")
    }

    /// Checksum validation is off by default in Wireshark.
    private let checksumOptions = [
        "-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE",
    ]

    /// tshark's output for `arguments` on `file`; fails unless it exits 0.
    private func tshark(_ file: URL, _ arguments: [String]) throws -> String {
        let result = try Support.run(try tshark(), ["-n", "-r", file.path] + checksumOptions + arguments)
        guard result.status == 0 else {
            throw TestFailure(description: "tshark failed (\(result.status)): \(result.errors)")
        }
        return result.output
    }

    /// What tshark says is wrong with `file`: lines of its detailed output
    /// that report a malformed packet, a bad checksum or a dissector
    /// exception, and its summary of expert notes of warning level and up.
    private func problems(_ file: URL) throws -> (lines: [String], expert: String) {
        let verbose = try tshark(file, ["-V"])
        let lines = verbose.split(separator: "\n").map(String.init).filter { line in
            let lower = line.lowercased()
            return ["malformed", "status: bad", "incorrect", "exception"].contains { lower.contains($0) }
        }
        let expert = try tshark(file, ["-q", "-z", "expert,warn"])
        return (lines, expert)
    }

    /// Asserts that tshark finds nothing wrong with `file`.
    private func assertClean(_ file: URL, line: UInt = #line) throws {
        let (lines, expert) = try problems(file)
        XCTAssertEqual(lines, [], line: line)
        XCTAssertFalse(expert.contains("Errors ("), expert, line: line)
        XCTAssertFalse(expert.contains("Warns ("), expert, line: line)
    }

    private func temporaryFile(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("riad-\(getpid())-\(name).pcap")
    }

    // MARK: - Literal frames

    let host = MACAddress(0x02, 0x00, 0x00, 0x00, 0x00, 0x01)
    let kernel = MACAddress(0x02, 0x00, 0x00, 0x00, 0x00, 0x02)
    let hostAddress = IPv4Address(10, 0, 0, 1)
    let kernelAddress = IPv4Address(10, 0, 0, 2)

    /// An Ethernet frame of `payloadLength` bytes filled by `fill`, padded
    /// to 60 bytes.
    private func frame(
        from source: MACAddress, to destination: MACAddress, _ type: EtherType, payloadLength: Int,
        _ fill: (UnsafeMutableRawBufferPointer) -> Void
    ) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: max(60, EthernetRepr.headerLength + payloadLength))
        bytes.withUnsafeMutableBytes { raw in
            EthernetRepr(source: source, destination: destination, etherType: type).emit(into: raw)
            let start = EthernetRepr.headerLength
            fill(UnsafeMutableRawBufferPointer(rebasing: raw[start..<start + payloadLength]))
        }
        return bytes
    }

    /// An IPv4 datagram in a frame; `fill` writes its payload.
    private func ipv4(
        _ ip: IPv4Repr, from source: MACAddress, to destination: MACAddress,
        _ fill: (UnsafeMutableRawBufferPointer) -> Void
    ) -> [UInt8] {
        frame(from: source, to: destination, .ipv4, payloadLength: ip.bufferLength) { packet in
            fill(UnsafeMutableRawBufferPointer(rebasing: packet[IPv4Repr.headerLength...]))
            ip.emit(into: packet)
        }
    }

    private func arp(_ operation: ARPOperation) -> [UInt8] {
        let request = operation == .request
        let repr = ARPRepr(
            operation: operation, senderHardwareAddress: request ? host : kernel,
            senderProtocolAddress: request ? hostAddress : kernelAddress,
            targetHardwareAddress: request ? MACAddress(rawValue: 0) : host,
            targetProtocolAddress: request ? kernelAddress : hostAddress)
        return frame(
            from: repr.senderHardwareAddress, to: request ? .broadcast : host, .arp,
            payloadLength: ARPRepr.bufferLength
        ) { repr.emit(into: $0) }
    }

    private func echo(reply: Bool) -> [UInt8] {
        let message: ICMPv4Message =
            reply
            ? .echoReply(identifier: 0x1234, sequenceNumber: 1)
            : .echoRequest(identifier: 0x1234, sequenceNumber: 1)
        let icmp = ICMPv4Repr(message: message, dataLength: 56)
        let ip = IPv4Repr(
            source: reply ? kernelAddress : hostAddress, destination: reply ? hostAddress : kernelAddress,
            protocol: .icmp, payloadLength: icmp.bufferLength, identification: reply ? 7 : 0x4d2)
        return ipv4(ip, from: reply ? kernel : host, to: reply ? host : kernel) { bytes in
            for index in 0..<56 { bytes[icmp.dataOffset + index] = UInt8(index) }
            icmp.emit(into: bytes)
        }
    }

    /// A UDP datagram from the kernel's port `from` to the host's `to`,
    /// or the other way, carrying `payload`.
    private func udp(
        fromKernel: Bool, ports: (UInt16, UInt16), payloadLength: Int,
        _ fill: (UnsafeMutableRawBufferPointer) -> Void
    ) -> [UInt8] {
        let source = fromKernel ? kernelAddress : hostAddress
        let destination = fromKernel ? hostAddress : kernelAddress
        let udp = UDPRepr(sourcePort: ports.0, destinationPort: ports.1, payloadLength: payloadLength)
        let ip = IPv4Repr(
            source: source, destination: destination, protocol: .udp, payloadLength: udp.bufferLength)
        return ipv4(ip, from: fromKernel ? kernel : host, to: fromKernel ? host : kernel) { bytes in
            fill(UnsafeMutableRawBufferPointer(rebasing: bytes[UDPRepr.headerLength...]))
            udp.emit(into: bytes, source: source, destination: destination)
        }
    }

    private func dnsQuery() throws -> [UInt8] {
        let query = try DNSQuery(id: 0x4a5b, name: "example.com")
        return udp(fromKernel: true, ports: (49152, 53), payloadLength: query.bufferLength) {
            query.emit(into: $0)
        }
    }

    /// The answer: example.com A 93.184.216.34, TTL 300.
    private func dnsResponse() -> [UInt8] {
        let message: [UInt8] = [
            0x4a, 0x5b, 0x81, 0x80, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x07, 0x65, 0x78, 0x61,
            0x6d, 0x70, 0x6c, 0x65, 0x03, 0x63, 0x6f, 0x6d, 0x00, 0x00, 0x01, 0x00, 0x01, 0xc0, 0x0c, 0x00,
            0x01, 0x00, 0x01, 0x00, 0x00, 0x01, 0x2c, 0x00, 0x04, 0x5d, 0xb8, 0xd8, 0x22,
        ]
        return udp(fromKernel: false, ports: (53, 49152), payloadLength: message.count) { bytes in
            bytes.copyBytes(from: message)
        }
    }

    private func tcpHandshake(synAck: Bool) -> [UInt8] {
        var options = TCPOptions()
        options.maximumSegmentSize = 1460
        options.windowScale = 7
        options.sackPermitted = true
        options.timestamps = TCPTimestamps(value: 1000, echoReply: synAck ? 500 : 0)
        let tcp = TCPRepr(
            sourcePort: synAck ? 80 : 49153, destinationPort: synAck ? 49153 : 80,
            sequenceNumber: TCPSeqNumber(rawValue: synAck ? 0x9000_0000 : 0x1000),
            acknowledgmentNumber: synAck ? TCPSeqNumber(rawValue: 0x1001) : nil,
            flags: synAck ? [.syn, .ack] : .syn, window: 64240, options: options)
        let source = synAck ? hostAddress : kernelAddress
        let destination = synAck ? kernelAddress : hostAddress
        let ip = IPv4Repr(
            source: source, destination: destination, protocol: .tcp, payloadLength: tcp.bufferLength,
            dontFragment: true)
        return ipv4(ip, from: synAck ? host : kernel, to: synAck ? kernel : host) { bytes in
            tcp.emit(into: bytes, source: source, destination: destination)
        }
    }

    /// The DISCOVER RiadNet's DHCP client sends, from 0.0.0.0 to broadcast.
    private func dhcpDiscover() throws -> [UInt8] {
        var client = DHCPClient(mac: kernel, seed: 1, hostname: "riad")
        client.start(now: 0)
        var message: [UInt8] = []
        client.poll(now: 0) { _, capacity, fill in
            message = [UInt8](repeating: 0, count: capacity)
            let length = message.withUnsafeMutableBytes { fill($0) }
            message.removeLast(capacity - length)
        }
        let udp = UDPRepr(sourcePort: 68, destinationPort: 67, payloadLength: message.count)
        let ip = IPv4Repr(
            source: .unspecified, destination: .broadcast, protocol: .udp, payloadLength: udp.bufferLength)
        return ipv4(ip, from: kernel, to: .broadcast) { bytes in
            UnsafeMutableRawBufferPointer(rebasing: bytes[UDPRepr.headerLength...]).copyBytes(from: message)
            udp.emit(into: bytes, source: .unspecified, destination: .broadcast)
        }
    }

    /// Writes `frames` to a pcap file, one millisecond apart from a fixed
    /// time.
    private func write(_ frames: [[UInt8]], format: PcapFormat, to file: URL) throws {
        var bytes = [UInt8](repeating: 0, count: PcapFormat.fileHeaderLength)
        bytes.withUnsafeMutableBytes { format.writeFileHeader(into: $0) }
        for (index, frame) in frames.enumerated() {
            var record = [UInt8](repeating: 0, count: PcapFormat.recordHeaderLength)
            let captured = record.withUnsafeMutableBytes {
                format.writeRecordHeader(
                    into: $0, nanosecondsSinceEpoch: 1_704_164_645_000_000_000 + UInt64(index) * 1_000_000,
                    frameLength: frame.count)
            }
            bytes += record + frame[..<captured]
        }
        try Data(bytes).write(to: file)
    }

    func testLiteralFramesDecode() throws {
        let frames = [
            arp(.request), arp(.reply), echo(reply: false), echo(reply: true), try dnsQuery(), dnsResponse(),
            tcpHandshake(synAck: false), tcpHandshake(synAck: true), try dhcpDiscover(),
        ]
        let expected = [
            "eth:ethertype:arp", "eth:ethertype:arp", "eth:ethertype:ip:icmp:data",
            "eth:ethertype:ip:icmp:data",
            "eth:ethertype:ip:udp:dns", "eth:ethertype:ip:udp:dns", "eth:ethertype:ip:tcp",
            "eth:ethertype:ip:tcp",
            "eth:ethertype:ip:udp:dhcp",
        ]
        for precision in [PcapFormat.Precision.microseconds, .nanoseconds] {
            let file = temporaryFile("literal")
            defer { try? FileManager.default.removeItem(at: file) }
            try write(frames, format: PcapFormat(precision: precision), to: file)
            let fields = try tshark(
                file, ["-T", "fields", "-e", "frame.protocols", "-e", "frame.time_epoch", "-e", "frame.len"])
            let rows = fields.split(separator: "\n").map { $0.split(separator: "\t").map(String.init) }
            XCTAssertEqual(rows.map { $0.first ?? "" }, expected, fields)
            XCTAssertEqual(rows.first?[1], "1704164645.000000000")
            XCTAssertEqual(rows.last?[1], "1704164645.008000000")
            XCTAssertEqual(rows.map { Int($0.last ?? "") }, frames.map(\.count))

            // What each frame is, as tshark sums it up.
            let summary = try tshark(file, [])
            for text in [
                "Who has 10.0.0.2? Tell 10.0.0.1", "10.0.0.2 is at 02:00:00:00:00:02",
                "Echo (ping) request  id=0x1234, seq=1/256", "Echo (ping) reply    id=0x1234, seq=1/256",
                "Standard query 0x4a5b A example.com",
                "Standard query response 0x4a5b A example.com A 93.184.216.34",
                "49153 → 80 [SYN] Seq=0 Win=64240 Len=0 MSS=1460 SACK_PERM TSval=1000 TSecr=0 WS=128",
                "80 → 49153 [SYN, ACK] Seq=0 Ack=1 Win=64240 Len=0 MSS=1460 SACK_PERM TSval=1000 TSecr=500 WS=128",
                "DHCP Discover - Transaction ID",
            ] {
                XCTAssertTrue(summary.contains(text), "\(text) not in:\n\(summary)")
            }
            try assertClean(file)
        }
    }

    func testABadChecksumIsNoticed() throws {
        // The check above would pass on anything if validation were off.
        var broken = echo(reply: false)
        broken[14 + 10] ^= 0xff  // the IPv4 header checksum
        let file = temporaryFile("broken")
        defer { try? FileManager.default.removeItem(at: file) }
        try write([broken], format: PcapFormat(), to: file)
        let (lines, expert) = try problems(file)
        XCTAssertTrue(lines.contains { $0.contains("[Header checksum status: Bad]") }, "\(lines)")
        XCTAssertTrue(expert.contains("Errors ("), expert)
    }

    // MARK: - A kernel's capture

    /// Pings the ping kernel on a fresh tap with `--pcap`, and checks the
    /// capture: the ARP exchange and three echo requests and replies, all
    /// well formed.
    private func checkCapture(
        _ command: (_ tap: String, _ pcap: URL, _ arguments: [String]) -> (String, [String])
    ) throws {
        try XCTSkipUnless(getuid() == 0, "tap devices need root")
        try XCTSkipUnless(access("/dev/net/tun", R_OK | W_OK) == 0, "/dev/net/tun is missing")
        _ = try tshark()
        let subnet = Int(getpid() % 200) + 20
        let tap = "riadc\(getpid() % 10000)"
        let file = temporaryFile("ping")
        defer { try? FileManager.default.removeItem(at: file) }
        try Support.run("/sbin/ip", ["tuntap", "add", "dev", tap, "mode", "tap"]).check()
        defer { _ = try? Support.run("/sbin/ip", ["link", "del", tap]) }
        try Support.run("/sbin/ip", ["addr", "add", "10.78.\(subnet).1/24", "dev", tap]).check()
        try Support.run("/sbin/ip", ["link", "set", tap, "up"]).check()

        let (executable, arguments) = command(tap, file, ["--ipv4=10.78.\(subnet).2/24", "--replies=3"])
        let kernel = Process()
        kernel.executableURL = URL(fileURLWithPath: executable)
        kernel.arguments = arguments
        let output = Pipe()
        kernel.standardOutput = output
        try kernel.run()
        defer { if kernel.isRunning { kernel.terminate() } }
        // Linux drops what it sends to a tap nobody has opened.
        let carrierDeadline = Date().addingTimeInterval(30)
        while kernel.isRunning && Date() < carrierDeadline {
            let carrier = try? String(contentsOfFile: "/sys/class/net/\(tap)/carrier", encoding: .utf8)
            if carrier?.hasPrefix("1") == true { break }
            usleep(10_000)
        }
        let ping = try Support.run(
            "/bin/ping", ["-c", "3", "-i", "0.2", "-W", "5", "10.78.\(subnet).2"], timeout: 60)
        let deadline = Date().addingTimeInterval(10)
        while kernel.isRunning && Date() < deadline { usleep(10_000) }
        if kernel.isRunning { kernel.terminate() }
        kernel.waitUntilExit()
        let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(ping.status, 0, ping.output + ping.errors)
        XCTAssertEqual(kernel.terminationStatus, 0, printed)

        let echoes = try tshark(file, ["-Y", "icmp", "-T", "fields", "-e", "icmp.type", "-e", "ip.src"])
        let rows = echoes.split(separator: "\n").map(String.init)
        XCTAssertEqual(rows.filter { $0 == "8\t10.78.\(subnet).1" }.count, 3, echoes)
        XCTAssertEqual(rows.filter { $0 == "0\t10.78.\(subnet).2" }.count, 3, echoes)
        let arp = try tshark(file, ["-Y", "arp.opcode == 2", "-T", "fields", "-e", "arp.src.proto_ipv4"])
        XCTAssertTrue(arp.contains("10.78.\(subnet).2"), "the kernel's ARP reply is missing:\n\(arp)")
        try assertClean(file)
    }

    // MARK: - Mistakes

    /// `run(tap, file, …)` for each mistake must exit 1 with its message.
    private func checkRefusals(
        _ run: (_ options: [String], _ hello: Bool) throws -> Support.Result
    ) throws {
        let tap = "riadr\(getpid() % 10000)"
        try Support.run("/sbin/ip", ["tuntap", "add", "dev", tap, "mode", "tap"]).check()
        defer { _ = try? Support.run("/sbin/ip", ["link", "del", tap]) }
        let cases: [([String], Bool, String)] = [
            (["--pcap:service="], true, "--pcap:service=: the value is empty"),
            (["--pcap:service=a.pcap", "--pcap:service=b.pcap"], true, "device 'service' is captured twice"),
            (["--pcap:service=a.pcap"], true, "--pcap:service given, but no --net:service=IFACE"),
            (
                ["--net:service=\(tap)", "--pcap:service=/nonexistent/riad/a.pcap"], false,
                "--pcap:service=/nonexistent/riad/a.pcap: cannot create"
            ),
        ]
        for (options, hello, message) in cases {
            let result = try run(options, hello)
            XCTAssertEqual(result.status, 1, "\(options)")
            XCTAssertTrue(result.errors.contains(message), "\(options): \(result.errors)")
        }
    }

    func testOptionMistakesAreRefusedOnHvt() throws {
        try XCTSkipUnless(getuid() == 0, "tap devices need root")
        try Support.requireKVM()
        let hello = try Support.kernel("hello", examples: true)
        let ping = try Support.kernel("ping")
        try checkRefusals { options, isHello in try Support.boot(isHello ? hello : ping, tender: options) }
    }

    func testOptionMistakesAreRefusedOnUnix() throws {
        try XCTSkipUnless(getuid() == 0, "tap devices need root")
        let hello = try Support.unixKernel("hello", examples: true)
        let ping = try Support.unixKernel("ping")
        try checkRefusals { options, isHello in
            try Support.run((isHello ? hello : ping).path, options + ["--"])
        }
    }

    func testCaptureOnHvt() throws {
        try Support.requireKVM()
        let image = try Support.kernel("ping")
        try checkCapture { tap, pcap, arguments in
            (Support.tender, ["--net:service=\(tap)", "--pcap:service=\(pcap.path)", image.path] + arguments)
        }
    }

    func testCaptureOnUnix() throws {
        let executable = try Support.unixKernel("ping")
        try checkCapture { tap, pcap, arguments in
            (executable.path, ["--net:service=\(tap)", "--pcap:service=\(pcap.path)", "--"] + arguments)
        }
    }
}
