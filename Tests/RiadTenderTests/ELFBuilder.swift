import RiadABI

/// Builds small ELF64 kernel images byte by byte, so that tests can make a
/// valid image and then break exactly one thing in it.
///
/// Layout of `build()`: the 64-byte ELF header, the program header table at
/// offset 64, then each program's data in order, each 8-byte aligned.
struct ELFBuilder {
    /// One program header with its data.
    struct Program {
        var type: UInt32
        var flags: UInt32
        var vaddr: UInt64
        var data: [UInt8]
        var memSize: UInt64
        var align: UInt64 = 4096
        /// Overrides the file offset that `build()` would choose.
        var offset: UInt64? = nil
        /// Overrides the file size (data.count).
        var fileSize: UInt64? = nil

        static func load(vaddr: UInt64, flags: UInt32, data: [UInt8], memSize: UInt64? = nil)
            -> Program
        {
            Program(
                type: 1, flags: flags, vaddr: vaddr, data: data,
                memSize: memSize ?? UInt64(data.count))
        }

        static func note(_ data: [UInt8], align: UInt64 = 4) -> Program {
            Program(type: 4, flags: 4, vaddr: 0, data: data, memSize: 0, align: align)
        }
    }

    static let r: UInt32 = 4
    static let w: UInt32 = 2
    static let x: UInt32 = 1

    var ident: [UInt8] = [0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    var type: UInt16 = 2
    var machine: UInt16 = 62
    var version: UInt32 = 1
    var entry: UInt64 = 0x100000
    var phentsize: UInt16 = 56
    var phoff: UInt64? = nil
    var phnum: UInt16? = nil
    var programs: [Program] = []

    /// A valid hvt kernel: code at 0x100000, data and bss at 0x101000, the
    /// ABI1 note and an MFT1 note with `manifest` (by default one network
    /// device "service" and one block device "storage").
    static func kernel(
        manifest: [UInt8]? = ManifestBuilder().net("service").block("storage").build(),
        abi: [UInt8]? = abi1(),
        entry: UInt64 = 0x100010
    ) -> ELFBuilder {
        var builder = ELFBuilder()
        builder.entry = entry
        builder.programs = [
            .load(vaddr: 0x100000, flags: r | x, data: [UInt8](repeating: 0x90, count: 0x40)),
            .load(vaddr: 0x101000, flags: r | w, data: [1, 2, 3, 4, 5, 6, 7, 8], memSize: 0x2000),
        ]
        var notes: [UInt8] = []
        if let abi { notes += note(owner: "Solo5", type: 0x3149_4241, desc: abi) }
        if let manifest {
            notes += note(owner: "Solo5", type: 0x3154_464d, desc: [0, 0, 0, 0] + manifest)
        }
        if !notes.isEmpty { builder.programs.append(.note(notes)) }
        return builder
    }

    /// An ABI1 descriptor.
    static func abi1(target: UInt32 = 1, version: UInt32 = 2) -> [UInt8] {
        le(target) + le(version) + le(UInt32(0)) + le(UInt32(0))
    }

    /// One note, padded to `align`.
    static func note(
        owner: String, type: UInt32, desc: [UInt8], align: Int = 4,
        namesz: UInt32? = nil, descsz: UInt32? = nil
    ) -> [UInt8] {
        let name = Array(owner.utf8) + [0]
        // Padding aligns offsets from the note's start, as in the ELF spec.
        var bytes = le(namesz ?? UInt32(name.count)) + le(descsz ?? UInt32(desc.count)) + le(type)
        bytes = pad(bytes + name, to: align)
        return pad(bytes + desc, to: align)
    }

    func build() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 64)
        let tableOffset = 64
        var dataOffset = tableOffset + programs.count * 56
        var headers: [UInt8] = []
        var payload: [UInt8] = []
        for program in programs {
            dataOffset = (dataOffset + 7) & ~7
            let offset = program.offset ?? UInt64(dataOffset)
            headers += Self.le(program.type) + Self.le(program.flags) + Self.le(offset)
            headers += Self.le(program.vaddr) + Self.le(program.vaddr)
            headers +=
                Self.le(program.fileSize ?? UInt64(program.data.count)) + Self.le(program.memSize)
            headers += Self.le(program.align)
            if program.offset == nil {
                let padding = dataOffset - (tableOffset + programs.count * 56 + payload.count)
                payload += [UInt8](repeating: 0, count: padding) + program.data
                dataOffset += program.data.count
            }
        }
        out.replaceSubrange(0..<16, with: ident)
        put(&out, 16, Self.le(type))
        put(&out, 18, Self.le(machine))
        put(&out, 20, Self.le(version))
        put(&out, 24, Self.le(entry))
        put(&out, 32, Self.le(phoff ?? UInt64(tableOffset)))
        put(&out, 52, Self.le(UInt16(64)))
        put(&out, 54, Self.le(phentsize))
        put(&out, 56, Self.le(phnum ?? UInt16(programs.count)))
        return out + headers + payload
    }

    private func put(_ out: inout [UInt8], _ offset: Int, _ bytes: [UInt8]) {
        out.replaceSubrange(offset..<offset + bytes.count, with: bytes)
    }

    static func le<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        (0..<MemoryLayout<T>.size).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
    }

    static func pad(_ bytes: [UInt8], to align: Int) -> [UInt8] {
        bytes + [UInt8](repeating: 0, count: (align - bytes.count % align) % align)
    }
}

/// Builds manifest bytes (struct riad_mft and its entries) for tests.
struct ManifestBuilder {
    struct RawEntry {
        var name: [UInt8]
        var type: UInt32
        var attached: UInt8 = 0
    }

    var version: UInt32 = 1
    var entries: [RawEntry] = [RawEntry(name: [], type: 1 << 30)]
    /// Overrides the entry count in the header.
    var count: UInt32? = nil

    func net(_ name: String) -> ManifestBuilder { adding(name, type: 2) }
    func block(_ name: String) -> ManifestBuilder { adding(name, type: 1) }

    func adding(_ name: String, type: UInt32) -> ManifestBuilder {
        var copy = self
        copy.entries.append(RawEntry(name: Array(name.utf8), type: type))
        return copy
    }

    func build() -> [UInt8] {
        var bytes = ELFBuilder.le(version) + ELFBuilder.le(count ?? UInt32(entries.count))
        for entry in entries {
            var raw = [UInt8](repeating: 0, count: 104)
            for (index, byte) in entry.name.prefix(68).enumerated() { raw[index] = byte }
            raw.replaceSubrange(68..<72, with: ELFBuilder.le(entry.type))
            raw[96] = entry.attached
            bytes += raw
        }
        return bytes
    }
}
