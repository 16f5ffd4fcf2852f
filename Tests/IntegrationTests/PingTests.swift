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
    /// 10.77.N.2 three times (with `size` bytes of data, if given), and
    /// returns the kernel's result.
    private func pingKernel(
        size: Int? = nil, _ command: (_ tap: String, _ arguments: [String]) -> (String, [String])
    ) throws
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
        // Until the kernel opens the tap it has no carrier and Linux drops
        // what it sends there, the first echo request with it.
        try waitForCarrier(tap, while: kernel)
        let ping = try Support.run(
            "/bin/ping",
            ["-c", "3", "-i", "0.2", "-W", "5"] + (size.map { ["-s", "\($0)"] } ?? []) + [
                "10.77.\(subnet).2"
            ],
            timeout: 60)
        // A kernel short of its replies would wait for ever: give it 10 s.
        let deadline = Date().addingTimeInterval(10)
        while kernel.isRunning && Date() < deadline { usleep(10_000) }
        if kernel.isRunning { kernel.terminate() }
        kernel.waitUntilExit()
        let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return (
            ping, Support.Result(status: kernel.terminationStatus, signal: nil, output: printed, errors: "")
        )
    }

    /// Waits until `tap` has a carrier: a process has opened it.
    private func waitForCarrier(_ tap: String, while kernel: Process) throws {
        let deadline = Date().addingTimeInterval(30)
        while kernel.isRunning && Date() < deadline {
            let carrier = try? String(contentsOfFile: "/sys/class/net/\(tap)/carrier", encoding: .utf8)
            if carrier?.hasPrefix("1") == true { return }
            usleep(10_000)
        }
        XCTFail("\(tap) got no carrier")
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

    /// 4000 bytes of data: Linux sends each request in three fragments, the
    /// kernel reassembles it and sends its reply in three fragments.
    func testFragmentedPingOnHvt() throws {
        try Support.requireKVM()
        let image = try Support.kernel("ping")
        let (ping, kernel) = try pingKernel(size: 4000) { tap, arguments in
            (Support.tender, ["--net:service=\(tap)", image.path] + arguments)
        }
        checkFragmentedPing(ping, kernel)
    }

    func testFragmentedPingOnUnix() throws {
        let executable = try Support.unixKernel("ping")
        let (ping, kernel) = try pingKernel(size: 4000) { tap, arguments in
            (executable.path, ["--net:service=\(tap)", "--"] + arguments)
        }
        checkFragmentedPing(ping, kernel)
    }

    private func checkFragmentedPing(
        _ ping: Support.Result, _ kernel: Support.Result, file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertEqual(ping.status, 0, ping.output + ping.errors, file: file, line: line)
        XCTAssertTrue(ping.output.contains("4008 bytes from"), ping.output, file: file, line: line)
        XCTAssertTrue(ping.output.contains("3 received"), ping.output, file: file, line: line)
        XCTAssertEqual(kernel.status, 0, kernel.output, file: file, line: line)
        XCTAssertTrue(kernel.output.contains("3 echo replies"), kernel.output, file: file, line: line)
        XCTAssertTrue(
            kernel.output.contains("3 datagrams reassembled"), kernel.output, file: file, line: line)
        XCTAssertTrue(kernel.output.contains("9 fragments sent"), kernel.output, file: file, line: line)
    }
}
