import Foundation
import XCTest

/// Kernels and files that try to hurt the tender or the host. Each must end
/// with a clear message and a non-zero status, and the host must not care.
final class HvtHostileTests: XCTestCase {
    override func setUp() async throws { try Support.requireKVM() }

    func testBadHypercallsStopTheKernel() throws {
        let image = try Support.kernel("hostile")
        let cases: [(String, String)] = [
            ("struct-outside", "invalid hypercall argument"),
            ("struct-straddles", "invalid hypercall argument"),
            ("struct-lowmem", "invalid hypercall argument"),
            ("puts-outside", "invalid console buffer"),
            ("puts-overflow", "invalid console buffer"),
            ("halt-cookie-outside", "invalid halt cookie"),
            ("bad-number", "port 0x52a (4 bytes, out), which is not a hypercall"),
        ]
        for (name, message) in cases {
            let result = try Support.boot(image, tender: ["--mem=2"], kernel: ["--case=\(name)"])
            XCTAssertEqual(result.status, 1, "\(name): \(result.output) \(result.errors)")
            XCTAssertTrue(result.errors.contains("riad-hvt: error: "), "\(name): \(result.errors)")
            XCTAssertTrue(result.errors.contains(message), "\(name): \(result.errors)")
            XCTAssertFalse(result.output.contains("let case"), "\(name): \(result.output)")
        }
    }

    func testReadingLowMemoryIsAllowed() throws {
        let image = try Support.kernel("hostile")
        let result = try Support.boot(image, kernel: ["--case=puts-lowmem"])
        XCTAssertEqual(result.status, 0, result.output + result.errors)
        XCTAssertTrue(result.output.hasPrefix("--case=puts-low\nSUCCESS"), result.output)
    }

    func testBadHandlesAreAnsweredNotFatal() throws {
        let image = try Support.kernel("hostile")
        let result = try Support.boot(image, kernel: ["--case=bad-handle"])
        XCTAssertEqual(result.status, 0, result.output + result.errors)
        XCTAssertTrue(result.output.contains("SUCCESS"))
    }

    // MARK: - The net ring

    /// Ring entries that break the protocol, written by hostile-ring into
    /// the ring itself: the tender's I/O thread stops the kernel with
    /// status 1 and says how. The ring is offered only with a net device
    /// attached, hence a tap.
    func testBadRingEntriesStopTheKernel() throws {
        try TapFixture.requireTap()
        let image = try Support.kernel("hostile-ring")
        let tap = try TapFixture(prefix: "riadhr", subnet: 81)
        let cases: [(String, String)] = [
            // 8 MiB of memory, the ring's 2 MiB page above it.
            ("ring-outside", "entry 0: guest gave an invalid frame: 60 bytes at 0xc00000 (guest memory is"),
            ("ring-into-ring", "entry 0: guest gave an invalid frame: 60 bytes at 0x800000 (guest memory is"),
            ("ring-bad-operation", "entry 0 has unknown operation 7"),
            ("ring-bad-handle", "entry 0 names handle 9, which is no attached network device"),
            (
                "ring-oversize",
                "entry 0 sends a frame of 1515 bytes on 'service' (frames are 14 to 1514 bytes)"
            ),
            (
                "ring-tail-ahead",
                "ent_tail is 5000 with ent_head at 0: moved backwards or past the ring's 1024"
            ),
        ]
        // As Solo5's ring (no offload), and the oversize case with offload.
        let offloaded = (
            "ring-oversize",
            "entry 0 sends a frame of 65562 bytes on 'service' (frames are 26 to 65561 bytes)"
        )
        for (name, message) in cases + [offloaded] {
            let offload = name == offloaded.0 && message == offloaded.1 ? "on" : "off"
            let result = try Support.boot(
                image, tender: ["--mem=8", "--net-offload=\(offload)", "--net:service=\(tap.name)"],
                kernel: ["--case=\(name)"])
            XCTAssertEqual(result.status, 1, "\(name): \(result.output) \(result.errors)")
            XCTAssertTrue(
                result.errors.contains("riad-hvt: error: the kernel broke the net ring's protocol: "),
                "\(name): \(result.errors)")
            XCTAssertTrue(result.errors.contains(message), "\(name): \(result.errors)")
            XCTAssertFalse(result.output.contains("let case"), "\(name): \(result.output)")
        }
    }

    /// The same kernel writing one good entry the same way is served: the
    /// cases above fail for their one fault, not for how they write.
    func testAGoodRingEntryIsServed() throws {
        try TapFixture.requireTap()
        let image = try Support.kernel("hostile-ring")
        let tap = try TapFixture(prefix: "riadhg", subnet: 82)
        let result = try Support.boot(
            image, tender: ["--mem=8", "--net:service=\(tap.name)"], kernel: ["--case=ring-ok"])
        XCTAssertEqual(result.status, 0, result.output + result.errors)
        XCTAssertTrue(result.output.contains("SUCCESS"), result.output)
        // With --net-ring=off there is no ring, and the kernel says so.
        let noRing = try Support.boot(
            image, tender: ["--mem=8", "--net-ring=off", "--net:service=\(tap.name)"],
            kernel: ["--case=ring-ok"])
        XCTAssertEqual(noRing.status, 2, noRing.output + noRing.errors)
        XCTAssertTrue(noRing.output.contains("the tender offers no net ring"), noRing.output)
    }

