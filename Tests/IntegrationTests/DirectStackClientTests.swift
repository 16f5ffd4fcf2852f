import Foundation
import XCTest

/// The direct stack's client side against Linux, on both targets: an
/// address from dnsmasq's DHCP, a name resolved by dnsmasq's DNS, and a
/// TCP connection to a listener on the host.
final class DirectStackClientTests: XCTestCase {
    override func setUp() async throws {
        try TapFixture.requireTap()
        try XCTSkipUnless(
            FileManager.default.isExecutableFile(atPath: "/usr/sbin/dnsmasq"),
            "dnsmasq (Debian package dnsmasq-base) is missing")
    }

    /// Starts dnsmasq as a daemon (its own pid file): dnsmasq closes every
    /// descriptor it inherits, which confuses Foundation's Process into a
    /// blocking wait for it that stalls every later Process of the test.
    private func startDnsmasq(_ tap: TapFixture) throws -> pid_t {
        let net = String(tap.hostAddress.dropLast(2))
        let temporary = FileManager.default.temporaryDirectory
        let leases = temporary.appendingPathComponent("riad-\(tap.name).leases")
        let pidFile = temporary.appendingPathComponent("riad-\(tap.name).dnsmasq.pid")
        addTeardownBlock {
            try? FileManager.default.removeItem(at: leases)
            try? FileManager.default.removeItem(at: pidFile)
        }
        try Support.run(
            "/usr/sbin/dnsmasq",
            [
                "--conf-file=/dev/null", "--no-resolv", "--no-hosts", "--pid-file=\(pidFile.path)",
                "--interface=\(tap.name)", "--bind-interfaces", "--except-interface=lo",
                "--listen-address=\(tap.hostAddress)", "--dhcp-range=\(net).50,\(net).60,255.255.255.0,2m",
                "--dhcp-leasefile=\(leases.path)", "--dhcp-option=option:router,\(tap.hostAddress)",
                "--dhcp-option=option:dns-server,\(tap.hostAddress)", "--local=/test/",
                "--host-record=server.test,\(tap.hostAddress)",
            ]
        ).check()
        let text = try String(contentsOf: pidFile, encoding: .utf8)
        return try XCTUnwrap(pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)), text)
    }

    private func check(hvt: Bool, prefix: String, subnet: Int) throws {
        // Built before any long-lived process starts (see startDnsmasq).
        let kernel = hvt ? try Support.kernel("netclient") : try Support.unixKernel("netclient")
        let tap = try TapFixture(prefix: prefix, subnet: subnet)
        let dnsmasq = try startDnsmasq(tap)
        defer { kill(dnsmasq, SIGTERM) }
        // A listener on the host that answers one line and prints what it got.
        let port = 7000 + Int(getpid() % 1000)
        let listener = Process()
        listener.executableURL = URL(fileURLWithPath: "/bin/sh")
        listener.arguments = ["-c", "printf 'hi from linux\\n' | nc -l -N -w 20 \(tap.hostAddress) \(port)"]
        let heard = Pipe()
        listener.standardOutput = heard
        try listener.run()
        defer { if listener.isRunning { listener.terminate() } }
        usleep(200_000)
        let arguments = ["--host=server.test", "--port=\(port)"]
        if hvt {
            try tap.start(Support.tender, ["--net:service=\(tap.name)", kernel.path] + arguments)
        } else {
            try tap.start(kernel.path, ["--net:service=\(tap.name)", "--"] + arguments)
        }
        let printed = try tap.waitForOutput(containing: "netclient: got", timeout: 60)
        let net = String(tap.hostAddress.dropLast(2))
        XCTAssertTrue(printed.contains("riad: DHCP: \(net)."), printed)
        XCTAssertTrue(printed.contains("server.test is \(tap.hostAddress)"), printed)
        XCTAssertTrue(printed.contains("netclient: got hi from linux"), printed)
        listener.waitUntilExit()
        let received = String(decoding: heard.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(received, "hello from riad\n")
    }

    func testDHCPDNSAndConnectOnHvt() throws {
        try Support.requireKVM()
        try check(hvt: true, prefix: "riadch", subnet: 71)
    }

    func testDHCPDNSAndConnectOnUnix() throws {
        try check(hvt: false, prefix: "riadcu", subnet: 72)
    }
}
