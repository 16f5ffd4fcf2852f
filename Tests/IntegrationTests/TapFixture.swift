import Foundation
import XCTest

/// A tap interface for one test, with the host at 10.N.M.1/24 and the
/// kernel to be at 10.N.M.2, and a kernel process attached to it; both
/// removed when the test ends.
final class TapFixture {
    let name: String
    let hostAddress: String
    let kernelAddress: String
    private(set) var kernel: Process?
    /// What the kernel prints goes here (a file: readable while it runs).
    let outputFile: URL

    /// `prefix` keeps concurrent fixtures of different tests apart.
    init(prefix: String, subnet: Int) throws {
        name = "\(prefix)\(getpid() % 10000)"
        outputFile = FileManager.default.temporaryDirectory.appendingPathComponent("riad-\(name).out")
        let network = "10.\(subnet).\(getpid() % 250)"
        hostAddress = network + ".1"
        kernelAddress = network + ".2"
        _ = try? Support.run("/sbin/ip", ["link", "del", name])
        try Support.run("/sbin/ip", ["tuntap", "add", "dev", name, "mode", "tap"]).check()
        try Support.run("/sbin/ip", ["addr", "add", hostAddress + "/24", "dev", name]).check()
        try Support.run("/sbin/ip", ["link", "set", name, "up"]).check()
    }

    deinit {
        stop()
        _ = try? Support.run("/sbin/ip", ["link", "del", name])
        try? FileManager.default.removeItem(at: outputFile)
    }

    /// The runtime arguments that give the kernel its address.
    var addressArguments: [String] { ["--ipv4=\(kernelAddress)/24", "--ipv4-gateway=\(hostAddress)"] }

    /// Starts the kernel and waits until it has opened the tap.
    func start(_ executable: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        FileManager.default.createFile(atPath: outputFile.path, contents: nil)
        let handle = try FileHandle(forWritingTo: outputFile)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        kernel = process
        let deadline = Date().addingTimeInterval(30)
        while process.isRunning && Date() < deadline {
            let carrier = try? String(contentsOfFile: "/sys/class/net/\(name)/carrier", encoding: .utf8)
            if carrier?.hasPrefix("1") == true { return }
            usleep(10_000)
        }
        throw TestFailure(description: "\(name) got no carrier; the kernel said: \(stop())")
    }

    /// Stops the kernel if it still runs; returns what it printed.
    @discardableResult
    func stop() -> String {
        guard let kernel else { return "" }
        if kernel.isRunning {
            kernel.terminate()
        }
        kernel.waitUntilExit()
        self.kernel = nil
        return output
    }

    /// What the kernel has printed so far.
    var output: String {
        String(decoding: (try? Data(contentsOf: outputFile)) ?? Data(), as: UTF8.self)
    }

    /// Waits until the kernel's output contains `text`; returns the output.
    @discardableResult
    func waitForOutput(containing text: String, timeout: TimeInterval = 30) throws -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let printed = output
            if printed.contains(text) { return printed }
            if kernel?.isRunning != true { break }
            usleep(20_000)
        }
        throw TestFailure(description: "the kernel did not print \"\(text)\"; it printed: \(output)")
    }

    /// Skips the test unless this process can make tap devices.
    static func requireTap() throws {
        try XCTSkipUnless(getuid() == 0, "tap devices need root")
        try XCTSkipUnless(access("/dev/net/tun", R_OK | W_OK) == 0, "/dev/net/tun is missing")
    }
}
