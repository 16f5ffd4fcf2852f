import Foundation

/// The targets a unikernel can be built for.
public enum KernelTarget: String, CaseIterable, Sendable {
    /// A Linux process: the application with PlatformUnix, linked with glibc.
    case unix
    /// A kernel on KVM under riad-hvt (or solo5-hvt).
    case hvt
}

extension KernelBuilder {
    /// Builds `unikernel` for unix and returns the executable's path,
    /// `_build/unix/<name>`.
    ///
    /// The kernel-side code is the same Embedded Swift as on hvt, for the
    /// same triple; only the platform differs. The program is an ordinary
    /// dynamically linked PIE: glibc provides what the hvt runtime provides
    /// to a kernel (malloc, memcpy, putchar, arc4random_buf); the only C
    /// object of ours is the concurrency support both targets share.
    public func buildUnix(unikernel: URL) throws(BuildError) -> URL {
        let libraries = try buildUnixLibraries()
        let configuration = try configure(unikernel: unikernel, target: .unix)
        let application = try compileApplication(
            configuration, libraries: libraries, flags: unixSwiftFlags(libraries: libraries.directory))
        let name = application.manifest.name
        let executable = application.directory.appendingPathComponent(name)
        let objects =
            libraries.objects + [application.object]
            + (try compileStores(configuration, flags: ["-target", Toolchain.kernelTriple, "-O2", "-fPIC"]))
        try step(
            "linking \(name) for unix", output: executable, inputs: objects,
            command: [
                toolchain.clang, "-target", Toolchain.kernelTriple, "-fuse-ld=lld", "-Wl,--gc-sections",
                "-Wl,-z,noexecstack", "-o", executable.path,
            ] + objects.map(\.path) + toolchain.kernelLibraries + ["-lm"])
        return executable
    }

    /// Riad and PlatformUnix, compiled once per checkout into
    /// `.build/riad-kernel/unix/`. CPlatformUnix is header-only: the Swift
    /// compiler emits the inline functions the modules use.
    func buildUnixLibraries() throws(BuildError) -> Libraries {
        let directory = root.appendingPathComponent(".build/riad-kernel/unix")
        try makeDirectory(directory)
        let headers = try files(
            in: root.appendingPathComponent("Sources/CPlatformUnix/include"), ext: ["h", "modulemap"])
        let support = try compileConcurrencySupport(
            into: directory, flags: ["-target", Toolchain.kernelTriple, "-O2", "-fPIC", "-Wall", "-Werror"])
        let swift = try compileSwiftModules(
            ["Riad", "RiadNet", "RiadHTTP", "RiadMetrics", "PlatformUnix"], into: directory,
            flags: unixSwiftFlags(libraries: directory),
            inputs: headers)
        return Libraries(directory: directory, objects: [support] + swift.objects, modules: swift.modules)
    }

    /// Embedded Swift for a Linux process. Unlike a kernel's: position
    /// independent (the program is a PIE), with the red zone (Linux keeps
    /// clear of it when it delivers a signal) and glibc's stack protector.
    /// Objects are LLVM bitcode optimised together at link time, as on hvt,
    /// which also drops the library code a kernel does not use.
    func unixSwiftFlags(libraries: URL) -> [String] {
        [
            "-lto=llvm-full", "-target", Toolchain.kernelTriple, "-enable-experimental-feature", "Embedded",
            "-wmo",
            "-parse-as-library", "-O", "-I", libraries.path,
            "-I", root.appendingPathComponent("Sources/CPlatformUnix/include").path,
        ]
    }
}
