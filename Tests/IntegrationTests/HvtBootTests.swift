import Foundation
import XCTest

/// Whole kernels booted on KVM under riad-hvt: output, exit status, clocks,
/// block storage and the allocator.
final class HvtBootTests: XCTestCase {
    override func setUp() async throws { try Support.requireKVM() }

    func testHelloPrintsCountLinesAndExitsZero() throws {
        let image = try Support.kernel("hello", examples: true)
        let result = try Support.boot(image, tender: ["--mem=2"], kernel: ["--count=3", "--sleep-ms=10"])
        XCTAssertEqual(result.output, String(repeating: "Hello from Riad\n", count: 3), result.errors)
        XCTAssertEqual(result.status, 0, result.errors)
    }

    func testHelloDefaultsToFourLines() throws {
        let image = try Support.kernel("hello", examples: true)
        let result = try Support.boot(image, kernel: ["--sleep-ms=0"])
        XCTAssertEqual(result.output, String(repeating: "Hello from Riad\n", count: 4))
        XCTAssertEqual(result.status, 0)
    }

    func testHelloRefusesABadArgument() throws {
        let image = try Support.kernel("hello", examples: true)
        let bad = try Support.boot(image, kernel: ["--count=many"])
        XCTAssertEqual(bad.status, 64)
        XCTAssertTrue(bad.output.contains("--count=many: expected a non-negative integer"), bad.output)
        let unknown = try Support.boot(image, kernel: ["--colour=red"])
        XCTAssertEqual(unknown.status, 64)
        XCTAssertTrue(unknown.output.contains("unknown argument --colour"), unknown.output)
        let help = try Support.boot(image, kernel: ["--help"])
        XCTAssertEqual(help.status, 0)
        for line in ["--count=N", "(default 4)", "--sleep-ms=N", "--logs=SPEC"] {
            XCTAssertTrue(help.output.contains(line), help.output)
        }
    }

    func testExitStatusPropagates() throws {
        let image = try Support.kernel("exit-status")
        for status: Int32 in [0, 1, 7, 200] {
            let result = try Support.boot(image, kernel: ["--status=\(status)"])
            XCTAssertEqual(result.status, status, result.errors)
        }
    }

    func testAbortHaltsWith255AndAMessage() throws {
        let image = try Support.kernel("exit-status")
        let result = try Support.boot(image, kernel: ["--abort"])
        XCTAssertEqual(result.status, 255)
        XCTAssertTrue(result.output.contains("requested by --abort"), result.output)
    }

    func testTrapPrintsRegistersAndHaltsWith255() throws {
        let image = try Support.kernel("exit-status")
        let result = try Support.boot(image, kernel: ["--trap"])
        XCTAssertEqual(result.status, 255, result.output + result.errors)
        XCTAssertTrue(result.output.contains("#PF"), result.output)
        XCTAssertTrue(result.output.contains("rip="), result.output)
        XCTAssertFalse(result.output.contains("still running"))
    }

    func testSwiftFatalErrorTrapsAndHaltsWith255() throws {
        let image = try Support.kernel("exit-status")
        let result = try Support.boot(image, kernel: ["--fatal"])
        XCTAssertEqual(result.status, 255, result.output + result.errors)
        XCTAssertTrue(result.output.contains("Riad: trap: #UD"), result.output)
    }

    func testClocks() throws {
        let image = try Support.kernel("clocks")
        let hostBefore = UInt64(Date().timeIntervalSince1970 * 1e9)
        let result = try Support.boot(image)
        let hostAfter = UInt64(Date().timeIntervalSince1970 * 1e9)
        XCTAssertEqual(result.status, 0, result.output + result.errors)
        XCTAssertTrue(result.output.contains("SUCCESS"), result.output)
        let wall = try XCTUnwrap(value(of: "wall", in: result.output))
        // Within a second of the host's clock while the kernel ran.
        XCTAssertGreaterThan(wall + 1_000_000_000, hostBefore)
        XCTAssertLessThan(wall, hostAfter + 1_000_000_000)
        let slept = try XCTUnwrap(value(of: "slept", in: result.output))
        XCTAssertGreaterThanOrEqual(slept, 50_000_000)
    }

    func testBlockRoundTripAndRefusals() throws {
        let image = try Support.kernel("block")
        let disk = FileManager.default.temporaryDirectory.appendingPathComponent("riad-block-\(getpid()).img")
        defer { try? FileManager.default.removeItem(at: disk) }
        try Data(count: 64 * 1024).write(to: disk)
        let result = try Support.boot(image, tender: ["--block:storage=\(disk.path)"])
        XCTAssertEqual(result.status, 0, result.output + result.errors)
        XCTAssertTrue(result.output.contains("capacity=65536 block=512"), result.output)
        XCTAssertTrue(result.output.contains("SUCCESS"), result.output)
        // The data really reached the file: the two-block write at 0.
        let bytes = try Data(contentsOf: disk)
        XCTAssertEqual(bytes[1], UInt8(truncatingIfNeeded: 1 * 7 + 1 + 1))
    }

    func testBlockSectorSizeOption() throws {
        let image = try Support.kernel("block")
        let disk = FileManager.default.temporaryDirectory.appendingPathComponent(
            "riad-block4k-\(getpid()).img")
        defer { try? FileManager.default.removeItem(at: disk) }
        try Data(count: 64 * 1024).write(to: disk)
        let result = try Support.boot(
            image, tender: ["--block:storage=\(disk.path)", "--block-sector-size:storage=4096"])
        XCTAssertEqual(result.status, 0, result.output + result.errors)
        XCTAssertTrue(result.output.contains("block=4096"), result.output)
    }

    func testAllocatorReusesFreedMemory() throws {
        let image = try Support.kernel("heap")
        let result = try Support.boot(image, tender: ["--mem=4"])
        XCTAssertEqual(result.status, 0, result.output + result.errors)
        XCTAssertTrue(result.output.contains("SUCCESS"), result.output)
    }

    func testSwiftConcurrencyRunsOnTheEventLoop() throws {
        let image = try Support.kernel("async")
        let result = try Support.boot(image, tender: ["--mem=2"])
        XCTAssertEqual(result.status, 0, result.output + result.errors)
        for part in ["async let", "task group", "cancellation", "timeout"] {
            XCTAssertTrue(result.output.contains("\(part): ok"), result.output)
        }
        XCTAssertTrue(result.output.contains("SUCCESS"), result.output)
    }

    private func value(of key: String, in output: String) -> UInt64? {
        for line in output.split(separator: "\n") where line.hasPrefix("\(key)=") {
            return UInt64(line.dropFirst(key.count + 1))
        }
        return nil
    }
}
