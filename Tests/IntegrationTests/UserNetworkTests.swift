import Foundation
import XCTest

/// User-mode networking (`--net:NAME=user`), as a user without root uses it:
/// no tap is made; the echo example is reached through a port forward on
/// 127.0.0.1 that riad-slirp (libslirp) passes to the kernel at 10.0.2.15.
/// Through riad-hvt and through `riad run`, with a static address and with
/// libslirp's DHCP; and the mistakes and failures a user can meet.
final class UserNetworkTests: XCTestCase {
    override func setUp() async throws {
        try Support.requireKVM()
        for tool in ["/bin/nc", "/usr/bin/sha256sum", "/usr/bin/head"] {
            try XCTSkipUnless(
                FileManager.default.isExecutableFile(atPath: tool),
                "\(tool) is missing (Debian: netcat-openbsd, coreutils)")
        }
    }

    private var riad: String { Support.products.appendingPathComponent("riad").path }

    /// riad-hvt's options for the echo example on a user network with one
    /// forward, its image, and the kernel's static address.
    private func echoArguments(port: UInt16, staticAddress: Bool = true) throws -> [String] {
        let image = try Support.kernel("echo", examples: true)
        return ["--mem=64", "--net:service=user", "--forward=tcp:127.0.0.1:\(port):7", image.path]
            + (staticAddress ? ["--ipv4=10.0.2.15/24", "--ipv4-gateway=10.0.2.2"] : [])
    }

    /// One line through the forward; what came back.
    private func echoLine(port: UInt16) throws -> Support.Result {
        try Support.run(
            "/bin/sh", ["-c", "printf 'hello riad\\n' | nc -N -w 10 127.0.0.1 \(port)"], timeout: 30)
    }

    func testLineEchoesThroughAForward() throws {
        let port = try freePort()
        let kernel = try BackgroundKernel(Support.tender, try echoArguments(port: port))
        try kernel.waitForOutput(containing: "echo: listening on port 7")
        let result = try echoLine(port: port)
        XCTAssertEqual(result.output, "hello riad\n", result.errors + kernel.stop())
        // The tender runs the network in riad-slirp, its child, which
        // leaves with it.
        let helper = try XCTUnwrap(kernel.childProcesses().first, kernel.output)
        XCTAssertTrue(
            ((try? String(contentsOfFile: "/proc/\(helper)/cmdline", encoding: .utf8)) ?? "")
                .contains("riad-slirp"))
        kernel.stop()
        try waitUntil("riad-slirp \(helper) exits") { kill(helper, 0) != 0 || isZombie(helper) }
    }

    func testTenMegabytesEchoThroughAForwardWithMatchingHash() throws {
        let port = try freePort()
        let kernel = try BackgroundKernel(Support.tender, try echoArguments(port: port))
        try kernel.waitForOutput(containing: "echo: listening on port 7")
        let input = FileManager.default.temporaryDirectory.appendingPathComponent("riad-user-\(getpid())-in")
        let output = FileManager.default.temporaryDirectory.appendingPathComponent(
            "riad-user-\(getpid())-out")
        defer {
            try? FileManager.default.removeItem(at: input)
            try? FileManager.default.removeItem(at: output)
        }
        _ = try Support.run("/bin/sh", ["-c", "head -c 10M /dev/urandom > \(input.path)"]).check()
        let started = Date()
        let nc = try Support.run(
            "/bin/sh", ["-c", "nc -N -w 30 127.0.0.1 \(port) < \(input.path) > \(output.path)"], timeout: 300)
        let seconds = Date().timeIntervalSince(started)
        XCTAssertEqual(nc.status, 0, nc.errors + kernel.output)
        let size = try FileManager.default.attributesOfItem(atPath: output.path)[.size] as? Int
        XCTAssertEqual(size, 10 << 20, kernel.output)
        XCTAssertEqual(try sha256(output), try sha256(input))
        // Informative only: no threshold.
        print(
            "user network: 10 MiB echoed in \(String(format: "%.2f", seconds)) s "
                + "(\(String(format: "%.1f", 10 / seconds)) MiB/s each way)")
    }

