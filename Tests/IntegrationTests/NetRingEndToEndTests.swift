import Foundation
import XCTest

/// The net ring end to end: frames by hypercall with `--net-ring=off` and
/// by ring with it on (`--stats` says which), Riad's ring client under a
/// burst, and both directions of interoperation with upstream Solo5 where
/// SOLO5_DIR names a built Solo5 checkout.
final class NetRingEndToEndTests: XCTestCase {
    override func setUp() async throws {
        try Support.requireKVM()
        try TapFixture.requireTap()
    }

    // MARK: Fallback: --net-ring=off

    /// The echo example with the ring refused: TCP over NET_READ and
    /// NET_WRITE, 4 MB each way, hashes equal.
    func testEchoWithoutTheRing() throws {
        for tool in ["/bin/nc", "/usr/bin/sha256sum", "/usr/bin/head"] {
            try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: tool), "\(tool) is missing")
        }
        let tap = try TapFixture(prefix: "riadrf", subnet: 83)
        try startEcho(hvt: true, tap: tap, options: ["--net-ring=off"])
        try echo(try randomFile(megabytes: 4), through: tap)
    }

    /// The ping kernel exits after `--replies`, and its statistics show
    /// which path the frames took.
    func testStatisticsShowTheHypercallPathWithTheRingOff() throws {
        let stats = try pingWithStatistics(options: ["--net-ring=off"], prefix: "riadro", subnet: 84)
        XCTAssertEqual(stats.sentByRing, 0, stats.text)
        XCTAssertEqual(stats.receivedByRing, 0, stats.text)
        // An ARP reply and three echo replies; an ARP request and three
        // echo requests (and whatever else Linux sends on a new link).
        XCTAssertGreaterThanOrEqual(stats.sentByHypercall, 4, stats.text)
        XCTAssertGreaterThanOrEqual(stats.receivedByHypercall, 4, stats.text)
        XCTAssertTrue(stats.text.contains(" NET_WRITE"), stats.text)
        XCTAssertTrue(stats.text.contains(" NET_READ"), stats.text)
    }

    /// A lone ping while the ring's I/O thread sleeps goes by hypercall
    /// (runtime/net.c: cheaper than waking the thread), so the ring shows
    /// with a stream: the echo example moving 4 MB each way, stopped with
    /// SIGTERM, after which riad-hvt prints its statistics. Nearly every
    /// frame goes by ring; a few go by hypercall (at most four between two
    /// waits, while the thread sleeps).
    func testStatisticsShowTheRingPathWithTheRingOn() throws {
        for tool in ["/bin/nc", "/usr/bin/sha256sum", "/usr/bin/head"] {
            try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: tool), "\(tool) is missing")
        }
        let tap = try TapFixture(prefix: "riadrn", subnet: 85)
        try startEcho(hvt: true, tap: tap, options: ["--stats"])
        try echo(try randomFile(megabytes: 4), through: tap)
        let output = tap.stop()
        XCTAssertTrue(output.contains("riad-hvt: exiting on signal 15"), output)
        let stats = try Statistics(output)
        XCTAssertGreaterThan(stats.sentByRing, 100, stats.text)
        XCTAssertGreaterThan(stats.receivedByRing, 100, stats.text)
        XCTAssertLessThan(stats.sentByHypercall, stats.sentByRing, stats.text)
        XCTAssertLessThan(stats.receivedByHypercall, stats.receivedByRing, stats.text)
    }

    /// Offloads stay on a tap after the tender that set them exits: a
    /// kernel without offload on the same tap next must still get whole,
    /// checksummed frames (riad-hvt clears them when it opens a tap
    /// without). 2 MB each way after a kernel with offload moved 2 MB.
    func testATapKeepsNoOffloadsFromItsLastUser() throws {
        for tool in ["/bin/nc", "/usr/bin/sha256sum", "/usr/bin/head"] {
            try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: tool), "\(tool) is missing")
        }
        let tap = try TapFixture(prefix: "riadrs", subnet: 96)
        try startEcho(hvt: true, tap: tap)
        try echo(try randomFile(megabytes: 2), through: tap)
        tap.stop()
        _ = try? Support.run("/sbin/ip", ["neigh", "flush", "dev", tap.name])
        try startEcho(hvt: true, tap: tap, options: ["--net-offload=off"])
        try echo(try randomFile(megabytes: 2), through: tap)
    }

    /// Runs the ping kernel under `riad-hvt --stats` with `options`, pings
    /// it three times and waits for it to exit by itself; returns what
    /// `--stats` printed.
    private func pingWithStatistics(options: [String], prefix: String, subnet: Int) throws -> Statistics {
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/bin/ping"), "ping is missing")
        let image = try Support.kernel("ping")
        let tap = try TapFixture(prefix: prefix, subnet: subnet)
        try tap.start(
            Support.tender,
            ["--stats"] + options + [
                "--net:service=\(tap.name)", image.path, "--ipv4=\(tap.kernelAddress)/24", "--replies=3",
            ])
        let ping = try Support.run(
            "/bin/ping", ["-c", "3", "-i", "0.2", "-W", "5", tap.kernelAddress], timeout: 60)
        XCTAssertEqual(ping.status, 0, ping.output + ping.errors)
        let status = try waitForExit(tap)
        let output = tap.output
        XCTAssertEqual(status, 0, output)
        XCTAssertTrue(output.contains("3 echo replies"), output)
        return try Statistics(output)
    }

    // MARK: Riad's ring client with the ring full

    /// hostile-ring's `small-frame-burst`: the kernel (runtime/net.c, as
    /// any Riad kernel) grows its batch of reads to 32, then 20 times
    /// sends 3000 small frames as fast as it can, which outruns the
    /// tender's I/O thread and fills the ring (1022 entries outstanding),
    /// and posts a batch of 32 reads behind them. Every frame sent must
    /// leave by the ring, and the host's 800 numbered frames must arrive in
    /// order, none twice, with no protocol violation.
    func testReadsPostedIntoAFullRingKeepTheProtocol() throws {
        let (status, output) = try burst(options: [], prefix: "riadrb", subnet: 86)
        XCTAssertFalse(output.contains("broke the net ring's protocol"), output)
        XCTAssertEqual(status, 0, output)
        XCTAssertTrue(output.contains("received 800 frames\nin order"), output)
        if let stats = try? Statistics(output) {
            XCTAssertEqual(stats.sentByRing, 60000, "frames the kernel sent that never left: \(stats.text)")
        }
    }

    /// The same by hypercall (`--net-ring=off`): the workload itself is
    /// sound.
    func testTheSameBurstByHypercall() throws {
        let (status, output) = try burst(options: ["--net-ring=off"], prefix: "riadrh", subnet: 88)
        XCTAssertEqual(status, 0, output)
        XCTAssertTrue(output.contains("received 800 frames\nin order"), output)
        let stats = try Statistics(output)
        XCTAssertEqual(stats.sentByHypercall, 60000, stats.text)
        XCTAssertEqual(stats.sentByRing, 0, stats.text)
    }

    /// Runs `small-frame-burst` under `riad-hvt --stats` with `options`,
    /// sends it 800 numbered frames and waits for it to exit.
    private func burst(options: [String], prefix: String, subnet: Int) throws -> (Int32, String) {
        let image = try Support.kernel("hostile-ring")
        let tap = try TapFixture(prefix: prefix, subnet: subnet)
        let socket = try PacketSocket(interface: tap.name)
        defer { socket.close() }
        try tap.start(
            Support.tender,
            ["--stats", "--mem=32"] + options + [
                "--net:service=\(tap.name)", image.path, "--case=small-frame-burst",
            ])
        try tap.waitForOutput(containing: "ready")
        var frame = [UInt8](repeating: 0, count: 60)
        frame.replaceSubrange(0..<6, with: [0xff, 0xff, 0xff, 0xff, 0xff, 0xff])
        frame.replaceSubrange(6..<12, with: [0x02, 0, 0, 0, 0, 0x01])
        frame[12] = 0x88
        frame[13] = 0xb5
        for number in 0..<800 {
            frame[14] = UInt8(number >> 8)
            frame[15] = UInt8(number & 0xff)
            try socket.send(frame)
        }
        let status = try waitForExit(tap)
        return (status, tap.output)
    }

    // MARK: Interoperation with upstream Solo5

    /// A built Solo5 checkout, from SOLO5_DIR.
    private func solo5() throws -> URL {
        let path = ProcessInfo.processInfo.environment["SOLO5_DIR"] ?? ""
        try XCTSkipIf(path.isEmpty, "SOLO5_DIR is not set: set it to a built Solo5 checkout (0.11 or later)")
        return URL(fileURLWithPath: path)
    }

    /// Solo5's own ring test kernel under riad-hvt: an ICMP echo server at
    /// 10.0.0.2 on `service0` that checks every request's payload and exits
    /// with SUCCESS after 10000. Its address is fixed, so it runs in a
    /// network namespace of its own, where 10.0.0.0/24 is nobody else's.
    func testSolo5RingKernelUnderRiadHvt() throws {
        let kernel = try solo5().appendingPathComponent("tests/test_net_ring/test_net_ring.hvt")
        try XCTSkipUnless(
            FileManager.default.fileExists(atPath: kernel.path),
            "\(kernel.path) is missing: build Solo5's tests")
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: "/bin/ping"), "ping is missing")
        let namespace = try NetworkNamespace(name: "riadns\(getpid() % 100_000)")
        let tap = "riadst\(getpid() % 10000)"
        try namespace.run("/sbin/ip", ["tuntap", "add", "dev", tap, "mode", "tap"]).check()
        try namespace.run("/sbin/ip", ["addr", "add", "10.0.0.1/24", "dev", tap]).check()
        try namespace.run("/sbin/ip", ["link", "set", tap, "up"]).check()
        let tender = try namespace.start(
            Support.tender, ["--stats", "--net:service0=\(tap)", kernel.path])
        defer { tender.stop() }
        try tender.waitForOutput(containing: "Serving ping on 10.0.0.2")
        // The kernel counts 10000 good requests, no more, no fewer: a flood
        // of 10000, then (should any be lost) more in small rounds until it
        // has exited.
        let flood = try namespace.run(
            "/bin/ping", ["-q", "-f", "-c", "10000", "-W", "2", "-p", "deadbeef", "10.0.0.2"], timeout: 300)
        var rounds = 0
        while tender.isRunning && rounds < 20 {
            rounds += 1
            _ = try namespace.run(
                "/bin/ping", ["-q", "-f", "-c", "100", "-W", "1", "-p", "deadbeef", "10.0.0.2"], timeout: 60)
        }
        let status = tender.waitForExit(timeout: 30)
        let output = tender.output
        XCTAssertEqual(status, 0, output + flood.output)
        XCTAssertTrue(output.contains("Verified 10000 packets, 0 corrupted"), output)
        XCTAssertTrue(output.contains("SUCCESS"), output)
        let stats = try Statistics(output)
        XCTAssertGreaterThanOrEqual(stats.receivedByRing, 10000, stats.text)
        XCTAssertGreaterThanOrEqual(stats.sentByRing, 10000, stats.text)
        XCTAssertEqual(stats.sentByHypercall, 0, stats.text)
        XCTAssertEqual(stats.receivedByHypercall, 0, stats.text)
    }

    /// The echo example under Solo5's solo5-hvt (which offers Solo5's ring
    /// too): 8 MB each way, hashes equal.
    func testRiadEchoUnderSolo5Hvt() throws {
        let tender = try solo5().appendingPathComponent("tenders/hvt/solo5-hvt")
        try XCTSkipUnless(
            FileManager.default.isExecutableFile(atPath: tender.path),
            "\(tender.path) is missing: build Solo5")
        for tool in ["/bin/nc", "/usr/bin/sha256sum", "/usr/bin/head"] {
            try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: tool), "\(tool) is missing")
        }
        let tap = try TapFixture(prefix: "riadso", subnet: 87)
        try startEcho(hvt: true, tap: tap, tender: tender.path)
        try tap.waitForOutput(containing: "listening")
        try echo(try randomFile(megabytes: 8), through: tap)
        XCTAssertTrue(tap.kernel?.isRunning ?? false, "the kernel stopped: \(tap.stop())")
    }

    /// Waits for the kernel on `tap` to exit by itself (killing it after
    /// 60 s, which fails the test); returns its status.
    private func waitForExit(_ tap: TapFixture) throws -> Int32 {
        guard let kernel = tap.kernel else { throw TestFailure(description: "no kernel was started") }
        let deadline = Date().addingTimeInterval(60)
        while kernel.isRunning && Date() < deadline { usleep(10_000) }
        if kernel.isRunning {
            throw TestFailure(description: "the kernel did not exit; it printed: \(tap.stop())")
        }
        tap.stop()
        return kernel.terminationStatus
    }
}

