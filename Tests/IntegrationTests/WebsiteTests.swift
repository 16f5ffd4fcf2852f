import Foundation
import XCTest

/// `curl` against examples/website: on hvt and unix with the direct stack
/// through a tap, and on unix with the socket stack (no tap, no root).
final class WebsiteTests: XCTestCase {
    private func curl(_ arguments: [String]) throws -> Support.Result {
        try Support.run("/usr/bin/curl", ["-s", "--max-time", "10"] + arguments, timeout: 30)
    }

    /// The checks every variant passes, against `base` (`http://HOST:PORT`).
    private func checkSite(_ base: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let index = try curl(["-i", base + "/"])
        XCTAssertTrue(index.output.hasPrefix("HTTP/1.1 200 OK"), index.output, file: file, line: line)
        XCTAssertTrue(
            index.output.contains("Content-Type: text/html; charset=utf-8"), index.output, file: file,
            line: line)
        XCTAssertTrue(
            index.output.contains("Served by a Riad unikernel"), index.output, file: file, line: line)
        let etag = try XCTUnwrap(
            index.output.split(separator: "\r\n").first { $0.hasPrefix("ETag: ") }?.dropFirst(6),
            index.output,
            file: file, line: line)

        let css = try curl(["-i", base + "/css/site.css"])
        XCTAssertTrue(
            css.output.contains("Content-Type: text/css; charset=utf-8"), css.output, file: file, line: line)

        let missing = try curl(["-o", "/dev/null", "-w", "%{http_code}", base + "/nope.html"])
        XCTAssertEqual(missing.output, "404", file: file, line: line)

        let cached = try curl([
            "-o", "/dev/null", "-w", "%{http_code}", "-H", "If-None-Match: \(etag)", base + "/",
        ])
        XCTAssertEqual(cached.output, "304", file: file, line: line)

        let head = try curl(["-I", base + "/robots.txt"])
        XCTAssertTrue(head.output.contains("Content-Length: 23"), head.output, file: file, line: line)
        XCTAssertTrue(
            head.output.contains("Content-Type: text/plain; charset=utf-8"), head.output, file: file,
            line: line)

        // Keep-alive: two requests, one connection.
        let twice = try curl(["-v", base + "/robots.txt", base + "/robots.txt"])
        XCTAssertTrue(
            twice.errors.contains("Re-using existing connection"), twice.errors, file: file, line: line)
    }

    func testWebsiteOnHvt() throws {
        try TapFixture.requireTap()
        try Support.requireKVM()
        let image = try Support.kernel("website", examples: true)
        let tap = try TapFixture(prefix: "riadwh", subnet: 73)
        try tap.start(
            Support.tender, ["--mem=16", "--net:service=\(tap.name)", image.path] + tap.addressArguments)
        try tap.waitForOutput(containing: "serving on port 80")
        try checkSite("http://\(tap.kernelAddress)")
    }

    func testWebsiteOnUnixWithTheDirectStack() throws {
        try TapFixture.requireTap()
        let executable = try Support.unixKernel("website", examples: true)
        let tap = try TapFixture(prefix: "riadwu", subnet: 74)
        try tap.start(executable.path, ["--net:service=\(tap.name)", "--"] + tap.addressArguments)
        try tap.waitForOutput(containing: "serving on port 80")
        try checkSite("http://\(tap.kernelAddress)")
    }

    func testWebsiteOnUnixWithTheSocketStack() throws {
        let executable = try Support.unixKernel("website", examples: true, stack: .socket)
        let port = 20000 + Int(getpid() % 20000)
        let kernel = Process()
        kernel.executableURL = executable
        kernel.arguments = ["--", "--port=\(port)", "--bind-address=127.0.0.1"]
        let output = Pipe()
        kernel.standardOutput = output
        try kernel.run()
        defer {
            kernel.terminate()
            kernel.waitUntilExit()
        }
        var ready = false
        for _ in 0..<100 where !ready {
            ready = (try? curl(["-o", "/dev/null", "http://127.0.0.1:\(port)/"]))?.status == 0
            if !ready { usleep(100_000) }
        }
        XCTAssertTrue(ready, "the website did not answer on 127.0.0.1:\(port)")
        try checkSite("http://127.0.0.1:\(port)")
    }
}
