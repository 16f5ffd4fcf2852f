import Foundation

/// Builds a unikernel folder into a kernel image for a target.
///
/// The kernel-side libraries (Riad, RiadNet, PlatformHvt and the C runtime) are
/// compiled once per checkout into `.build/riad-kernel/<target>/` and shared
/// by every unikernel; the application and its generated wiring go into the
/// unikernel's own `_build/<target>/`. Every step is skipped when its output
/// is newer than its inputs and was made by the same command, so a second
/// build with nothing changed runs no compiler.
public struct KernelBuilder {
    /// The Riad checkout (the folder with Package.swift).
    public let root: URL
    public let toolchain: Toolchain
    public var verbose = false
    /// The network stack every net device with one gets, whatever the
    /// manifest says (`riad build --stack=socket`); nil: the manifest's.
    public var stackOverride: UnikernelManifest.Stack? = nil
    /// Called with a line of progress ("compiling Riad", "linking hello.hvt").
    public var progress: (String) -> Void = { _ in }

    public init(root: URL, toolchain: Toolchain) {
        self.root = root
        self.toolchain = toolchain
    }

    /// Finds the Riad checkout holding `start` or one of its parents.
    public static func findRoot(from start: URL) -> URL? {
        var directory = start.standardizedFileURL
        while directory.path != "/" {
            if FileManager.default.fileExists(atPath: directory.appendingPathComponent("Sources/Riad").path),
                FileManager.default.fileExists(atPath: directory.appendingPathComponent("Package.swift").path)
            {
                return directory
            }
            directory = directory.deletingLastPathComponent()
        }
        return nil
    }

    /// Reads the manifest in `unikernel`.
    public static func manifest(in unikernel: URL) throws(BuildError) -> UnikernelManifest {
        let file = unikernel.appendingPathComponent(UnikernelManifest.fileName)
        guard let text = try? String(contentsOf: file, encoding: .utf8) else {
            throw BuildError(
                "\(file.path): cannot read the manifest (is \(unikernel.path) a unikernel folder?)")
        }
        do {
            return try UnikernelManifest(text: text, file: file.path)
        } catch {
            throw BuildError(error.description)
        }
    }

    /// Builds `unikernel` for `target` and returns the image's path: a
    /// kernel for hvt, an executable for unix.
    public func build(unikernel: URL, target: KernelTarget) throws(BuildError) -> URL {
        switch target {
        case .hvt: try buildHvt(unikernel: unikernel)
        case .unix: try buildUnix(unikernel: unikernel)
        }
    }

    /// Builds `unikernel` for hvt and returns the image's path.
    public func buildHvt(unikernel: URL) throws(BuildError) -> URL {
        let libraries = try buildHvtLibraries()
        let configuration = try configure(unikernel: unikernel, target: .hvt)
        let application = try compileApplication(
            configuration, libraries: libraries, flags: swiftFlags(libraries: libraries.directory))
        let manifest = configuration.manifest
        let out = configuration.directory
        let notesFile = out.appendingPathComponent("riad_notes.c")
        let notesObject = out.appendingPathComponent("riad_notes.o")
        try step(
            "compiling the manifest note", output: notesObject, inputs: [notesFile],
            command: [toolchain.clang] + cFlags + ["-c", "-o", notesObject.path, notesFile.path])

        let image = out.appendingPathComponent("\(manifest.name).hvt")
        let objects =
            libraries.objects + [application.object, notesObject]
            + (try compileStores(configuration, flags: cFlags))
        let script = root.appendingPathComponent("Sources/PlatformHvt/link/hvt.lds")
        try step(
            "linking \(manifest.name).hvt", output: image, inputs: objects + [script],
            command: [
                toolchain.lld, "-static", "-nostdlib", "--gc-sections", "-z", "noexecstack",
                "-z", "max-page-size=4096", "--strip-all", "-T", script.path, "-o", image.path,
            ] + objects.map(\.path) + toolchain.kernelLibraries)
        return image
    }

