import Foundation
import RiadBuild
import XCTest

/// Kernels built for the unix target and run as Linux processes: the same
/// kernels as on hvt, with the same output and exit statuses, devices given
/// on the program's command line.
final class UnixTargetTests: XCTestCase {
    // MARK: - hello

    func testHelloPrintsCountLinesAndExitsZero() throws {
        let hello = try Support.unixKernel("hello", examples: true)
        let result = try Support.run(hello.path, ["--count=3", "--sleep-ms=10"])
        XCTAssertEqual(result.output, String(repeating: "Hello from Riad\n", count: 3), result.errors)
        XCTAssertEqual(result.status, 0, result.errors)
        XCTAssertEqual(result.errors, "")
    }

    func testHelloDefaultsToFourLines() throws {
        let hello = try Support.unixKernel("hello", examples: true)
        let result = try Support.run(hello.path, ["--sleep-ms=0"])
        XCTAssertEqual(result.output, String(repeating: "Hello from Riad\n", count: 4))
        XCTAssertEqual(result.status, 0)
    }

    func testHelloSleepsBetweenLines() throws {
        let hello = try Support.unixKernel("hello", examples: true)
        let start = Date()
        let result = try Support.run(hello.path, ["--count=3", "--sleep-ms=100"])
        XCTAssertEqual(result.status, 0)
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(start), 0.2)
    }

    func testHelloRefusesABadArgument() throws {
        let hello = try Support.unixKernel("hello", examples: true)
        let bad = try Support.run(hello.path, ["--count=many"])
        XCTAssertEqual(bad.status, 64)
        XCTAssertTrue(bad.output.contains("--count=many: expected a non-negative integer"), bad.output)
        let unknown = try Support.run(hello.path, ["--colour=red"])
        XCTAssertEqual(unknown.status, 64)
        XCTAssertTrue(unknown.output.contains("unknown argument --colour"), unknown.output)
    }

    /// The same kernel source prints the same bytes and exits the same way
    /// on both targets.
    func testHelloPrintsTheSameOnUnixAndHvt() throws {
        try Support.requireKVM()
        let unix = try Support.unixKernel("hello", examples: true)
        let hvt = try Support.kernel("hello", examples: true)
        for arguments in [["--count=2", "--sleep-ms=1"], ["--count=x"], ["--colour=red"]] {
            let onUnix = try Support.run(unix.path, arguments)
            let onHvt = try Support.boot(hvt, kernel: arguments)
            XCTAssertEqual(onUnix.output, onHvt.output, "\(arguments)")
            XCTAssertEqual(onUnix.status, onHvt.status, "\(arguments)")
        }
    }

    func testRiadRunBuildsAndRunsForUnixByDefault() throws {
        let riad = Support.products.appendingPathComponent("riad").path
        let folder = Support.root.appendingPathComponent("examples/hello").path
        let result = try Support.run(riad, ["run", folder, "--", "--count=2", "--sleep-ms=0"])
        XCTAssertEqual(result.output, String(repeating: "Hello from Riad\n", count: 2), result.errors)
        XCTAssertEqual(result.status, 0, result.errors)
        let status = try Support.run(riad, ["run", folder, "-t", "unix", "--", "--count=x"])
        XCTAssertEqual(status.status, 64, status.errors)
        let memory = try Support.run(riad, ["run", folder, "-t", "unix", "--mem=4"])
        XCTAssertNotEqual(memory.status, 0)
        XCTAssertTrue(memory.errors.contains("--mem is for hvt"), memory.errors)
    }

    // MARK: - Exit statuses and traps

    func testSwiftConcurrencyRunsOnTheEventLoop() throws {
        let kernel = try Support.unixKernel("async")
        let result = try Support.run(kernel.path, [])
        XCTAssertEqual(result.status, 0, result.output + result.errors)
        for part in ["async let", "task group", "cancellation", "timeout"] {
            XCTAssertTrue(result.output.contains("\(part): ok"), result.output)
        }
        XCTAssertTrue(result.output.contains("SUCCESS"), result.output)
    }

    func testExitStatusPropagates() throws {
        let kernel = try Support.unixKernel("exit-status")
        for status: Int32 in [0, 1, 7, 200] {
            let result = try Support.run(kernel.path, ["--status=\(status)"])
            XCTAssertEqual(result.status, status, result.errors)
            XCTAssertNil(result.signal)
        }
    }

    func testAbortExitsWith255AndAMessage() throws {
        let kernel = try Support.unixKernel("exit-status")
        let result = try Support.run(kernel.path, ["--abort"])
        XCTAssertEqual(result.status, 255)
        XCTAssertTrue(result.output.contains("Riad: abort: requested by --abort"), result.output)
    }

    /// A fault is a trap, as on hvt: a line on the console and status 255,
    /// not death by a signal.
    func testFaultsExitWith255AndAMessage() throws {
        let kernel = try Support.unixKernel("exit-status")
        let trap = try Support.run(kernel.path, ["--trap"])
        XCTAssertEqual(trap.status, 255, trap.output + trap.errors)
        XCTAssertNil(trap.signal)
        XCTAssertTrue(trap.output.contains("Riad: trap: SIGSEGV"), trap.output)
        XCTAssertTrue(trap.output.contains("at address 0x0000000000000008"), trap.output)
        XCTAssertFalse(trap.output.contains("still running"))
        let fatal = try Support.run(kernel.path, ["--fatal"])
        XCTAssertEqual(fatal.status, 255, fatal.output + fatal.errors)
        XCTAssertTrue(fatal.output.contains("Riad: trap: SIGILL"), fatal.output)
    }

    func testClocks() throws {
        let kernel = try Support.unixKernel("clocks")
        let hostBefore = UInt64(Date().timeIntervalSince1970 * 1e9)
        let result = try Support.run(kernel.path, [])
        let hostAfter = UInt64(Date().timeIntervalSince1970 * 1e9)
        XCTAssertEqual(result.status, 0, result.output + result.errors)
        XCTAssertTrue(result.output.contains("SUCCESS"), result.output)
        let wall = try XCTUnwrap(value(of: "wall", in: result.output))
        XCTAssertGreaterThanOrEqual(wall, hostBefore)
        XCTAssertLessThanOrEqual(wall, hostAfter)
        let slept = try XCTUnwrap(value(of: "slept", in: result.output))
        XCTAssertGreaterThanOrEqual(slept, 50_000_000)
        XCTAssertLessThan(slept, 1_000_000_000)
    }

    // MARK: - Device options

    func testMissingDeviceIsRefused() throws {
        let kernel = try Support.unixKernel("block")
        let result = try Support.run(kernel.path, [])
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.output, "")
        XCTAssertEqual(
            result.errors,
            "block: error: block declares block device 'storage' but none was given: "
                + "add --block:storage=PATH\n")
    }

    func testUndeclaredAndMistakenDevicesAreRefused() throws {
        let hello = try Support.unixKernel("hello", examples: true)
        let undeclared = try Support.run(hello.path, ["--block:disk=/dev/null", "--count=1"])
        XCTAssertEqual(undeclared.status, 1)
        XCTAssertTrue(
            undeclared.errors.contains("--block:disk=/dev/null: hello declares no device 'disk'"),
            undeclared.errors)

        let block = try Support.unixKernel("block")
        let cases: [([String], String)] = [
            (["--net:storage=tap0"], "declares 'storage' as a block device, not a network device"),
            (["--block:storage=/nonexistent/disk"], "--block:storage=/nonexistent/disk: cannot open"),
            (["--block:storage=/tmp"], "cannot open"),
            (["--block:storage"], "needs a value"),
            (["--block:storage=a", "--block:storage=b"], "device 'storage' is given twice"),
            (["--block-sector-size:storage=1000", "--block:storage=a"], "a power of two"),
            (["--net-mac:x=02:00:00:00:00:01", "--block:storage=a"], "--net-mac:x given, but no --net:x"),
        ]
        for (arguments, message) in cases {
            let result = try Support.run(block.path, arguments)
            XCTAssertEqual(result.status, 1, "\(arguments)")
            XCTAssertTrue(result.errors.contains(message), "\(arguments): \(result.errors)")
        }
    }

    func testMissingTapInterfaceIsRefused() throws {
        let kernel = try Support.unixKernel("net")
        let result = try Support.run(kernel.path, ["--net:service=riadnone0"])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.errors.contains("--net:service=riadnone0: no such interface"), result.errors)
    }

    /// Device options come first; `--` ends them, so that a kernel argument
    /// may look like one.
    func testDeviceOptionsEndAtTheKernelsArguments() throws {
        let hello = try Support.unixKernel("hello", examples: true)
        let result = try Support.run(hello.path, ["--", "--block:x=y"])
        XCTAssertEqual(result.status, 64)
        XCTAssertTrue(result.output.contains("unknown argument --block:x"), result.output)
    }

    // MARK: - Block storage

    func testBlockRoundTripAndRefusals() throws {
        let kernel = try Support.unixKernel("block")
        let disk = FileManager.default.temporaryDirectory.appendingPathComponent(
            "riad-unix-block-\(getpid()).img")
        defer { try? FileManager.default.removeItem(at: disk) }
        try Data(count: 64 * 1024).write(to: disk)
        let result = try Support.run(kernel.path, ["--block:storage=\(disk.path)"])
        XCTAssertEqual(result.status, 0, result.output + result.errors)
        XCTAssertTrue(result.output.contains("capacity=65536 block=512"), result.output)
        XCTAssertTrue(result.output.contains("SUCCESS"), result.output)
        // The data really reached the file: the two-block write at 0.
        let bytes = try Data(contentsOf: disk)
        XCTAssertEqual(bytes[1], UInt8(truncatingIfNeeded: 1 * 7 + 1 + 1))
    }

    func testBlockSectorSizeAndPartialLastBlock() throws {
        let kernel = try Support.unixKernel("block")
        let disk = FileManager.default.temporaryDirectory.appendingPathComponent(
            "riad-unix-block4k-\(getpid()).img")
        defer { try? FileManager.default.removeItem(at: disk) }
        // A file that does not end on a block boundary: the tail is not part
        // of the device.
        try Data(count: 64 * 1024 + 100).write(to: disk)
        let result = try Support.run(
            kernel.path, ["--block-sector-size:storage=4096", "--block:storage=\(disk.path)"])
        XCTAssertEqual(result.status, 0, result.output + result.errors)
        XCTAssertTrue(result.output.contains("capacity=65536 block=4096"), result.output)
    }

    private func value(of key: String, in output: String) -> UInt64? {
        for line in output.split(separator: "\n") where line.hasPrefix("\(key)=") {
            return UInt64(line.dropFirst(key.count + 1))
        }
        return nil
    }
}

