import ArgumentParser
import Foundation
import RiadBuild

/// A tap interface `riad run` made for one run (`--net:NAME=auto`): created
/// and addressed before the kernel starts, removed when it exits.
struct RunTap {
    let device: String
    let interface: String
    /// The host's address on the tap, and the kernel's.
    let hostAddress: String
    let kernelAddress: String
    let prefixLength = 24

    /// Makes a tap `riadN` on the first free 10.83.N.0/24 (N from 0 to 255).
    static func create(for device: String) throws -> RunTap {
        guard getuid() == 0 else {
            throw ValidationError(
                "--net:\(device)=auto creates a tap interface, which needs root; run as root, "
                    + "name an existing tap (--net:\(device)=tap0), or use --net:\(device)=user")
        }
        guard let ip = findExecutable("ip") else {
            throw ValidationError("--net:\(device)=auto needs the `ip` command: apt-get install iproute2")
        }
        let used = (try? run(ip, ["-4", "-o", "addr", "show"]).output) ?? ""
        for n in 0..<256 {
            let interface = "riad\(n)"
            let subnet = "10.83.\(n)."
            guard !FileManager.default.fileExists(atPath: "/sys/class/net/\(interface)"),
                !used.contains(" \(subnet)")
            else { continue }
            let tap = RunTap(
                device: device, interface: interface, hostAddress: subnet + "1", kernelAddress: subnet + "2")
            for command in [
                ["tuntap", "add", "dev", interface, "mode", "tap"],
                ["addr", "add", "\(tap.hostAddress)/\(tap.prefixLength)", "dev", interface],
                ["link", "set", interface, "up"],
            ] {
                let result = try run(ip, command)
                guard result.status == 0 else {
                    tap.remove()
                    throw ValidationError(
                        "cannot set up tap \(interface): ip \(command.joined(separator: " ")): \(result.output)"
                    )
                }
            }
            return tap
        }
        throw ValidationError("no free tap name and subnet (riad0-255, 10.83.0-255.0/24)")
    }

    /// The kernel's runtime arguments that give it its address.
    var kernelArguments: [String] {
        ["--ipv4=\(kernelAddress)/\(prefixLength)", "--ipv4-gateway=\(hostAddress)"]
    }

    func remove() {
        guard let ip = findExecutable("ip") else { return }
        _ = try? Self.run(ip, ["link", "del", interface])
    }

    static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

func findExecutable(_ name: String) -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/sbin:/usr/bin:/sbin:/bin"
    for directory in path.split(separator: ":") + ["/usr/sbin", "/sbin"] {
        let candidate = "\(directory)/\(name)"
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
}

/// Runs `arguments` as a child, passing its output through, and returns
/// its exit status (128 + N for signal N, as a shell reports it). SIGINT
/// and SIGTERM go to the child too (it shares the terminal's process group;
/// riad ignores them meanwhile, so that it can clean up after).
func runChild(_ arguments: [String]) throws -> Int32 {
    var pid: pid_t = 0
    let cArguments = arguments.map { strdup($0) } + [nil]
    defer { cArguments.forEach { free($0) } }
    // The kernel gets SIGINT and SIGTERM's default action even where riad
    // was started with them ignored (a background job of a script).
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var defaults = sigset_t()
    sigemptyset(&defaults)
    sigaddset(&defaults, SIGINT)
    sigaddset(&defaults, SIGTERM)
    posix_spawnattr_setsigdefault(&attributes, &defaults)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF))
    let spawned = posix_spawn(&pid, arguments[0], nil, &attributes, cArguments, environ)
    guard spawned == 0 else {
        throw ValidationError("cannot start \(arguments[0]): \(String(cString: strerror(spawned)))")
    }
    signal(SIGINT, SIG_IGN)
    signal(SIGTERM, SIG_IGN)
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    let exited = status & 0x7f == 0
    return exited ? (status >> 8) & 0xff : 128 + (status & 0x7f)
}

/// User-mode networking for `riad run` (`--net:NAME=user`, hvt only):
/// riad-hvt runs the network with libslirp (its helper riad-slirp), and
/// `--forward=` options make kernel ports reachable from the host. riad
/// gives the kernel libslirp's address for it and says where the forwards
/// are.
enum RunUserNetwork {
    static let kernelAddress = "10.0.2.15"
    static let hostAddress = "10.0.2.2"
    static let kernelArguments = ["--ipv4=\(kernelAddress)/24", "--ipv4-gateway=\(hostAddress)"]

    /// The device a `--net:NAME=user` option names, or nil for any other option.
    static func device(in option: String) -> String? {
        guard option.hasPrefix("--net:"), option.hasSuffix("=user") else { return nil }
        let name = String(option.dropFirst("--net:".count).dropLast("=user".count))
        return name.isEmpty ? nil : name
    }

    /// The unix target has its own way to networking without root.
    static func unixRefusal(device: String) -> ValidationError {
        ValidationError(
            "--net:\(device)=user is user-mode networking for hvt kernels; on unix, give the device "
                + "`stack = \"socket\"` in unikernel.toml instead: the kernel then uses the host's own "
                + "sockets, with no tap and no root (and needs no --net option)")
    }

    /// `service is on user networking: …`, saying where each forward is.
    static func describe(device: String, forwards: [String]) -> String {
        let reach = forwards.map { value -> String in
            let parts = value.dropFirst("--forward=".count).split(separator: ":").map(String.init)
            guard parts.count == 3 || parts.count == 4 else { return value }
            let address = parts.count == 4 ? parts[1] : "127.0.0.1"
            return "\(parts[0]) \(address):\(parts[parts.count - 2]) -> port \(parts[parts.count - 1])"
        }
        let reachable =
            reach.isEmpty
            ? "nothing on the host reaches it without --forward=tcp:HOSTPORT:GUESTPORT"
            : "forwarded to it: " + reach.joined(separator: ", ")
        return "\(device) is on user networking: the kernel is at \(kernelAddress), the host at "
            + "\(hostAddress); \(reachable)"
    }
}
