import ArgumentParser
import Foundation
import RiadBuild

/// Tender options name a device (`--net:service=tap0`), which
/// ArgumentParser cannot declare; they are set aside before parsing and
/// handed to the tender by `riad run`.
let (commandArguments, tenderOptions) = splitTenderOptions(Array(CommandLine.arguments.dropFirst()))
RiadCommand.main(commandArguments)

func splitTenderOptions(_ arguments: [String]) -> (command: [String], tender: [String]) {
    var command: [String] = []
    var tender: [String] = []
    var afterTerminator = false
    let prefixes = ["--net:", "--net-mac:", "--block:", "--block-sector-size:", "--forward="]
    for argument in arguments {
        if argument == "--" { afterTerminator = true }
        let isTenderOption = prefixes.contains { argument.hasPrefix($0) }
        if !afterTerminator && isTenderOption { tender.append(argument) } else { command.append(argument) }
    }
    return (command, tender)
}

/// riad: configure, build and run Riad unikernels.
struct RiadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "riad",
        abstract: "Build and run Riad unikernels.",
        discussion: """
            Exit statuses: 0 success; 1 a build or manifest error (with a message); \
            2 a usage error; riad run exits with the kernel's own status.
            """,
        subcommands: [New.self, Configure.self, Build.self, Run.self, Clean.self, Targets.self])
}

/// The targets a unikernel can be built for.
typealias Target = KernelTarget

/// `--stack`: direct or socket.
typealias StackChoice = UnikernelManifest.Stack

extension UnikernelManifest.Stack: ExpressibleByArgument {}

extension KernelTarget: ExpressibleByArgument {
    static let defaultTarget = Target.unix
}

struct Targets: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the targets.")

    func run() {
        print("hvt    a 64-bit kernel on KVM, run by riad-hvt (or solo5-hvt)")
        print("unix   a Linux process (the default; devices: tap interfaces and files)")
    }
}

struct Build: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Build a unikernel; prints the image's path last.",
        discussion: "Example: riad build examples/hello -t hvt")

    @Argument(help: "The unikernel's folder (with unikernel.toml).")
    var directory: String = "."
    @Option(name: [.short, .long], help: "unix or hvt.")
    var target: Target = .defaultTarget
    @Flag(help: "Print every command run.")
    var verbose = false

    @Option(help: "The network stack of every net device that has one: direct or socket (unix).")
    var stack: StackChoice?

    func run() throws {
        let image = try buildImage(directory: directory, target: target, verbose: verbose, stack: stack)
        print(image.path)
    }
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Build a unikernel when needed, then run it.",
        discussion: """
            Device options: --net:NAME=IFACE, --net-mac:NAME=HWADDR, --block:NAME=PATH, \
            --block-sector-size:NAME=N; on hvt also --mem=MB. Arguments after -- go to the kernel.
            --net:NAME=auto (root) creates a tap for the run, gives the kernel an address on it \
            (10.83.N.2/24, the host being 10.83.N.1), and removes it afterwards.
            --net:NAME=user (hvt; no root) puts the device on user-mode networking (libslirp): the \
            kernel is given 10.0.2.15/24 (gateway 10.0.2.2), and --forward=tcp:HOSTPORT:GUESTPORT \
            (or tcp:ADDRESS:HOSTPORT:GUESTPORT, udp:...; the address defaults to 127.0.0.1) \
            passes a host port to it. On unix, use stack = "socket" instead.
            Examples:
              riad run examples/hello -t hvt -- --count=2 --sleep-ms=10
              riad run examples/echo -t hvt --net:service=auto
              riad run examples/echo -t hvt --net:service=user --forward=tcp:7777:7
            """)

    @Argument(help: "The unikernel's folder (with unikernel.toml).")
    var directory: String = "."
    @Option(name: [.short, .long], help: "unix or hvt.")
    var target: Target = .defaultTarget
    @Flag(help: "Print every command run.")
    var verbose = false
    @Option(name: .customLong("mem"), help: "Guest memory in MiB (hvt; default from the manifest).")
    var memory: Int?
    @Option(help: "The network stack of every net device that has one: direct or socket (unix).")
    var stack: StackChoice?
    @Argument(parsing: .postTerminator, help: "The kernel's own arguments.")
    var kernelArguments: [String] = []

    func run() throws {
        if target == .unix && memory != nil {
            throw ValidationError("--mem is for hvt: a unix kernel is a process and takes what it needs")
        }
        let forwards = tenderOptions.filter { $0.hasPrefix("--forward=") }
        if target == .unix {
            if let name = tenderOptions.lazy.compactMap(RunUserNetwork.device(in:)).first {
                throw RunUserNetwork.unixRefusal(device: name)
            }
            if let forward = forwards.first {
                throw ValidationError(
                    "\(forward) is for hvt's user-mode networking (--net:NAME=user); on unix, a device "
                        + "with stack = \"socket\" listens on the host's own ports")
            }
        }
        let image = try buildImage(directory: directory, target: target, verbose: verbose, stack: stack)
        var manifest = try KernelBuilder.manifest(in: URL(fileURLWithPath: directory))
        if let stack { manifest = manifest.replacingStacks(with: stack) }
        // --net:NAME=auto: a tap made for this run, removed after it.
        var options: [String] = []
        var taps: [RunTap] = []
        var addressArguments: [String] = []
        defer { taps.forEach { $0.remove() } }
        for option in tenderOptions {
            if let name = RunUserNetwork.device(in: option) {
                // Built with the release riad-hvt, which starts it.
                if target == .unix { _ = try siblingTool("riad-slirp") }
                options.append(option)
                if manifest.devices.contains(where: { $0.name == name && $0.stack != .none }) {
                    addressArguments += RunUserNetwork.kernelArguments
                }
                Terminal.note(RunUserNetwork.describe(device: name, forwards: forwards))
                continue
            }
            guard option.hasPrefix("--net:"), option.hasSuffix("=auto") else {
                options.append(option)
                continue
            }
            let name = String(option.dropFirst("--net:".count).dropLast("=auto".count))
            let tap = try RunTap.create(for: name)
            taps.append(tap)
            options.append("--net:\(name)=\(tap.interface)")
            // The kernel's stack takes its address from these arguments.
            if manifest.devices.contains(where: { $0.name == name && $0.stack != .none }) {
                addressArguments += tap.kernelArguments
            }
            Terminal.note(
                "\(name) is on tap \(tap.interface): the kernel is at \(tap.kernelAddress), "
                    + "the host at \(tap.hostAddress)")
        }
        let command: [String]
        if target == .unix {
            // The program takes the device options itself, before its own
            // arguments (a `--` keeps kernel arguments from looking like them).
            command = [image.path] + options + ["--"] + addressArguments + kernelArguments
        } else {
            let tender = try ReleaseTender.path()
            command =
                [tender, "--mem=\(memory ?? manifest.hvtMemoryMiB)"] + options + [image.path]
                + addressArguments + kernelArguments
        }
        if taps.isEmpty { try exec(command) }
        if verbose {
            Terminal.note(command.joined(separator: " "))
        }
        let status = try runChild(command)
        taps.forEach { $0.remove() }
        taps = []
        throw ExitCode(status)
    }

    /// Replaces riad with `arguments[0]`: the kernel's output and exit status
    /// pass through unchanged.
    func exec(_ arguments: [String]) throws -> Never {
        if verbose {
            Terminal.note(arguments.joined(separator: " "))
        }
        let cArguments = arguments.map { strdup($0) } + [nil]
        execv(arguments[0], cArguments)
        throw ValidationError("cannot start \(arguments[0]): \(String(cString: strerror(errno)))")
    }
}