    /// No --ipv4: the kernel asks libslirp's DHCP server, which gives it
    /// 10.0.2.15 and the gateway 10.0.2.2, where the forwards go. The
    /// exchange is in the device's capture (--pcap works on user networks).
    func testKernelGetsItsAddressFromDHCP() throws {
        let port = try freePort()
        let capture = FileManager.default.temporaryDirectory.appendingPathComponent(
            "riad-user-\(getpid()).pcap")
        defer { try? FileManager.default.removeItem(at: capture) }
        let kernel = try BackgroundKernel(
            Support.tender,
            ["--pcap:service=\(capture.path)"] + (try echoArguments(port: port, staticAddress: false)))
        try kernel.waitForOutput(containing: "riad: DHCP: 10.0.2.15/24 via 10.0.2.2")
        let result = try echoLine(port: port)
        XCTAssertEqual(result.output, "hello riad\n", result.errors + kernel.stop())
        kernel.stop()
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/tshark") else {
            throw TestFailure(description: "tshark is not installed: apt-get install -y tshark")
        }
        // Message types (RFC 2132 section 9.6) and the address offered.
        let dhcp = try Support.run(
            "/usr/bin/tshark",
            [
                "-r", capture.path, "-Y", "dhcp", "-T", "fields", "-e", "dhcp.option.dhcp", "-e",
                "dhcp.ip.your",
            ])
        XCTAssertEqual(
            dhcp.output.split(separator: "\n"),
            ["1\t0.0.0.0", "2\t10.0.2.15", "3\t0.0.0.0", "5\t10.0.2.15"], dhcp.errors)
    }

    func testRiadRunPassesUserNetworkingAndForwards() throws {
        let port = try freePort()
        let kernel = try BackgroundKernel(
            riad,
            [
                "run", Support.root.appendingPathComponent("examples/echo").path, "-t", "hvt",
                "--net:service=user", "--forward=tcp:127.0.0.1:\(port):7",
            ])
        // riad gives the kernel its address (no DHCP line) and says where
        // the forward is.
        let printed = try kernel.waitForOutput(containing: "echo: listening on port 7", timeout: 300)
        XCTAssertTrue(
            printed.contains(
                "riad: service is on user networking: the kernel is at 10.0.2.15, the host at 10.0.2.2; "
                    + "forwarded to it: tcp 127.0.0.1:\(port) -> port 7"), printed)
        let result = try echoLine(port: port)
        XCTAssertEqual(result.output, "hello riad\n", result.errors + kernel.stop())
        XCTAssertFalse(kernel.output.contains("DHCP"), kernel.output)
    }

    func testRiadRunOnUnixSuggestsTheSocketStack() throws {
        let result = try Support.run(
            riad, ["run", Support.root.appendingPathComponent("examples/echo").path, "--net:service=user"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.errors.contains("stack = \"socket\""), result.errors)
        let forward = try Support.run(
            riad, ["run", Support.root.appendingPathComponent("examples/echo").path, "--forward=tcp:8080:7"])
        XCTAssertNotEqual(forward.status, 0)
        XCTAssertTrue(forward.errors.contains("--forward=tcp:8080:7 is for hvt's user-mode networking"))
    }

    func testBadForwardsAreRefused() throws {
        let image = try Support.kernel("echo", examples: true)
        let cases: [(String, String)] = [
            ("tcp:8080", "expected tcp:HOSTPORT:GUESTPORT or tcp:ADDRESS:HOSTPORT:GUESTPORT"),
            ("tcp:1:2:3:4", "expected tcp:HOSTPORT:GUESTPORT"),
            ("sctp:8080:80", "the protocol must be tcp or udp, not 'sctp'"),
            ("tcp:0:80", "ports are numbers from 1 to 65535"),
            ("tcp:8080:65536", "ports are numbers from 1 to 65535"),
            ("tcp:localhost:8080:80", "'localhost' is not an IPv4 address like 127.0.0.1"),
        ]
        for (value, message) in cases {
            let result = try Support.boot(image, tender: ["--net:service=user", "--forward=\(value)"])
            XCTAssertEqual(result.status, 1, value)
            XCTAssertTrue(
                result.errors.contains("riad-hvt: error: --forward=\(value): \(message)"), result.errors)
        }
        let twice = try Support.boot(
            image, tender: ["--net:service=user", "--forward=tcp:8080:7", "--forward=tcp:0.0.0.0:8080:9"])
        XCTAssertEqual(twice.status, 1)
        XCTAssertTrue(twice.errors.contains("host port tcp 8080 is already forwarded"), twice.errors)
    }

    func testForwardWithoutAUserNetworkIsRefused() throws {
        let image = try Support.kernel("echo", examples: true)
        let result = try Support.boot(image, tender: ["--net:service=tap0", "--forward=tcp:8080:7"])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(
            result.errors.contains(
                "riad-hvt: error: --forward=tcp:127.0.0.1:8080:7 needs a user network: add --net:NAME=user"),
            result.errors)
    }

    /// A host port already taken: the helper's bind fails and riad-hvt says
    /// so before the kernel starts.
    func testForwardToABusyPortIsReported() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        let port = try bindLoopback(listener)
        XCTAssertEqual(listen(listener, 1), 0)
        let image = try Support.kernel("echo", examples: true)
        let result = try Support.boot(image, tender: ["--net:service=user", "--forward=tcp:\(port):7"])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(
            result.errors.contains("cannot listen on tcp 127.0.0.1:\(port): Address already in use"),
            result.errors)
        XCTAssertEqual(result.output, "", "the kernel must not have started")
    }

    /// The helper killed under a running kernel: the tender stops it with a
    /// message instead of leaving it on a dead network.
    func testKernelStopsWhenTheHelperDies() throws {
        let kernel = try BackgroundKernel(Support.tender, try echoArguments(port: try freePort()))
        try kernel.waitForOutput(containing: "echo: listening on port 7")
        let helper = try XCTUnwrap(kernel.childProcesses().first, kernel.output)
        XCTAssertEqual(kill(helper, SIGKILL), 0)
        try waitUntil("riad-hvt stops") { !kernel.isRunning }
        XCTAssertEqual(kernel.status, 1)
        XCTAssertTrue(
            kernel.output.contains(
                "riad-hvt: error: --net:service=user: riad-slirp, which ran the user network, has exited"),
            kernel.output)
    }

    /// Without libslirp.so.0 the message names the package to install. The
    /// library is hidden by mounting an empty file over it in a mount
    /// namespace of this test's own.
    func testMissingLibslirpNamesThePackage() throws {
        try XCTSkipUnless(getuid() == 0, "hiding the library needs a mount namespace (root)")
        let library = URL(fileURLWithPath: "/usr/lib/x86_64-linux-gnu/libslirp.so.0")
            .resolvingSymlinksInPath()
        let image = try Support.kernel("echo", examples: true)
        let result = try Support.run(
            "/usr/bin/unshare",
            [
                "-m", "/bin/sh", "-c",
                "mount --bind /dev/null \(library.path) && exec \(Support.tender) --net:service=user \(image.path)",
            ])
        XCTAssertEqual(result.status, 1, result.errors)
        XCTAssertTrue(result.errors.contains("--net:service=user: cannot load libslirp.so.0"), result.errors)
        XCTAssertTrue(result.errors.contains("apt-get install libslirp0"), result.errors)
    }

    // MARK: - Helpers

    /// A TCP port on 127.0.0.1 that nothing listens on now.
    private func freePort() throws -> UInt16 {
        let probe = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(probe) }
        return try bindLoopback(probe)
    }

    /// Binds `fd` to 127.0.0.1 on a port the system picks; returns the port.
    private func bindLoopback(_ fd: Int32) throws -> UInt16 {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                Glibc.bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw TestFailure(description: "cannot bind a loopback port") }
        return UInt16(bigEndian: address.sin_port)
    }

    private func waitUntil(_ what: String, timeout: TimeInterval = 10, _ condition: () -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return }
            usleep(20_000)
        }
        throw TestFailure(description: "timed out waiting until \(what)")
    }
}

