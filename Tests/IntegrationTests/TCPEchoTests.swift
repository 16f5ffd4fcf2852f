import Foundation
import XCTest

/// RiadNet's TCP with Linux as the peer, through a tap device: the echo
/// example on hvt and on unix, 100 MB each way with nc and matching
/// SHA-256, and 20 MB with 5 % loss (tc netem, or nftables without it).
final class TCPEchoTests: XCTestCase {
    override func setUp() async throws {
        try TapFixture.requireTap()
        for tool in ["/bin/nc", "/usr/bin/sha256sum", "/usr/bin/head"] {
            try XCTSkipUnless(
                FileManager.default.isExecutableFile(atPath: tool),
                "\(tool) is missing (Debian: netcat-openbsd, coreutils)")
        }
    }

    func testSmallEchoOnHvt() throws {
        let tap = try TapFixture(prefix: "riadeh", subnet: 61)
        try startEcho(hvt: true, tap: tap)
        let result = try Support.run(
            "/bin/sh", ["-c", "printf 'hello riad\\n' | nc -N -w 10 \(tap.kernelAddress) 7"], timeout: 30)
        XCTAssertEqual(result.output, "hello riad\n", result.errors + tap.stop())
    }

    func testSmallEchoOnUnix() throws {
        let tap = try TapFixture(prefix: "riadeu", subnet: 62)
        try startEcho(hvt: false, tap: tap)
        let result = try Support.run(
            "/bin/sh", ["-c", "printf 'hello riad\\n' | nc -N -w 10 \(tap.kernelAddress) 7"], timeout: 30)
        XCTAssertEqual(result.output, "hello riad\n", result.errors + tap.stop())
    }

    func testHundredMegabytesEachWayOnHvt() throws {
        let tap = try TapFixture(prefix: "riadeh", subnet: 63)
        try startEcho(hvt: true, tap: tap)
        try echo(try randomFile(megabytes: 100), through: tap)
    }

    /// The ring without offload: every frame at most one MTU.
    func testHundredMegabytesEachWayOnHvtWithoutOffload() throws {
        let tap = try TapFixture(prefix: "riadew", subnet: 93)
        try startEcho(hvt: true, tap: tap, options: ["--net-offload=off"])
        try echo(try randomFile(megabytes: 100), through: tap)
    }

    /// Hypercalls only, as under a tender without the ring.
    func testHundredMegabytesEachWayOnHvtWithoutTheRing() throws {
        let tap = try TapFixture(prefix: "riadeq", subnet: 94)
        try startEcho(hvt: true, tap: tap, options: ["--net-ring=off"])
        try echo(try randomFile(megabytes: 100), through: tap)
    }

    func testHundredMegabytesEachWayOnUnix() throws {
        let tap = try TapFixture(prefix: "riadeu", subnet: 64)
        try startEcho(hvt: false, tap: tap)
        try echo(try randomFile(megabytes: 100), through: tap)
    }

    /// 5 % loss on the tap: with tc netem (and a quarter of what Linux sends
    /// reordered, delayed 2 ms) where the host kernel has it; where it has
    /// not (sch_netem missing, as in some containers), with nftables
    /// dropping 5 % each way at random, which loses data and ACKs in both
    /// directions but reorders nothing (the in-memory simulator covers
    /// reordering: TCPTransferTests).
    private func impair(_ tap: TapFixture) throws {
        let netem = try Support.run(
            "/usr/sbin/tc",
            [
                "qdisc", "add", "dev", tap.name, "root", "netem", "loss", "5%", "delay", "2ms", "reorder",
                "75%",
            ])
        if netem.status == 0 { return }
        let table = "riad_\(tap.name)"
        let rules = """
            table inet \(table) {
                chain input { type filter hook input priority 0; iifname "\(tap.name)" numgen random mod 100 < 5 drop; }
                chain output { type filter hook output priority 0; oifname "\(tap.name)" numgen random mod 100 < 5 drop; }
            }
            """
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("\(table).nft")
        try rules.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let nft = try Support.run("/usr/sbin/nft", ["-f", file.path])
        guard nft.status == 0 else {
            throw TestFailure(
                description: "neither tc netem (\(netem.errors)) nor nftables (\(nft.errors)) can drop "
                    + "packets here: apt-get install nftables")
        }
        addTeardownBlock { _ = try? Support.run("/usr/sbin/nft", ["delete", "table", "inet", table]) }
    }

    func testTransferUnderLossOnHvt() throws {
        let tap = try TapFixture(prefix: "riadel", subnet: 65)
        try impair(tap)
        try startEcho(hvt: true, tap: tap)
        try echo(try randomFile(megabytes: 20), through: tap, timeout: 600)
    }

    func testTransferUnderLossOnHvtWithoutOffload() throws {
        let tap = try TapFixture(prefix: "riadep", subnet: 95)
        try impair(tap)
        try startEcho(hvt: true, tap: tap, options: ["--net-offload=off"])
        try echo(try randomFile(megabytes: 20), through: tap, timeout: 600)
    }