    // MARK: - Malformed images

    /// Boots a copy of hello with `patch` applied to its bytes.
    private func bootPatchedHello(_ patch: (inout [UInt8]) -> Void) throws -> Support.Result {
        var bytes = [UInt8](try Data(contentsOf: try Support.kernel("hello", examples: true)))
        patch(&bytes)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("riad-bad-\(getpid()).hvt")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data(bytes).write(to: file)
        return try Support.boot(file)
    }

    private func programHeader(_ bytes: [UInt8], _ index: Int) -> Int {
        let table = Int(bytes.u64(at: 32))
        return table + index * 56
    }

    func testTruncatedImageIsRefused() throws {
        let result = try bootPatchedHello { $0 = Array($0.prefix(100)) }
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.errors.contains("riad-hvt: error: "), result.errors)
    }

    func testNotAnELFIsRefused() throws {
        let result = try bootPatchedHello { $0[1] = UInt8(ascii: "X") }
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.errors.lowercased().contains("elf"), result.errors)
    }

    func testWritableAndExecutableSegmentIsRefused() throws {
        let result = try bootPatchedHello { bytes in
            let header = self.programHeader(bytes, 0)
            bytes.setU32(7, at: header + 4)  // p_flags = R|W|X
        }
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.errors.contains("writable and executable"), result.errors)
    }

    func testOverlappingSegmentsAreRefused() throws {
        let result = try bootPatchedHello { bytes in
            let first = self.programHeader(bytes, 0)
            let second = self.programHeader(bytes, 1)
            bytes.setU64(bytes.u64(at: first + 16), at: second + 16)  // same p_vaddr
        }
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.errors.contains("overlaps"), result.errors)
    }

    func testSegmentOutsideGuestMemoryIsRefused() throws {
        let result = try bootPatchedHello { bytes in
            let first = self.programHeader(bytes, 0)
            bytes.setU64(0xffff_ffff_ffff_f000, at: first + 16)
        }
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.errors.contains("riad-hvt: error: "), result.errors)
    }

    // MARK: - Devices

    func testMissingDeviceIsRefusedBeforeBoot() throws {
        let image = try Support.kernel("block")
        let result = try Support.boot(image)
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.output, "")
        XCTAssertTrue(result.errors.contains("'storage'"), result.errors)
        XCTAssertTrue(result.errors.contains("--block:storage="), result.errors)
    }

    func testUndeclaredDeviceIsRefused() throws {
        let image = try Support.kernel("hello", examples: true)
        let result = try Support.boot(image, tender: ["--block:extra=/dev/null"])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.errors.contains("declares no device 'extra'"), result.errors)
    }

    func testBadTenderOptionsAreRefused() throws {
        for (options, message) in [
            (["--mem=abc"], "--mem=abc"), (["--frobnicate=1"], "unknown option"),
            (["--net-mac:x=zz"], "MAC address"), ([], "no kernel given"),
        ] {
            let result = try Support.run(Support.tender, options)
            XCTAssertEqual(result.status, 1, "\(options)")
            XCTAssertTrue(result.errors.contains(message), "\(options): \(result.errors)")
        }
    }

    // MARK: - Seccomp

    func testForbiddenSystemCallKillsTheTender() throws {
        let probe = Support.products.appendingPathComponent("riad-seccomp-probe").path
        let allowed = try Support.run(probe, ["allowed"])
        XCTAssertEqual(allowed.status, 0, allowed.errors)
        XCTAssertEqual(allowed.output, "still alive\n")
        let forbidden = try Support.run(probe, ["forbidden"])
        XCTAssertEqual(forbidden.signal, SIGSYS, "status \(forbidden.status): \(forbidden.output)")
        XCTAssertFalse(forbidden.output.contains("survived"))
        let executable = try Support.run(probe, ["executable"])
        XCTAssertEqual(executable.signal, SIGSYS, "status \(executable.status): \(executable.output)")
    }

    /// The filter covers threads started before it (the net ring's I/O
    /// thread): a forbidden call there kills the process too.
    func testForbiddenSystemCallInAThreadKillsTheTender() throws {
        let probe = Support.products.appendingPathComponent("riad-seccomp-probe").path
        let result = try Support.run(probe, ["thread-forbidden"])
        XCTAssertEqual(result.signal, SIGSYS, "status \(result.status): \(result.output)")
        XCTAssertFalse(result.output.contains("survived"), result.output)
    }
}

extension Array where Element == UInt8 {
    func u64(at offset: Int) -> UInt64 {
        (0..<8).reduce(UInt64(0)) { $0 | UInt64(self[offset + $1]) << (8 * $1) }
    }

    mutating func setU64(_ value: UInt64, at offset: Int) {
        for i in 0..<8 { self[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * i)) }
    }

    mutating func setU32(_ value: UInt32, at offset: Int) {
        for i in 0..<4 { self[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * i)) }
    }
}
