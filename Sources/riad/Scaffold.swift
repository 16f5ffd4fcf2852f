import ArgumentParser
import Foundation
import RiadBuild

struct New: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create a unikernel: a folder with unikernel.toml and a Swift file that runs.",
        discussion: """
            Example: riad new greeter && riad run greeter -- --name=you
            The name is 1 to 63 lower-case letters, digits or '-', starting with a letter.
            """)

    @Argument(help: "The unikernel's name, also the folder created.")
    var name: String
    @Option(help: "Where to create the folder (default: the current folder).")
    var directory: String = "."

    func run() throws {
        let folder = URL(fileURLWithPath: directory).appendingPathComponent(name)
        guard !FileManager.default.fileExists(atPath: folder.path) else {
            throw failure("\(folder.path) already exists; choose another name or remove it")
        }
        let entry = Scaffold.typeName(for: name)
        let manifest = Scaffold.manifest(name: name, entry: entry)
        // Validate before writing anything: nothing is half-made on an error.
        do { _ = try UnikernelManifest(text: manifest, file: "\(name)/unikernel.toml") } catch {
            throw failure("cannot create \(name): \(error.message)")
        }
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try manifest.write(
                to: folder.appendingPathComponent(UnikernelManifest.fileName), atomically: true,
                encoding: .utf8)
            try Scaffold.source(entry: entry, name: name).write(
                to: folder.appendingPathComponent("\(entry).swift"), atomically: true, encoding: .utf8)
        } catch {
            try? FileManager.default.removeItem(at: folder)
            throw failure("cannot create \(folder.path): \(error.localizedDescription)")
        }
        print("created \(folder.path); run it with: riad run \(folder.path)")
    }
}

struct Configure: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a unikernel's generated wiring for a target, without building.",
        discussion: "Example: riad configure examples/hello -t hvt  (writes examples/hello/_build/hvt/)")

    @Argument(help: "The unikernel's folder (with unikernel.toml).")
    var directory: String = "."
    @Option(name: [.short, .long], help: "unix or hvt.")
    var target: Target = .defaultTarget
    @Option(help: "The network stack of every net device that has one: direct or socket (unix).")
    var stack: StackChoice?

    func run() throws {
        let configuration = try withBuilder(directory: directory, verbose: false, stack: stack) {
            builder throws(BuildError) in
            try builder.configure(
                unikernel: URL(fileURLWithPath: directory).standardizedFileURL, target: target)
        }
        for file in configuration.generated { print(file.path) }
    }
}

struct Clean: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Remove a unikernel's build folder (_build).",
        discussion: "Example: riad clean examples/hello")

    @Argument(help: "The unikernel's folder (with unikernel.toml).")
    var directory: String = "."

    func run() throws {
        let folder = URL(fileURLWithPath: directory)
        guard
            FileManager.default.fileExists(
                atPath: folder.appendingPathComponent(UnikernelManifest.fileName).path)
        else {
            throw failure("\(folder.path) has no \(UnikernelManifest.fileName): not a unikernel folder")
        }
        let build = folder.appendingPathComponent("_build")
        if FileManager.default.fileExists(atPath: build.path) {
            do { try FileManager.default.removeItem(at: build) } catch {
                throw failure("cannot remove \(build.path): \(error.localizedDescription)")
            }
            print("removed \(build.path)")
        }
    }
}

/// The files `riad new` writes.
enum Scaffold {
    /// "my-kernel" → "MyKernel".
    static func typeName(for name: String) -> String {
        name.split(separator: "-").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }

    static func manifest(name: String, entry: String) -> String {
        """
        # The unikernel's manifest: see docs/manifest.md.
        name = "\(name)"
        entry = "\(entry)"

        # Devices it needs, e.g.:
        # [[device]]
        # name = "service"
        # kind = "net"

        [hvt]
        memory = 4

        """
    }

    static func source(entry: String, name: String) -> String {
        """
        import Riad
        import _Concurrency

        /// \(name): greets `--name` every `--period-ms` milliseconds, `--count` times.
        struct \(entry) {
            static func start<P: Platform>(platform: P) async -> Int32 {
                var arguments = RuntimeArguments(program: "\(name)")
                let who = arguments.string("name", default: "world", help: "whom to greet")
                let count = arguments.unsigned("count", default: 3, help: "how many greetings")
                let period = arguments.unsigned("period-ms", default: 500, help: "milliseconds between them")
                let values: RuntimeArguments.Values
                switch arguments.parse(platform.arguments, platform) {
                case .run(let parsed): values = parsed
                case .exit(let status): return status
                }
                for greeting in 0..<values[count] {
                    if greeting > 0 {
                        do throws(RiadError) {
                            try await platform.sleep(nanoseconds: values[period] &* 1_000_000)
                        } catch {
                            return ExitStatus.failure
                        }
                    }
                    platform.write("Hello, \\(values[who])!\\n")
                }
                return ExitStatus.success
            }
        }

        """
    }
}

/// A message for the user and `riad`'s failure status.
func failure(_ message: String) -> Error {
    Terminal.error(message)
    return ExitCode(1)
}
