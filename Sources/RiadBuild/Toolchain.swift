import Foundation

/// The Swift toolchain a kernel is built with: `swiftc`, and the `clang` and
/// `ld.lld` beside it (so that C and Swift objects come from one LLVM).
public struct Toolchain {
    public let swiftc: String
    public let clang: String
    public let lld: String
    /// Embedded Swift's libraries for the kernel triple.
    public let embeddedLibraries: String

    /// libstdc++'s red-black tree, which Embedded Swift's concurrency
    /// library uses (only tree.o is linked from it).
    public let libstdcxx: String

    /// Archives every kernel links; the linker takes only what is used.
    public var kernelLibraries: [String] {
        [
            "\(embeddedLibraries)/libswift_Concurrency.a", libstdcxx,
            "\(embeddedLibraries)/libswiftUnicodeDataTables.a",
        ]
    }

    /// The triple kernels are compiled for. Embedded Swift's concurrency
    /// library exists only for this triple; nothing in it needs Linux.
    public static let kernelTriple = "x86_64-unknown-linux-gnu"

    /// Finds the toolchain from `SWIFTC`, else `swiftc` on `PATH`.
    public static func find() throws(BuildError) -> Toolchain {
        let environment = ProcessInfo.processInfo.environment
        var swiftc = environment["SWIFTC"] ?? ""
        if swiftc.isEmpty {
            for directory in (environment["PATH"] ?? "/usr/bin").split(separator: ":") {
                let candidate = "\(directory)/swiftc"
                if FileManager.default.isExecutableFile(atPath: candidate) {
                    swiftc = candidate
                    break
                }
            }
        }
        guard !swiftc.isEmpty else {
            throw BuildError(
                "cannot find swiftc: install the Swift toolchain (swift.org) and put its bin/ on PATH")
        }
        // swiftc is a link to swift-driver, which acts on the name it is run
        // by: keep the name, follow the link only to find the toolchain.
        let bin = URL(fileURLWithPath: swiftc).resolvingSymlinksInPath().deletingLastPathComponent()
        let usr = bin.deletingLastPathComponent()
        let clang = bin.appendingPathComponent("clang").path
        let toolchain = Toolchain(
            swiftc: swiftc, clang: clang, lld: bin.appendingPathComponent("ld.lld").path,
            embeddedLibraries: usr.appendingPathComponent("lib/swift/embedded/\(kernelTriple)").path,
            libstdcxx: findLibstdcxx(clang: clang))
        for tool in [toolchain.clang, toolchain.lld] where !FileManager.default.isExecutableFile(atPath: tool)
        {
            throw BuildError(
                "the Swift toolchain at \(usr.path) has no \(URL(fileURLWithPath: tool).lastPathComponent); "
                    + "kernels need a toolchain from swift.org, which ships clang and ld.lld")
        }
        guard FileManager.default.fileExists(atPath: toolchain.libstdcxx) else {
            throw BuildError(
                "cannot find libstdc++.a, which kernels link for Swift concurrency: "
                    + "install the Debian package g++ (or libstdc++-12-dev)")
        }
        guard FileManager.default.fileExists(atPath: toolchain.embeddedLibraries) else {
            throw BuildError(
                "the Swift toolchain at \(usr.path) has no Embedded Swift libraries for \(kernelTriple) "
                    + "(Swift 6.3 or later from swift.org has them)")
        }
        return toolchain
    }
}

/// Where the C++ compiler's libstdc++.a is, as clang sees it.
private func findLibstdcxx(clang: String) -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: clang)
    process.arguments = ["--target=x86_64-unknown-linux-gnu", "-print-file-name=libstdc++.a"]
    let output = Pipe()
    process.standardOutput = output
    guard (try? process.run()) != nil else { return "" }
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
}

/// A build failure: a message for the user, and the exit status of `riad`.
public struct BuildError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
