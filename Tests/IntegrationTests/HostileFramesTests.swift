import Foundation
import XCTest

/// A stream of malformed frames from scapy (Debian's python3-scapy) at a
/// kernel running RiadNet's direct stack; afterwards it must still answer
/// ping and TCP, and must not have exited.
final class HostileFramesTests: XCTestCase {
    static let python = "/usr/bin/python3"

    override func setUp() async throws {
        try TapFixture.requireTap()
        let scapy = try Support.run(Self.python, ["-c", "import scapy"])
        guard scapy.status == 0 else {
            throw TestFailure(
                description: "scapy is missing: apt-get install python3-scapy (\(scapy.errors))")
        }
    }

    private func attack(_ tap: TapFixture) throws {
        let script = Support.root.appendingPathComponent("Tests/IntegrationTests/hostile_frames.py").path
        // The kernel's MAC: learned by asking it (ARP) with ping first.
        let ping = try Support.run("/bin/ping", ["-c", "1", "-W", "5", tap.kernelAddress])
        XCTAssertEqual(ping.status, 0, ping.output)
        let neighbour = try Support.run("/sbin/ip", ["neigh", "show", tap.kernelAddress, "dev", tap.name])
        let mac = try XCTUnwrap(
            neighbour.output.split(separator: " ").first { $0.split(separator: ":").count == 6 },
            neighbour.output)
        let sent = try Support.run(
            Self.python, [script, tap.name, tap.kernelAddress, String(mac), "20000", "1"], timeout: 600)
        XCTAssertEqual(sent.status, 0, sent.errors)
        XCTAssertTrue(sent.output.contains("sent 20000 frames"), sent.output)
        // Still alive: ping and a TCP echo.
        let after = try Support.run("/bin/ping", ["-c", "3", "-i", "0.2", "-W", "5", tap.kernelAddress])
        XCTAssertTrue(after.output.contains("3 received"), after.output + tap.stop())
        let echo = try Support.run(
            "/bin/sh", ["-c", "printf 'still here\\n' | nc -N -w 10 \(tap.kernelAddress) 7"], timeout: 30)
        XCTAssertEqual(echo.output, "still here\n", echo.errors)
        XCTAssertTrue(tap.kernel?.isRunning ?? false, "the kernel exited: \(tap.stop())")
    }

    func testHostileFramesOnHvt() throws {
        try Support.requireKVM()
        let tap = try TapFixture(prefix: "riadhh", subnet: 67)
        let image = try Support.kernel("echo", examples: true)
        try tap.start(
            Support.tender, ["--mem=64", "--net:service=\(tap.name)", image.path] + tap.addressArguments)
        try attack(tap)
    }

    func testHostileFramesOnUnix() throws {
        let tap = try TapFixture(prefix: "riadhu", subnet: 68)
        let executable = try Support.unixKernel("echo", examples: true)
        try tap.start(executable.path, ["--net:service=\(tap.name)", "--"] + tap.addressArguments)
        try attack(tap)
    }
}
