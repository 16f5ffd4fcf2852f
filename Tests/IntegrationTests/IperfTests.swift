import Foundation
import XCTest

/// Debian's unmodified `iperf3 -c` against examples/iperf: on unix with
/// the socket stack (no root), and on hvt over a tap (root, /dev/kvm); both
/// directions and parallel streams, a busy server and refused requests,
/// and garbage on the control port that must not stop the kernel. No
/// figure is checked: only that iperf3 measured something without error.
final class IperfTests: XCTestCase {
    private static let iperf3 = "/usr/bin/iperf3"

    override func setUp() async throws {
        try Self.requireIperf3()
    }

    /// Installs Debian's iperf3 if it is missing and this user can;
    /// skips with a message otherwise.
    private static func requireIperf3() throws {
        if FileManager.default.isExecutableFile(atPath: iperf3) { return }
        if getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/apt-get") {
            _ = try? Support.run(
                "/bin/sh",
                [
                    "-c",
                    "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iperf3 >/dev/null",
                ], timeout: 600)
        }
        try XCTSkipUnless(
            FileManager.default.isExecutableFile(atPath: iperf3),
            "\(iperf3) is missing and could not be installed (Debian: apt-get install iperf3)")
    }

    // MARK: unix, socket stack

    func testNormalReverseAndParallelOnUnix() throws {
        let kernel = try UnixIperfKernel.start()
        try checkDirections(host: "127.0.0.1", port: kernel.port, output: { kernel.output })
    }

    func testBusyServerAndRefusedTestsOnUnix() throws {
        let kernel = try UnixIperfKernel.start()
        let address = ["-c", "127.0.0.1", "-p", "\(kernel.port)"]
        // UDP and --bidir are refused with a message, and the server goes on.
        let udp = try runIperf3(address + ["-u", "-t", "1", "-J"])
        XCTAssertTrue(udp.error?.contains("not implemented") ?? false, "\(udp.json)")
        let bidirectional = try runIperf3(address + ["--bidir", "-t", "1", "-J"])
        XCTAssertNotNil(bidirectional.error, "\(bidirectional.json)")
        try waitFor("refused: only TCP tests are supported", in: { kernel.output })
        try waitFor("refused: --bidir is not supported", in: { kernel.output })

        // A second client while a test runs is told the server is busy.
        let first = Process()
        first.executableURL = URL(fileURLWithPath: Self.iperf3)
        first.arguments = address + ["-t", "5", "-J"]
        first.standardOutput = FileHandle.nullDevice
        try first.run()
        defer {
            if first.isRunning { first.terminate() }
            first.waitUntilExit()
        }
        try waitFor("client sending, 5 s", in: { kernel.output })
        let second = try runIperf3(address + ["-t", "1", "-J"])
        XCTAssertTrue(second.error?.contains("busy") ?? false, "\(second.json)")
        first.waitUntilExit()
        try waitFor("received ", in: { kernel.output })

        // And afterwards it serves again.
        try checkRun(
            host: "127.0.0.1", port: kernel.port, ["-t", "1"], streams: 1, output: { kernel.output })
    }

    func testGarbageOnTheControlPortOnUnix() throws {
        let kernel = try UnixIperfKernel.start()
        try sendGarbage(host: "127.0.0.1", port: kernel.port)
        XCTAssertTrue(kernel.process.isRunning, kernel.output)
        try waitFor("bad JSON at byte", in: { kernel.output })
        try checkRun(
            host: "127.0.0.1", port: kernel.port, ["-t", "1"], streams: 1, output: { kernel.output })
    }

    // MARK: hvt, direct stack over a tap

    private func startOnHvt(_ tap: TapFixture) throws {
        try Support.requireKVM()
        let image = try Support.kernel("iperf", examples: true)
        try tap.start(
            Support.tender, ["--mem=256", "--net:service=\(tap.name)", image.path] + tap.addressArguments)
        try tap.waitForOutput(containing: "listening on port 5201")
    }

    func testNormalReverseAndParallelOnHvt() throws {
        try TapFixture.requireTap()
        let tap = try TapFixture(prefix: "riadih", subnet: 88)
        try startOnHvt(tap)
        try checkDirections(host: tap.kernelAddress, port: 5201, output: { tap.output })
    }

    func testGarbageOnTheControlPortOnHvt() throws {
        try TapFixture.requireTap()
        let tap = try TapFixture(prefix: "riadig", subnet: 89)
        try startOnHvt(tap)
        try sendGarbage(host: tap.kernelAddress, port: 5201)
        XCTAssertTrue(tap.kernel?.isRunning ?? false, tap.output)
        try checkRun(host: tap.kernelAddress, port: 5201, ["-t", "1"], streams: 1, output: { tap.output })
    }

    // MARK: Checks

    /// Normal, reverse (-R) and two parallel streams (-P 2), 2 s each.
    private func checkDirections(host: String, port: UInt16, output: () -> String) throws {
        try checkRun(host: host, port: port, ["-t", "2"], streams: 1, output: output)
        try checkRun(host: host, port: port, ["-t", "2", "-R"], streams: 1, output: output)
        try checkRun(host: host, port: port, ["-t", "2", "-P", "2"], streams: 2, output: output)
        try checkRun(host: host, port: port, ["-t", "2", "-P", "2", "-R"], streams: 2, output: output)
    }

    /// One `iperf3 -c`: no error, bytes both sent and received, as many
    /// streams as asked for; and the kernel printed its own summary.
    private func checkRun(
        host: String, port: UInt16, _ options: [String], streams: Int, output: () -> String,
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let before = output().components(separatedBy: " bytes in ").count
        let run = try runIperf3(["-c", host, "-p", "\(port)"] + options + ["-J"])
        let context = "iperf3 \(options.joined(separator: " ")): \(run.json)\nkernel: \(output())"
        XCTAssertNil(run.error, context, file: file, line: line)
        let end = run.json["end"] as? [String: Any] ?? [:]
        let received = (end["sum_received"] as? [String: Any])?["bytes"] as? Int ?? 0
        let sent = (end["sum_sent"] as? [String: Any])?["bytes"] as? Int ?? 0
        XCTAssertGreaterThan(received, 0, context, file: file, line: line)
        XCTAssertGreaterThan(sent, 0, context, file: file, line: line)
        XCTAssertEqual((end["streams"] as? [Any])?.count, streams, context, file: file, line: line)
        let reverse =
            ((run.json["start"] as? [String: Any])?["test_start"] as? [String: Any])?["reverse"] as? Int
        XCTAssertEqual(reverse, options.contains("-R") ? 1 : 0, context, file: file, line: line)
        let gbits = ((end["sum_received"] as? [String: Any])?["bits_per_second"] as? Double ?? 0) / 1e9
        print(
            "iperf3 \(options.joined(separator: " ")) against \(host): \(String(format: "%.3f", gbits)) Gbit/s"
        )
        // The kernel prints its summary just after sending the results.
        let deadline = Date().addingTimeInterval(10)
        while output().components(separatedBy: " bytes in ").count == before && Date() < deadline {
            usleep(20_000)
        }
        XCTAssertGreaterThan(
            output().components(separatedBy: " bytes in ").count, before, output(), file: file, line: line)
    }

    /// Random bytes; a cookie and a length of 4 GiB; a cookie, a valid
    /// length and bad JSON; JSON nested too deeply; numbers out of range;
    /// a cookie and nothing more. Each on its own connection, closed after.
    private func sendGarbage(host: String, port: UInt16) throws {
        let script = """
            import os, socket, struct, sys
            host, port = sys.argv[1], int(sys.argv[2])
            def attempt(data, read_state=False, wait=True):
                s = socket.create_connection((host, port), timeout=10)
                try:
                    if read_state:
                        s.sendall(b"x" * 37)
                        s.recv(1)
                    s.sendall(data)
                    if wait:
                        s.recv(100)
                except OSError:
                    pass
                s.close()
            attempt(os.urandom(4096))
            attempt(struct.pack(">I", 0xFFFFFFFF), read_state=True)
            attempt(struct.pack(">I", 0), read_state=True)
            for body in [b"{{{{", b"[" * 4000, b'{"parallel": 1e999, "time": -1}', bytes(range(256))]:
                attempt(struct.pack(">I", len(body)) + body, read_state=True)
            attempt(b"", read_state=True, wait=False)
            print("sent")
            """
        let result = try Support.run("/usr/bin/python3", ["-c", script, host, "\(port)"], timeout: 120)
        XCTAssertEqual(result.output, "sent\n", result.errors)
    }

    private struct Iperf3Run {
        let json: [String: Any]
        var error: String? { json["error"] as? String }
    }

    private func runIperf3(_ arguments: [String]) throws -> Iperf3Run {
        let result = try Support.run(Self.iperf3, arguments, timeout: 60)
        let data = Data(result.output.utf8)
        guard let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw TestFailure(
                description: "iperf3 \(arguments) printed no JSON: \(result.output)\(result.errors)")
        }
        return Iperf3Run(json: json)
    }

    private func waitFor(_ text: String, in output: () -> String) throws {
        let deadline = Date().addingTimeInterval(30)
        while !output().contains(text) && Date() < deadline { usleep(20_000) }
        guard output().contains(text) else {
            throw TestFailure(description: "the kernel did not print \"\(text)\": \(output())")
        }
    }
}

