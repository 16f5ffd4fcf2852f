import Foundation
import RiadBuild
import XCTest

/// What the integration tests share: the checkout, the kernel builder and a
/// way to run a program with a time limit and capture what it printed.
enum Support {
    /// The Riad checkout.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// Where SwiftPM put this test bundle, and riad-hvt beside it.
    static let products: URL = {
        let bundle = Bundle.main.bundleURL
        for candidate in [bundle, bundle.deletingLastPathComponent()] {
            if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("riad-hvt").path) {
                return candidate
            }
        }
        return root.appendingPathComponent(".build/debug")
    }()

    static var tender: String { products.appendingPathComponent("riad-hvt").path }

    // XCTest runs one test at a time, so the cache needs no lock.
    nonisolated(unsafe) private static var built: [String: URL] = [:]

    /// Builds a test kernel (Tests/Kernels/NAME) or an example (examples/NAME).
    static func kernel(_ name: String, examples: Bool = false) throws -> URL {
        if let image = built[name] { return image }
        let folder = root.appendingPathComponent(examples ? "examples/\(name)" : "Tests/Kernels/\(name)")
        let builder = KernelBuilder(root: root, toolchain: try Toolchain.find())
        let image = try builder.buildHvt(unikernel: folder)
        built[name] = image
        return image
    }

    /// Skips the test unless this user can run KVM guests.
    static func requireKVM() throws {
        try XCTSkipUnless(
            access("/dev/kvm", R_OK | W_OK) == 0,
            "/dev/kvm is missing or not usable: hvt kernels cannot boot here")
    }

    struct Result {
        let status: Int32
        /// The signal that killed the process, if one did.
        let signal: Int32?
        let output: String
        let errors: String
    }

    /// Runs `executable` with `arguments`, killing it after `timeout` seconds.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String], timeout: TimeInterval = 60) throws -> Result
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        // Files rather than pipes: nothing can block on a full pipe, and
        // what a killed process printed is still there to read.
        let directory = FileManager.default.temporaryDirectory
        let outputFile = directory.appendingPathComponent("riad-test-\(getpid())-out")
        let errorFile = directory.appendingPathComponent("riad-test-\(getpid())-err")
        FileManager.default.createFile(atPath: outputFile.path, contents: nil)
        FileManager.default.createFile(atPath: errorFile.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: outputFile)
            try? FileManager.default.removeItem(at: errorFile)
        }
        process.standardOutput = try FileHandle(forWritingTo: outputFile)
        process.standardError = try FileHandle(forWritingTo: errorFile)
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(2_000) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            throw TestFailure(description: "\(executable) \(arguments) ran longer than \(timeout) s")
        }
        process.waitUntilExit()
        let outputData = try Data(contentsOf: outputFile)
        let errorData = try Data(contentsOf: errorFile)
        let signaled = process.terminationReason == .uncaughtSignal
        return Result(
            status: process.terminationStatus, signal: signaled ? process.terminationStatus : nil,
            output: String(decoding: outputData, as: UTF8.self),
            errors: String(decoding: errorData, as: UTF8.self))
    }

    /// Boots `image` under riad-hvt.
    @discardableResult
    static func boot(_ image: URL, tender options: [String] = [], kernel arguments: [String] = []) throws
        -> Result
    {
        try run(tender, options + [image.path] + arguments)
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
}
