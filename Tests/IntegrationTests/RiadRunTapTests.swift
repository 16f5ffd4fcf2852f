import Foundation
import XCTest

/// `riad run --net:NAME=auto`: a tap made for the run, the kernel given an
/// address on it, reached with nc, and the tap removed when the kernel exits.
final class RiadRunTapTests: XCTestCase {
    func testAutoTapOnHvt() throws {
        try TapFixture.requireTap()
        try Support.requireKVM()
        _ = try Support.kernel("echo", examples: true)  // built before riad runs it
        let riad = Process()
        riad.executableURL = Support.products.appendingPathComponent("riad")
        riad.arguments = [
            "run", Support.root.appendingPathComponent("examples/echo").path, "-t", "hvt",
            "--net:service=auto",
        ]
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("riad-auto-\(getpid()).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: log) }
        let handle = try FileHandle(forWritingTo: log)
        riad.standardOutput = handle
        riad.standardError = handle
        try riad.run()

        // "riad: service is on tap riadN: the kernel is at A, the host at B"
        var printed = ""
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline && !printed.contains("listening") && riad.isRunning {
            usleep(50_000)
            printed = String(decoding: (try? Data(contentsOf: log)) ?? Data(), as: UTF8.self)
        }
        let line = try XCTUnwrap(printed.split(separator: "\n").first { $0.contains("is on tap") }, printed)
        let words = line.split(separator: " ")
        let tap = String(try XCTUnwrap(words.firstIndex(of: "tap").map { words[$0 + 1] }, printed).dropLast())
        let address = String(
            try XCTUnwrap(words.firstIndex(of: "at").map { words[$0 + 1] }, printed).dropLast())
        XCTAssertTrue(FileManager.default.fileExists(atPath: "/sys/class/net/\(tap)"))

        let echo = try Support.run(
            "/bin/sh", ["-c", "printf 'over auto\\n' | nc -N -w 10 \(address) 7"], timeout: 30)
        XCTAssertEqual(echo.output, "over auto\n", printed)

        // The kernel (riad's child) stops; riad removes the tap and exits
        // with the kernel's status.
        let children = try Support.run("/usr/bin/pgrep", ["-P", String(riad.processIdentifier)])
        for child in children.output.split(separator: "\n") { kill(pid_t(child)!, SIGTERM) }
        riad.waitUntilExit()
        XCTAssertFalse(
            FileManager.default.fileExists(atPath: "/sys/class/net/\(tap)"), "\(tap) was left behind")
    }
}