/// Frames both ways between a unix kernel and the host through a tap
/// device, as `HvtNetworkTests` does for hvt.
final class UnixNetworkTests: XCTestCase {
    override func setUp() async throws {
        try XCTSkipUnless(getuid() == 0, "tap devices need root")
        try XCTSkipUnless(access("/dev/net/tun", R_OK | W_OK) == 0, "/dev/net/tun is missing")
    }

    func testFramesBothWaysThroughTap() throws {
        let kernel = try Support.unixKernel("net")
        try checkFramesBothWaysThroughTap(tapPrefix: "riadu", macLastByte: 0x2b) { tap, mac in
            (kernel.path, ["--net:service=\(tap)", "--net-mac:service=\(mac)"])
        }
    }
}

extension Support {
    // XCTest runs one test at a time, so the cache needs no lock.
    nonisolated(unsafe) private static var builtForUnix: [String: URL] = [:]

    /// Builds a test kernel (Tests/Kernels/NAME) or an example
    /// (examples/NAME) for unix: an executable.
    static func unixKernel(_ name: String, examples: Bool = false, stack: UnikernelManifest.Stack? = nil)
        throws
        -> URL
    {
        let key = name + (stack.map { "-" + $0.rawValue } ?? "")
        if let executable = builtForUnix[key] { return executable }
        let folder = root.appendingPathComponent(examples ? "examples/\(name)" : "Tests/Kernels/\(name)")
        var builder = KernelBuilder(root: root, toolchain: try Toolchain.find())
        builder.stackOverride = stack
        let built = try builder.buildUnix(unikernel: folder)
        // Kept apart: another build with another stack reuses _build/unix.
        let executable = built.deletingLastPathComponent().appendingPathComponent(
            built.lastPathComponent + "-" + key)
        try? FileManager.default.removeItem(at: executable)
        try FileManager.default.copyItem(at: built, to: executable)
        builtForUnix[key] = executable
        return executable
    }
}