/// examples/iperf as a unix process with the socket stack on 127.0.0.1
/// and a free port; stopped when the test ends.
private final class UnixIperfKernel {
    let process: Process
    let port: UInt16
    let outputFile: URL

    private init(process: Process, port: UInt16, outputFile: URL) {
        self.process = process
        self.port = port
        self.outputFile = outputFile
    }

    deinit {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: outputFile)
    }

    var output: String {
        String(decoding: (try? Data(contentsOf: outputFile)) ?? Data(), as: UTF8.self)
    }

    static func start() throws -> UnixIperfKernel {
        let executable = try Support.unixKernel("iperf", examples: true, stack: .socket)
        let port = UInt16(try freeLocalPort())
        let outputFile = FileManager.default.temporaryDirectory.appendingPathComponent(
            "riad-iperf-\(getpid())-\(port).out")
        FileManager.default.createFile(atPath: outputFile.path, contents: nil)
        let process = Process()
        process.executableURL = executable
        process.arguments = ["--port=\(port)", "--bind-address=127.0.0.1"]
        let handle = try FileHandle(forWritingTo: outputFile)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        let kernel = UnixIperfKernel(process: process, port: port, outputFile: outputFile)
        let deadline = Date().addingTimeInterval(30)
        while !kernel.output.contains("listening on port") {
            guard process.isRunning, Date() < deadline else {
                throw TestFailure(description: "the iperf kernel did not start listening: \(kernel.output)")
            }
            usleep(10_000)
        }
        return kernel
    }
}
