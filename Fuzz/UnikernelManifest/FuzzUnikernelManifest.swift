// libFuzzer target for the `riad` tool's manifest reader (docs/fuzzing.md):
// the input, as UTF-8 text (invalid bytes replaced), is a unikernel.toml.
// Neither the TOML reader nor the manifest's checks may trap, and what is
// accepted must keep the manifest's rules.

import RiadBuild

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    _ = try? TOML.parse(text, file: "unikernel.toml")
    guard let manifest = try? UnikernelManifest(text: text, file: "unikernel.toml") else { return 0 }
    check(!manifest.name.isEmpty && manifest.name.utf8.count <= 63, "name `\(manifest.name)` accepted")
    check(!manifest.entry.isEmpty, "an empty entry accepted")
    check(manifest.devices.count <= 63, "\(manifest.devices.count) devices accepted")
    check(Set(manifest.devices.map(\.name)).count == manifest.devices.count, "a device declared twice")
    check((2...4096).contains(manifest.hvtMemoryMiB), "memory \(manifest.hvtMemoryMiB) accepted")
    return 0
}

/// Stops the run, which libFuzzer records as a crash, if `condition` fails.
func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError("fuzz-unikernel-manifest: " + message()) }
}