/// Whether process `pid` has exited but not been reaped (riad-slirp's parent
/// is gone, and PID 1 here may not reap).
private func isZombie(_ pid: pid_t) -> Bool {
    let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
    guard let close = stat.lastIndex(of: ")") else { return true }
    return stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
}

/// A program started for one test (riad-hvt or riad), its output going to
/// a file that can be read while it runs; stopped when the test ends.
final class BackgroundKernel {
    private let process = Process()
    let outputFile: URL

    init(_ executable: String, _ arguments: [String]) throws {
        outputFile = FileManager.default.temporaryDirectory.appendingPathComponent(
            "riad-user-\(getpid())-\(UUID().uuidString).out")
        FileManager.default.createFile(atPath: outputFile.path, contents: nil)
        let handle = try FileHandle(forWritingTo: outputFile)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: outputFile)
    }

    var isRunning: Bool { process.isRunning }
    var status: Int32 { process.terminationStatus }

    var output: String {
        String(decoding: (try? Data(contentsOf: outputFile)) ?? Data(), as: UTF8.self)
    }

    /// The process's children (riad-hvt's: its riad-slirp).
    func childProcesses() -> [pid_t] {
        let pid = process.processIdentifier
        let children =
            (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? ""
        return children.split(separator: " ").compactMap { pid_t($0) }
    }

    /// Waits until the output contains `text`; returns the output.
    @discardableResult
    func waitForOutput(containing text: String, timeout: TimeInterval = 60) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let printed = output
            if printed.contains(text) { return printed }
            if !process.isRunning { break }
            usleep(20_000)
        }
        throw TestFailure(description: "no \"\(text)\" in the output: \(output)")
    }

    /// Waits up to `timeout` for the program to exit by itself: its
    /// status, or -1 (and it is stopped) if it did not.
    func waitForExit(timeout: TimeInterval) -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning {
            stop()
            return -1
        }
        return process.terminationStatus
    }

    /// Stops the program if it still runs; returns what it printed.
    @discardableResult
    func stop() -> String {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        return output
    }
}
