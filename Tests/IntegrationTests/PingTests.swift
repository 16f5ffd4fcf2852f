import Foundation
import XCTest

/// Linux pings a kernel through a tap device: ARP, then ICMP echo, answered
/// by RiadNet's EthernetInterface, on both targets.
final class PingTests: XCTestCase {
    override func setUp() async throws {
        try XCTSkipUnless(getuid() == 0, "tap devices need root")
        try XCTSkipUnless(access("/dev/net/tun", R_OK | W_OK) == 0, "/dev/net/tun is missing")
        try XCTSkipUnless(
            FileManager.default.isExecutableFile(atPath: "/bin/ping"), "ping (iputils-ping) is missing")
    }

    /// Creates a tap with the host at 10.77.N.1/24, runs `kernel`, pings
    /// 10.77.N.2 three times, and returns the kernel's result.
    private func pingKernel(_ command: (_ tap: String, _ arguments: [String]) -> (String, [String])) throws
        -> (
            ping: Support.Result, kernel: Support.Result
        )
    {
        let subnet = Int(getpid() % 200) + 20
        let tap = "riadp\(getpid() % 10000)"
        try Support.run("/sbin/ip", ["tuntap", "add", "dev", tap, "mode", "tap"]).check()
        defer { _ = try? Support.run("/sbin/ip", ["link", "del", tap]) }
        try Support.run("/sbin/ip", ["addr", "add", "10.77.\(subnet).1/24", "dev", tap]).check()
        try Support.run("/sbin/ip", ["link", "set", tap, "up"]).check()
        let (executable, arguments) = command(tap, ["--ipv4=10.77.\(subnet).2/24", "--replies=3"])
        let kernel = Process()
        kernel.executableURL = URL(fileURLWithPath: executable)
        kernel.arguments = arguments
        let output = Pipe()
        kernel.standardOutput = output
        try kernel.run()
        defer { if kernel.isRunning { kernel.terminate() } }
        let ping = try Support.run(
            "/bin/ping", ["-c", "3", "-i", "0.2", "-W", "5", "10.77.\(subnet).2"], timeout: 60)
        kernel.waitUntilExit()
        let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return (
            ping, Support.Result(status: kernel.terminationStatus, signal: nil, output: printed, errors: "")
        )
    }

    func testPingOnHvt() throws {
        try Support.requireKVM()
        let image = try Support.kernel("ping")
        let (ping, kernel) = try pingKernel { tap, arguments in
            (Support.tender, ["--net:service=\(tap)", image.path] + arguments)
        }
        XCTAssertEqual(ping.status, 0, ping.output + ping.errors)
        XCTAssertTrue(ping.output.contains("3 received"), ping.output)
        XCTAssertEqual(kernel.status, 0, kernel.output)
        XCTAssertTrue(kernel.output.contains("3 echo replies"), kernel.output)
    }

    func testPingOnUnix() throws {
        let executable = try Support.unixKernel("ping")
        let (ping, kernel) = try pingKernel { tap, arguments in
            (executable.path, ["--net:service=\(tap)", "--"] + arguments)
        }
        XCTAssertEqual(ping.status, 0, ping.output + ping.errors)
        XCTAssertTrue(ping.output.contains("3 received"), ping.output)
        XCTAssertEqual(kernel.status, 0, kernel.output)
        XCTAssertTrue(kernel.output.contains("3 echo replies"), kernel.output)
    }
}