    /// The compiled kernel-side libraries of a target.
    struct Libraries {
        let directory: URL
        let objects: [URL]
        /// The .swiftmodule files an application compiles against.
        let modules: [URL]
    }

    func buildHvtLibraries() throws(BuildError) -> Libraries {
        let directory = root.appendingPathComponent(".build/riad-kernel/hvt")
        try makeDirectory(directory)
        var objects: [URL] = []
        let runtime = root.appendingPathComponent("Sources/CPlatformHvt/runtime")
        let headers =
            try files(in: root.appendingPathComponent("Sources/CPlatformHvt/include"), ext: ["h"])
            + files(in: root.appendingPathComponent("Sources/RiadABI/include"), ext: ["h"])
            + files(in: runtime, ext: ["h"])
        for source in try files(in: runtime, ext: ["c", "S"]) {
            let object = directory.appendingPathComponent(
                "runtime-\(source.deletingPathExtension().lastPathComponent).o")
            try step(
                "compiling runtime/\(source.lastPathComponent)", output: object, inputs: [source] + headers,
                command: [toolchain.clang] + cFlags + [
                    "-I", runtime.path, "-c", "-o", object.path, source.path,
                ])
            objects.append(object)
        }
        objects.append(try compileConcurrencySupport(into: directory, flags: cFlags))
        let swift = try compileSwiftModules(
            ["Riad", "RiadNet", "RiadHTTP", "RiadMetrics", "PlatformHvt"], into: directory,
            flags: swiftFlags(libraries: directory),
            inputs: headers)
        return Libraries(directory: directory, objects: objects + swift.objects, modules: swift.modules)
    }

    /// Embedded Swift for a freestanding x86-64 kernel.
    ///
    /// Objects are LLVM bitcode, optimised together when linked: each module
    /// carries its own copies of the standard library's generic code, and
    /// link-time optimisation merges them and drops what is unused (hello:
    /// 92 KB without, 50 KB with).
    func swiftFlags(libraries: URL) -> [String] {
        [
            "-lto=llvm-full",
            "-target", Toolchain.kernelTriple, "-enable-experimental-feature", "Embedded", "-wmo",
            "-parse-as-library", "-Osize", "-Xcc", "-fno-pic", "-Xcc", "-mno-red-zone",
            "-Xfrontend", "-disable-stack-protector", "-I", libraries.path,
            "-I", root.appendingPathComponent("Sources/RiadABI/include").path,
            "-I", root.appendingPathComponent("Sources/CPlatformHvt/include").path,
        ]
    }

    var cFlags: [String] {
        [
            "-target", "x86_64-unknown-none-elf", "-ffreestanding", "-fno-pic", "-mno-red-zone",
            "-fno-stack-protector", "-fno-builtin", "-O2", "-Wall", "-Werror", "-ffunction-sections",
            "-fdata-sections",
            "-I", root.appendingPathComponent("Sources/RiadABI/include").path,
            "-I", root.appendingPathComponent("Sources/CPlatformHvt/include").path,
        ]
    }

    // MARK: - What every target shares

    /// The executor hooks and runtime entry points Embedded Swift's
    /// concurrency library needs, the same on every target
    /// (Sources/RiadConcurrency/concurrency.c).
    func compileConcurrencySupport(into directory: URL, flags: [String]) throws(BuildError) -> URL {
        let source = root.appendingPathComponent("Sources/RiadConcurrency/concurrency.c")
        let object = directory.appendingPathComponent("concurrency.o")
        try step(
            "compiling concurrency support", output: object, inputs: [source],
            command: [toolchain.clang] + flags + ["-c", "-o", object.path, source.path])
        return object
    }

    /// A unikernel's application, compiled with its generated main.
    struct Application {
        let manifest: UnikernelManifest
        /// The unikernel's `_build/<target>` folder.
        let directory: URL
        let object: URL
    }