/// What `riad-hvt --stats` printed: frames sent and received by each path.
private struct Statistics {
    let text: String
    let sentByRing: Int
    let sentByHypercall: Int
    let receivedByRing: Int
    let receivedByHypercall: Int

    init(_ output: String) throws {
        let lines = output.split(separator: "\n").filter { $0.hasPrefix("riad-hvt: stats: ") }
        text = lines.joined(separator: "\n")
        // "sent R frames (B bytes) by ring, H frames (B bytes) by hypercall"
        // "received R frames (B bytes) by ring (E reads found none), H frames (B bytes) by hypercall"
        guard let sent = lines.first(where: { $0.hasPrefix("riad-hvt: stats: sent ") }),
            let received = lines.first(where: { $0.hasPrefix("riad-hvt: stats: received ") })
        else { throw TestFailure(description: "no statistics in: \(output)") }
        let sentNumbers = Self.numbers(sent)
        let receivedNumbers = Self.numbers(received)
        guard sentNumbers.count == 4, receivedNumbers.count == 5 else {
            throw TestFailure(description: "statistics not as expected: \(text)")
        }
        sentByRing = sentNumbers[0]
        sentByHypercall = sentNumbers[2]
        receivedByRing = receivedNumbers[0]
        receivedByHypercall = receivedNumbers[3]
    }

    private static func numbers(_ line: Substring) -> [Int] {
        line.split(whereSeparator: { !$0.isNumber }).compactMap { Int($0) }
    }
}

/// A network namespace for one test, removed with everything in it at the
/// end.
private final class NetworkNamespace {
    let name: String

    init(name: String) throws {
        self.name = name
        _ = try? Support.run("/sbin/ip", ["netns", "del", name])
        try Support.run("/sbin/ip", ["netns", "add", name]).check()
    }

    deinit { _ = try? Support.run("/sbin/ip", ["netns", "del", name]) }

    /// Runs a command in the namespace to its end.
    @discardableResult
    func run(_ executable: String, _ arguments: [String], timeout: TimeInterval = 60) throws -> Support.Result
    {
        try Support.run("/sbin/ip", ["netns", "exec", name, executable] + arguments, timeout: timeout)
    }

    /// Starts a command in the namespace, its output to a file.
    func start(_ executable: String, _ arguments: [String]) throws -> BackgroundKernel {
        try BackgroundKernel("/sbin/ip", ["netns", "exec", name, executable] + arguments)
    }
}
