import Foundation
import RiadBuild
import XCTest

/// The hvt runtime's allocator and ChaCha20 core, compiled for the host with
/// the address and undefined-behaviour sanitizers and run as plain programs.
final class RuntimeHostTests: XCTestCase {
    private func compileAndRun(_ test: String, _ sources: [String]) throws {
        let root = Support.root.path
        let clang = try Toolchain.find().clang
        let binary = FileManager.default.temporaryDirectory.appendingPathComponent("riad-\(test)-\(getpid())")
            .path
        defer { try? FileManager.default.removeItem(atPath: binary) }
        let compile = try Support.run(
            clang,
            [
                "-O1", "-g", "-fsanitize=address,undefined", "-fno-sanitize-recover=all",
                "-I", "\(root)/Sources/CPlatformHvt/runtime", "-I", "\(root)/Sources/RiadABI/include",
                "-I", "\(root)/Sources/CPlatformHvt/include", "\(root)/Tests/RuntimeTests/\(test).c",
            ] + sources.map { "\(root)/Sources/CPlatformHvt/runtime/\($0)" } + ["-lm", "-o", binary])
        XCTAssertEqual(compile.status, 0, compile.errors)
        guard compile.status == 0 else { return }
        let result = try Support.run(binary, [], timeout: 300)
        XCTAssertEqual(result.status, 0, result.output + result.errors)
        XCTAssertTrue(result.output.contains("SUCCESS"), result.output)
    }

    func testHeapAllocator() throws { try compileAndRun("heap_test", ["heap.c"]) }

    func testChaCha20() throws { try compileAndRun("chacha_test", ["chacha20.c"]) }

    func testRoundingMatchesLibm() throws { try compileAndRun("math_test", ["math.c"]) }
}