    /// What `configure` wrote for a unikernel and a target.
    public struct Configuration {
        public let manifest: UnikernelManifest
        public let target: KernelTarget
        public let unikernel: URL
        /// The unikernel's `_build/<target>` folder.
        public let directory: URL
        /// The files generated into it.
        public let generated: [URL]
        /// The generated C of the key-value stores and the files it builds
        /// in, if the manifest declares stores.
        public var stores: (source: URL, files: [URL])? = nil
    }

    /// Reads `unikernel`'s manifest and writes the wiring for `target` into
    /// `_build/<target>/`: `riad_main.swift` (the main that builds the
    /// target's platform and runs the entry), and for hvt `riad_notes.c`
    /// (the ABI and manifest notes). Files are rewritten only when their
    /// text changes, so an unchanged configuration triggers no rebuild.
    public func configure(unikernel: URL, target: KernelTarget) throws(BuildError) -> Configuration {
        var manifest = try Self.manifest(in: unikernel)
        if let stack = stackOverride, stack != .none { manifest = manifest.replacingStacks(with: stack) }
        let out = unikernel.appendingPathComponent("_build/\(target.rawValue)")
        try makeDirectory(out)
        var files = [(out.appendingPathComponent("riad_main.swift"), Wiring.main(manifest, for: target))]
        if target == .hvt {
            files.append((out.appendingPathComponent("riad_notes.c"), Wiring.hvtNotes(manifest)))
        }
        var stores: [(name: String, files: [KeyValueWiring.File])] = []
        for device in manifest.devices where device.kind == .kv {
            let folder = unikernel.appendingPathComponent(device.path ?? ".")
            stores.append((device.name, try KeyValueWiring.files(in: folder)))
        }
        let storeSource = out.appendingPathComponent("riad_kv.c")
        if !stores.isEmpty { files.append((storeSource, KeyValueWiring.source(stores))) }
        for (file, text) in files { try writeIfChanged(text, to: file) }
        var configuration = Configuration(
            manifest: manifest, target: target, unikernel: unikernel, directory: out,
            generated: files.map { $0.0 })
        if !stores.isEmpty {
            configuration.stores = (storeSource, stores.flatMap { $0.files.map(\.url) })
        }
        return configuration
    }

    /// Compiles the key-value stores' data, if any, with `flags`.
    func compileStores(_ configuration: Configuration, flags: [String]) throws(BuildError) -> [URL] {
        guard let stores = configuration.stores else { return [] }
        let object = configuration.directory.appendingPathComponent("riad_kv.o")
        try step(
            "building in \(stores.files.count) files", output: object, inputs: [stores.source] + stores.files,
            command: [toolchain.clang] + flags + ["-c", "-o", object.path, stores.source.path])
        return [object]
    }

    /// Compiles a configured unikernel's application with its generated
    /// main against `libraries` into `app.o`. The target is also a
    /// compilation condition (`RIAD_TARGET_HVT`, `RIAD_TARGET_UNIX`), for the
    /// code that names a target's own devices.
    func compileApplication(_ configuration: Configuration, libraries: Libraries, flags: [String])
        throws(BuildError) -> Application
    {
        let unikernel = configuration.unikernel
        let manifest = configuration.manifest
        let target = configuration.target
        let out = configuration.directory
        let mainFile = configuration.generated[0]

        let sources = try swiftSources(in: unikernel)
        guard !sources.isEmpty else {
            throw BuildError("\(unikernel.path): no Swift sources next to \(UnikernelManifest.fileName)")
        }
        let object = out.appendingPathComponent("app.o")
        try step(
            "compiling \(manifest.name) for \(target.rawValue)", output: object,
            inputs: sources + [mainFile] + libraries.modules,
            command: [toolchain.swiftc] + flags
                + [
                    "-D", "RIAD_TARGET_\(target.rawValue.uppercased())", "-module-name", "Unikernel",
                    // @_extern(c): the key-value stores' accessors.
                    "-enable-experimental-feature", "Extern", "-c",
                    "-o", object.path,
                ] + (sources + [mainFile]).map(\.path))
        return Application(manifest: manifest, directory: out, object: object)
    }

