import Foundation
import XCTest

/// The riad command: new, configure, build, run, clean, and incremental
/// builds (nothing recompiled when nothing changed; only the application
/// after an edit).
final class RiadToolTests: XCTestCase {
    var riad: String { Support.products.appendingPathComponent("riad").path }

    private func temporaryFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "riad-tool-\(getpid())-\(name.hashValue)")
        try? FileManager.default.removeItem(at: folder)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        return folder
    }

    func testNewThenRunOnUnixAndHvt() throws {
        let folder = try temporaryFolder()
        let created = try Support.run(riad, ["new", "greeter", "--directory", folder.path])
        XCTAssertEqual(created.status, 0, created.errors)
        let kernel = folder.appendingPathComponent("greeter").path
        let unix = try Support.run(
            riad, ["run", kernel, "--", "--count=2", "--period-ms=1", "--name=unix"], timeout: 300)
        XCTAssertEqual(unix.status, 0, unix.errors)
        XCTAssertEqual(unix.output, "Hello, unix!\nHello, unix!\n")
        try Support.requireKVM()
        let hvt = try Support.run(
            riad, ["run", kernel, "-t", "hvt", "--", "--count=1", "--name=hvt"], timeout: 300)
        XCTAssertEqual(hvt.status, 0, hvt.errors)
        XCTAssertEqual(hvt.output, "Hello, hvt!\n")
    }

    func testNewRefusesBadNamesAndExistingFolders() throws {
        let folder = try temporaryFolder()
        let bad = try Support.run(riad, ["new", "Bad_Name", "--directory", folder.path])
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.errors.contains("name `Bad_Name` must be"), bad.errors)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("Bad_Name").path))
        XCTAssertEqual(try Support.run(riad, ["new", "twice", "--directory", folder.path]).status, 0)
        let again = try Support.run(riad, ["new", "twice", "--directory", folder.path])
        XCTAssertEqual(again.status, 1)
        XCTAssertTrue(again.errors.contains("already exists"), again.errors)
    }

    func testConfigureWritesWiringAndCleanRemovesIt() throws {
        let folder = try temporaryFolder()
        _ = try Support.run(riad, ["new", "wired", "--directory", folder.path])
        let kernel = folder.appendingPathComponent("wired")
        let configured = try Support.run(riad, ["configure", kernel.path, "-t", "hvt"])
        XCTAssertEqual(configured.status, 0, configured.errors)
        let main = try String(
            contentsOf: kernel.appendingPathComponent("_build/hvt/riad_main.swift"), encoding: .utf8)
        XCTAssertTrue(main.contains("await Wired.start(platform: platform)"), main)
        XCTAssertTrue(
            FileManager.default.fileExists(
                atPath: kernel.appendingPathComponent("_build/hvt/riad_notes.c").path))
        XCTAssertEqual(try Support.run(riad, ["clean", kernel.path]).status, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: kernel.appendingPathComponent("_build").path))
        let notAKernel = try Support.run(riad, ["clean", folder.path])
        XCTAssertEqual(notAKernel.status, 1)
        XCTAssertTrue(notAKernel.errors.contains("not a unikernel folder"), notAKernel.errors)
    }

    func testBuildsAreIncremental() throws {
        let folder = try temporaryFolder()
        _ = try Support.run(riad, ["new", "again", "--directory", folder.path])
        let kernel = folder.appendingPathComponent("again")
        let first = try Support.run(riad, ["build", kernel.path], timeout: 300)
        XCTAssertEqual(first.status, 0, first.errors)
        // Nothing changed: no compiler and no linker runs.
        let second = try Support.run(riad, ["build", kernel.path])
        XCTAssertEqual(second.status, 0, second.errors)
        XCTAssertFalse(second.errors.contains("compiling"), second.errors)
        XCTAssertFalse(second.errors.contains("linking"), second.errors)
        XCTAssertEqual(second.output, first.output)
        // An edit to the application recompiles it alone, not the libraries.
        let source = kernel.appendingPathComponent("Again.swift")
        let text = try String(contentsOf: source, encoding: .utf8)
        try text.replacingOccurrences(of: "Hello, ", with: "Hi, ").write(
            to: source, atomically: true, encoding: .utf8)
        let third = try Support.run(riad, ["build", kernel.path])
        XCTAssertEqual(third.status, 0, third.errors)
        XCTAssertTrue(third.errors.contains("compiling again for unix"), third.errors)
        XCTAssertFalse(third.errors.contains("compiling Riad"), third.errors)
        XCTAssertFalse(third.errors.contains("compiling PlatformUnix"), third.errors)
        let run = try Support.run(third.output.trimmingCharacters(in: .whitespacesAndNewlines), ["--count=1"])
        XCTAssertEqual(run.output, "Hi, world!\n")
    }

    func testCompilerErrorsPointAtTheUsersFile() throws {
        let folder = try temporaryFolder()
        _ = try Support.run(riad, ["new", "broken", "--directory", folder.path])
        try "let x: Int = \"not a number\"\n".write(
            to: folder.appendingPathComponent("broken/Mistake.swift"), atomically: true, encoding: .utf8)
        let result = try Support.run(
            riad, ["build", folder.appendingPathComponent("broken").path], timeout: 300)
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.errors.contains("Mistake.swift:1:"), result.errors + result.output)
    }
}