/// A program built beside riad (riad-hvt, or riad-hvt's user-network
/// helper riad-slirp), built first if `swift run riad` built only riad.
func siblingTool(_ name: String) throws -> String {
    let directory = executableDirectory()
    let tool = directory.appendingPathComponent(name).path
    if FileManager.default.isExecutableFile(atPath: tool) { return tool }
    guard let root = KernelBuilder.findRoot(from: directory) else {
        throw ValidationError("\(name) is not built next to riad (\(tool)); run `swift build`")
    }
    Terminal.note("building \(name)")
    let build = Process()
    build.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    build.currentDirectoryURL = root
    build.arguments = ["swift", "build", "--product", name, "-c", directory.lastPathComponent]
    try build.run()
    build.waitUntilExit()
    guard build.terminationStatus == 0, FileManager.default.isExecutableFile(atPath: tool) else {
        throw ValidationError("could not build \(name); run `swift build` in \(root.path)")
    }
    return tool
}

func executableDirectory() -> URL {
    URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
}

func buildImage(directory: String, target: Target, verbose: Bool, stack: StackChoice? = nil) throws -> URL {
    try withBuilder(directory: directory, verbose: verbose, stack: stack) { builder throws(BuildError) in
        try builder.build(unikernel: URL(fileURLWithPath: directory).standardizedFileURL, target: target)
    }
}

/// Runs `body` with a builder for the Riad checkout `riad` belongs to (or
/// the one holding `directory`); a build error becomes a message and exit 1.
func withBuilder<T>(
    directory: String, verbose: Bool, stack: StackChoice? = nil,
    _ body: (KernelBuilder) throws(BuildError) -> T
) throws
    -> T
{
    let unikernel = URL(fileURLWithPath: directory).standardizedFileURL
    guard
        let root = KernelBuilder.findRoot(from: executableDirectory())
            ?? KernelBuilder.findRoot(from: unikernel)
    else {
        throw ValidationError(
            "cannot find the Riad checkout (the folder with Sources/Riad) from \(unikernel.path)")
    }
    do {
        var builder = KernelBuilder(root: root, toolchain: try Toolchain.find())
        builder.verbose = verbose
        builder.stackOverride = stack
        builder.progress = { line in Terminal.note(line) }
        return try body(builder)
    } catch {
        throw failure(error.message)
    }
}