    /// Compiles the kernel-side Swift modules `names` (folders of Sources/),
    /// in order, each against the ones before it, into an object and a
    /// .swiftmodule in `directory`. `inputs` are the C headers they import.
    func compileSwiftModules(_ names: [String], into directory: URL, flags: [String], inputs: [URL])
        throws(BuildError) -> (objects: [URL], modules: [URL])
    {
        var objects: [URL] = []
        var modules: [URL] = []
        for module in names {
            let sources = try swiftSources(in: root.appendingPathComponent("Sources/\(module)"))
            let object = directory.appendingPathComponent("\(module).o")
            let interface = directory.appendingPathComponent("\(module).swiftmodule")
            try step(
                "compiling \(module)", output: object, inputs: sources + modules + inputs,
                command: [toolchain.swiftc] + flags
                    + [
                        "-module-name", module, "-emit-module", "-emit-module-path", interface.path,
                        "-c", "-o", object.path,
                    ] + sources.map(\.path))
            objects.append(object)
            modules.append(interface)
        }
        return (objects, modules)
    }

    // MARK: - Steps

    /// Runs `command` unless `output` is newer than every input and the stamp
    /// beside it records the same command.
    func step(_ title: String, output: URL, inputs: [URL], command: [String]) throws(BuildError) {
        let stamp = output.appendingPathExtension("cmd")
        let recorded = try? String(contentsOf: stamp, encoding: .utf8)
        let line = command.joined(separator: " ")
        if recorded == line, let built = modificationDate(output),
            inputs.allSatisfy({ (modificationDate($0) ?? .distantFuture) <= built })
        {
            return
        }
        progress(title)
        if verbose { progress("  " + line) }
        try run(command, title: title)
        do { try line.write(to: stamp, atomically: true, encoding: .utf8) } catch {
            throw BuildError("cannot write \(stamp.path): \(error.localizedDescription)")
        }
    }

    func run(_ command: [String], title: String) throws(BuildError) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        do { try process.run() } catch {
            throw BuildError("cannot run \(command[0]): \(error.localizedDescription)")
        }
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw BuildError(
                "\(title) failed (\(URL(fileURLWithPath: command[0]).lastPathComponent) exited with \(process.terminationStatus))"
            )
        }
    }

    func modificationDate(_ file: URL) -> Date? {
        (try? FileManager.default.attributesOfItem(atPath: file.path))?[.modificationDate] as? Date
    }

    func makeDirectory(_ directory: URL) throws(BuildError) {
        do { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) } catch
        {
            throw BuildError("cannot create \(directory.path): \(error.localizedDescription)")
        }
    }

    func writeIfChanged(_ text: String, to file: URL) throws(BuildError) {
        if (try? String(contentsOf: file, encoding: .utf8)) == text { return }
        do { try text.write(to: file, atomically: true, encoding: .utf8) } catch {
            throw BuildError("cannot write \(file.path): \(error.localizedDescription)")
        }
    }

    /// Files directly in `directory` with one of the extensions, sorted.
    func files(in directory: URL, ext: [String]) throws(BuildError) -> [URL] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else {
            return []
        }
        return names.sorted().filter { ext.contains(URL(fileURLWithPath: $0).pathExtension) }
            .map { directory.appendingPathComponent($0) }
    }

    /// The Swift files of a module or unikernel: its folder and subfolders,
    /// except build output.
    func swiftSources(in directory: URL) throws(BuildError) -> [URL] {
        guard let enumerator = FileManager.default.enumerator(atPath: directory.path) else {
            throw BuildError("\(directory.path): no such folder")
        }
        var found: [URL] = []
        while let path = enumerator.nextObject() as? String {
            if path.hasPrefix("_build") || path.hasPrefix(".") { continue }
            if path.hasSuffix(".swift") { found.append(directory.appendingPathComponent(path)) }
        }
        return found.sorted { $0.path < $1.path }
    }
}
