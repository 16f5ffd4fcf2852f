import Foundation
import XCTest

/// RiadNet's TCP with Linux as the peer, through a tap device: the echo
/// example on hvt and on unix, 100 MB each way with nc and matching
/// SHA-256, and the same with 5 % loss and reordering from tc netem.
final class TCPEchoTests: XCTestCase {
    override func setUp() async throws {
        try TapFixture.requireTap()
        for tool in ["/bin/nc", "/usr/bin/sha256sum", "/usr/bin/head"] {
            try XCTSkipUnless(
                FileManager.default.isExecutableFile(atPath: tool),
                "\(tool) is missing (Debian: netcat-openbsd, coreutils)")
        }
    }

    /// A file of `megabytes` MB of random bytes, removed after the test.
    private func randomFile(megabytes: Int) throws -> URL {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("riad-echo-\(getpid())-in")
        try Support.run("/bin/sh", ["-c", "head -c \(megabytes)M /dev/urandom > \(file.path)"]).check()
        addTeardownBlock { try? FileManager.default.removeItem(at: file) }
        return file
    }

    private func sha256(_ file: URL) throws -> String {
        let result = try Support.run("/usr/bin/sha256sum", [file.path])
        try result.check()
        return String(result.output.prefix(64))
    }

    /// Sends `file` to the echo kernel with nc and checks that what came
    /// back hashes the same.
    private func echo(_ file: URL, through tap: TapFixture, timeout: TimeInterval = 300) throws {
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

    private func startEcho(hvt: Bool, tap: TapFixture) throws {
        if hvt {
            try Support.requireKVM()
            let image = try Support.kernel("echo", examples: true)
            try tap.start(
                Support.tender, ["--mem=64", "--net:service=\(tap.name)", image.path] + tap.addressArguments)
        } else {
            let executable = try Support.unixKernel("echo", examples: true)
            try tap.start(executable.path, ["--net:service=\(tap.name)", "--"] + tap.addressArguments)
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

    func testHundredMegabytesEachWayOnUnix() throws {
        let tap = try TapFixture(prefix: "riadeu", subnet: 64)
        try startEcho(hvt: false, tap: tap)
        try echo(try randomFile(megabytes: 100), through: tap)
    }

    /// tc netem on the tap: 5 % of what Linux sends to the kernel is lost
    /// and a quarter of it reordered (delayed 2 ms, the rest sent at once).
    func testTransferUnderLossAndReorderingOnHvt() throws {
        let tap = try TapFixture(prefix: "riadel", subnet: 65)
        let netem = try Support.run(
            "/usr/sbin/tc",
            [
                "qdisc", "add", "dev", tap.name, "root", "netem", "loss", "5%", "delay", "2ms", "reorder",
                "75%",
            ])
        try XCTSkipIf(netem.status != 0, "tc netem is not available here: \(netem.errors)")
        try startEcho(hvt: true, tap: tap)
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