    func testTransferUnderLossOnUnix() throws {
        let tap = try TapFixture(prefix: "riadeo", subnet: 69)
        try impair(tap)
        try startEcho(hvt: false, tap: tap)
        try echo(try randomFile(megabytes: 20), through: tap, timeout: 600)
    }

    func testConnectionToAClosedPortIsRefused() throws {
        let tap = try TapFixture(prefix: "riader", subnet: 66)
        try startEcho(hvt: false, tap: tap)
        let result = try Support.run("/bin/nc", ["-z", "-w", "5", tap.kernelAddress, "8"], timeout: 30)
        XCTAssertNotEqual(result.status, 0)
        // And the port that is open answers.
        let open = try Support.run("/bin/nc", ["-z", "-w", "5", tap.kernelAddress, "7"], timeout: 30)
        XCTAssertEqual(open.status, 0, open.errors)
    }
}

/// The echo example and a file to send it, for the tests here and NetRingEndToEndTests.
extension XCTestCase {
    /// A file of `megabytes` MB of random bytes, removed after the test.
    func randomFile(megabytes: Int) throws -> URL {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("riad-echo-\(getpid())-in")
        try Support.run("/bin/sh", ["-c", "head -c \(megabytes)M /dev/urandom > \(file.path)"]).check()
        addTeardownBlock { try? FileManager.default.removeItem(at: file) }
        return file
    }

    func sha256(_ file: URL) throws -> String {
        let result = try Support.run("/usr/bin/sha256sum", [file.path])
        try result.check()
        return String(result.output.prefix(64))
    }

    /// Sends `file` to the echo kernel with nc and checks that what came
    /// back hashes the same.
    func echo(_ file: URL, through tap: TapFixture, timeout: TimeInterval = 300) throws {
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("riad-echo-\(getpid())-out")
        defer { try? FileManager.default.removeItem(at: out) }
        // -N: shut the connection down for writing at the end of the file,
        // so that the kernel sees end of stream and closes after echoing.
        let nc = try Support.run(
            "/bin/sh", ["-c", "nc -N -w 30 \(tap.kernelAddress) 7 < \(file.path) > \(out.path)"],
            timeout: timeout)
        XCTAssertEqual(nc.status, 0, nc.errors)
        let size = (try? FileManager.default.attributesOfItem(atPath: out.path)[.size] as? Int) ?? -1
        XCTAssertEqual(size, (try FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int))
        XCTAssertEqual(try sha256(out), try sha256(file))
    }

    /// Starts the echo example on `tap`: on hvt under `tender` (riad-hvt,
    /// or another hvt tender such as Solo5's) with `options` added, or on
    /// unix.
    func startEcho(
        hvt: Bool, tap: TapFixture, tender: String = Support.tender, options: [String] = []
    ) throws {
        if hvt {
            try Support.requireKVM()
            let image = try Support.kernel("echo", examples: true)
            try tap.start(
                tender,
                options + ["--mem=64", "--net:service=\(tap.name)", image.path] + tap.addressArguments)
        } else {
            let executable = try Support.unixKernel("echo", examples: true)
            try tap.start(executable.path, ["--net:service=\(tap.name)", "--"] + tap.addressArguments)
        }
    }
}

/// More connections than a small kernel's memory holds: the stack refuses
/// the excess (TCP sized to the heap) instead of running out of memory.
final class TCPConnectionFloodTests: XCTestCase {
    func testAFloodOfConnectionsIsRefusedNotFatal() throws {
        try TapFixture.requireTap()
        try Support.requireKVM()
        let tap = try TapFixture(prefix: "riadef", subnet: 70)
        let image = try Support.kernel("echo", examples: true)
        try tap.start(
            Support.tender, ["--mem=8", "--net:service=\(tap.name)", image.path] + tap.addressArguments)
        try tap.waitForOutput(containing: "listening")
        // 300 connections held open at once, each sending a line (those the
        // kernel refuses time out), then all closed.
        let flood = try Support.run(
            "/usr/bin/python3",
            [
                "-c",
                """
                import socket
                held = []
                for _ in range(300):
                    s = socket.socket()
                    s.settimeout(0.3)
                    try:
                        s.connect(("\(tap.kernelAddress)", 7))
                        s.sendall(b"x" * 1000)
                        held.append(s)
                    except OSError:
                        s.close()
                print(f"held {len(held)}")
                for s in held:
                    s.close()
                """,
            ], timeout: 300)
        XCTAssertEqual(flood.status, 0, flood.errors)
        XCTAssertTrue(flood.output.hasPrefix("held "), flood.output)
        XCTAssertTrue(tap.kernel?.isRunning ?? false, "the kernel stopped: \(tap.stop())")
        // Once they are gone, it serves again.
        var answered = ""
        for _ in 0..<20 where answered != "still here\n" {
            answered = try Support.run(
                "/bin/sh", ["-c", "printf 'still here\\n' | nc -N -w 5 \(tap.kernelAddress) 7"], timeout: 30
            ).output
            if answered != "still here\n" { sleep(1) }
        }
        XCTAssertEqual(answered, "still here\n", tap.output)
    }
}
