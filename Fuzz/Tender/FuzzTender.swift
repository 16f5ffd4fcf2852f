// libFuzzer target for the tender's parsers of untrusted input
// (docs/fuzzing.md). The first input byte chooses one (modulo 3); the rest
// is its input:
//
// 0. a kernel file: `ELFImage`, then its ABI1 note, its manifest and the
//    load into a 4 MiB guest memory;
// 1. an MFT1 note descriptor: `Manifest`, which must survive `bytes()` and
//    parse back, and take every device it declares;
// 2. a command line, words separated by NUL bytes: `TenderOptions.parse`.
//
// None may trap, whatever the input.

import RiadTender

let guestMemorySize: UInt64 = 4 << 20
nonisolated(unsafe) let guestMemory = UnsafeMutableRawBufferPointer.allocate(
    byteCount: Int(guestMemorySize), alignment: 4096)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    switch data[0] % 3 {
    case 0: fuzzELF(bytes)
    case 1: fuzzManifest(bytes)
    default: fuzzOptions(bytes)
    }
    return 0
}

/// Stops the run, which libFuzzer records as a crash, if `condition` fails.
func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError("fuzz-tender: " + message()) }
}

func fuzzELF(_ bytes: [UInt8]) {
    guard let image = try? ELFImage(bytes: bytes, name: "fuzz.hvt", guestMemorySize: guestMemorySize) else {
        return
    }
    for segment in image.segments {
        check(
            segment.end <= guestMemorySize && segment.end >= segment.vaddr,
            "segment \(segment) accepted in \(guestMemorySize) bytes")
    }
    check(image.kernelEnd <= guestMemorySize, "kernel end \(image.kernelEnd) accepted")
    for note in image.notes { _ = ELFImage.noteTypeName(note.type) }
    _ = try? image.checkABI()
    if let manifest = try? image.manifest() { fuzzAttach(manifest) }
    do {
        try image.load(into: guestMemory)
    } catch {
        check(false, "an image validated for the memory does not load into it: \(error)")
    }
}

func fuzzManifest(_ bytes: [UInt8]) {
    guard let manifest = try? Manifest(noteDescriptor: bytes, kernelName: "fuzz.hvt") else { return }
    let again = try? Manifest(bytes: manifest.bytes(), kernelName: "fuzz.hvt")
    check(again == manifest, "manifest \(manifest) came back as \(String(describing: again))")
    fuzzAttach(manifest)
}

/// Attaches every device, as riad-hvt does, and writes the result.
func fuzzAttach(_ manifest: Manifest) {
    var manifest = manifest
    _ = try? manifest.checkAllAttached()
    for device in manifest.devices {
        _ = manifest.device(named: device.name)
        switch device.kind {
        case .block:
            _ = try? manifest.attachBlock(name: device.name, fd: 3, capacity: 1 << 20, blockSize: 512)
        case .net:
            _ = try? manifest.attachNet(name: device.name, fd: 4, mac: [2, 0, 0, 0, 0, 1], mtu: 1500)
        case .reserved:
            check(false, "device \(device.name) with the reserved type")
        }
    }
    do {
        try manifest.checkAllAttached()
    } catch {
        check(false, "a device is left unattached: \(error)")
    }
    _ = manifest.bytes()
}

func fuzzOptions(_ bytes: [UInt8]) {
    let words = bytes.split(separator: 0, omittingEmptySubsequences: false).map {
        String(decoding: $0, as: UTF8.self)
    }
    _ = try? TenderOptions.parse(words)
}
