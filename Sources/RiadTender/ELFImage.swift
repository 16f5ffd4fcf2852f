import RiadABI

/// A unikernel's ELF file, validated for loading into an hvt guest.
///
/// The file is untrusted: it may be truncated, corrupt or crafted to make the
/// tender write outside guest memory. So every field is checked before it is
/// used, every sum of two fields is overflow-checked, and anything the loader
/// would have to guess about is refused with a message naming the file and the
/// field. What is accepted is deliberately narrow: a static (ET_EXEC) 64-bit
/// little-endian x86-64 executable whose loadable segments are page-aligned,
/// disjoint, never both writable and executable, and lie between
/// `RIAD_HVT_GUEST_MIN_BASE` and the end of guest memory.
///
/// Segments are numbered by their index in the program header table, as
/// `readelf -l` numbers them in its section-to-segment mapping.
public struct ELFImage: Sendable {
    /// Segment permissions, the ELF `p_flags` bits.
    public struct Flags: OptionSet, Sendable, Hashable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let execute = Flags(rawValue: 1)  // PF_X
        public static let write = Flags(rawValue: 2)  // PF_W
        public static let read = Flags(rawValue: 4)  // PF_R
    }

    /// One PT_LOAD segment: `fileSize` bytes from `fileOffset` in the file go
    /// to guest address `vaddr`, followed by zeros up to `memSize`.
    public struct Segment: Sendable, Equatable {
        /// Index of the program header, for messages.
        public let index: Int
        public let vaddr: UInt64
        public let memSize: UInt64
        public let fileOffset: UInt64
        public let fileSize: UInt64
        public let flags: Flags

        /// First address after the segment (checked not to overflow).
        public var end: UInt64 { vaddr &+ memSize }
    }

    /// The file's name as the user gave it, for messages.
    public let name: String
    /// Guest address where execution starts.
    public let entry: UInt64
    /// The PT_LOAD segments with a non-zero memory size, in header order.
    public let segments: [Segment]
    /// First page-aligned address after every segment: where the guest's
    /// free memory begins.
    public let kernelEnd: UInt64
    /// Every note of every PT_NOTE segment, in file order.
    public let notes: [Note]

    private let bytes: [UInt8]

    /// Guest pages are 4 KiB; segments are placed and separated by page.
    public static let pageSize: UInt64 = 4096

    // ELF constants used below (from the System V gABI and the x86-64 psABI).
    private static let headerSize = 64
    private static let programHeaderSize = 56
    private static let classELF64: UInt8 = 2
    private static let dataLittleEndian: UInt8 = 1
    private static let versionCurrent: UInt32 = 1
    private static let typeExecutable: UInt16 = 2
    private static let typeShared: UInt16 = 3
    private static let machineAMD64: UInt16 = 62
    private static let programLoad: UInt32 = 1
    private static let programNote: UInt32 = 4

    /// Parses and validates `bytes`, the contents of the kernel file `name`,
    /// for a guest with `guestMemorySize` bytes of memory.
    public init(bytes: [UInt8], name: String, guestMemorySize: UInt64) throws(TenderError) {
        self.bytes = bytes
        self.name = name
        let reader = ELFFieldReader(bytes: bytes, name: name)

        try Self.checkIdentification(bytes, name: name)
        let machine = try reader.u16(18, "e_machine")
        guard machine == Self.machineAMD64 else {
            throw reader.error(
                "is built for \(Self.machineName(machine)), but riad-hvt runs only x86-64 (machine 62) kernels"
            )
        }
        let type = try reader.u16(16, "e_type")
        guard type == Self.typeExecutable else {
            if type == Self.typeShared {
                throw reader.error(
                    "is a position-independent executable (ET_DYN), but riad-hvt loads only static "
                        + "executables (ET_EXEC): link the kernel with -no-pie at a fixed address")
            }
            throw reader.error(
                "has ELF type \(type), but a kernel must be an executable (ET_EXEC, type 2)")
        }
        let version = try reader.u32(20, "e_version")
        guard version == Self.versionCurrent else {
            throw reader.error("has ELF version \(version) in e_version; expected 1 (EV_CURRENT)")
        }
        let entry = try reader.u64(24, "e_entry")
        let tableOffset = try reader.u64(32, "e_phoff")
        let entrySize = try reader.u16(54, "e_phentsize")
        let count = try reader.u16(56, "e_phnum")
        guard Int(entrySize) == Self.programHeaderSize else {
            throw reader.error(
                "has program headers of \(entrySize) bytes (e_phentsize); expected 56 for ELF64")
        }
        let tableSize = UInt64(count) * UInt64(entrySize)  // at most 0xffff * 56: cannot overflow
        guard let table = bytes.range(at: tableOffset, count: tableSize) else {
            throw reader.error(
                "its program header table (\(count) entries at offset \(TenderError.hex(tableOffset))) "
                    + "lies outside the \(bytes.count)-byte file; the file is truncated or corrupt")
        }

        var loads: [Segment] = []
        var notes: [Note] = []
        for index in 0..<Int(count) {
            let header = table.lowerBound + index * Self.programHeaderSize
            let kind = try reader.u32(header, "p_type")
            if kind == Self.programLoad {
                if let segment = try Self.loadSegment(
                    reader, header: header, index: index, guestMemorySize: guestMemorySize)
                {
                    loads.append(segment)
                }
            } else if kind == Self.programNote {
                notes += try Self.notes(inSegment: reader, header: header, index: index)
            }
        }
        guard !loads.isEmpty else {
            throw reader.error(
                "has no loadable (PT_LOAD) segment with contents; it is not a kernel")
        }
        try Self.checkDisjoint(loads, reader)
        // The entry must be among the bytes loaded from the file, not just
        // inside memsz: an entry point in zero-filled memory can only fault.
        guard
            loads.contains(where: { segment in
                segment.flags.contains(.execute) && entry >= segment.vaddr
                    && entry - segment.vaddr < segment.fileSize
            })
        else {
            throw reader.error(
                "its entry point \(TenderError.hex(entry)) is not inside the file contents of any "
                    + "executable segment; the file is corrupt or was linked with a wrong entry symbol"
            )
        }
        self.entry = entry
        segments = loads
        self.notes = notes
        // Each rounded end was checked against guestMemorySize, so no overflow.
        kernelEnd = loads.map { $0.end.roundedUp(toMultipleOf: Self.pageSize) ?? $0.end }.max() ?? 0
    }

    /// Copies every segment into `memory`, which holds guest memory from
    /// guest address 0: the file bytes at `vaddr`, then zeros up to
    /// `memSize`. Bounds are checked again against `memory.count`, so a
    /// memory smaller than the one validated for is refused, not overrun.
    public func load(into memory: UnsafeMutableRawBufferPointer) throws(TenderError) {
        for segment in segments {
            guard let target = memory.range(at: segment.vaddr, count: segment.memSize),
                let source = bytes.range(at: segment.fileOffset, count: segment.fileSize),
                let base = memory.baseAddress
            else {
                throw TenderError.about(
                    name,
                    "segment \(segment.index) (vaddr \(TenderError.hex(segment.vaddr)), "
                        + "\(TenderError.hex(segment.memSize)) bytes) does not fit in the "
                        + "\(TenderError.hex(memory.count))-byte guest memory; give the guest more memory"
                )
            }
            let fileCount = source.count
            bytes.withUnsafeBytes { file in
                guard fileCount > 0, let fileBase = file.baseAddress else { return }
                (base + target.lowerBound).copyMemory(
                    from: fileBase + source.lowerBound, byteCount: fileCount)
            }
            (base + target.lowerBound + fileCount).initializeMemory(
                as: UInt8.self, repeating: 0, count: target.count - fileCount)
        }
    }

    // MARK: - Validation steps

    private static func checkIdentification(_ bytes: [UInt8], name: String) throws(TenderError) {
        guard bytes.count >= headerSize else {
            throw TenderError.about(
                name,
                "is \(bytes.count) bytes long, too short for an ELF header (64 bytes); is it a kernel?"
            )
        }
        guard bytes[0] == 0x7f, bytes[1] == 0x45, bytes[2] == 0x4c, bytes[3] == 0x46 else {
            throw TenderError.about(
                name,
                "is not an ELF file (its first bytes are not 7f 'E' 'L' 'F'); expected an hvt kernel"
            )
        }
        switch bytes[4] {
        case classELF64: break
        case 1:
            throw TenderError.about(name, "is a 32-bit ELF file; expected a 64-bit x86-64 kernel")
        default:
            throw TenderError.about(name, "has invalid ELF class \(bytes[4]); expected 2 (64-bit)")
        }
        switch bytes[5] {
        case dataLittleEndian: break
        case 2:
            throw TenderError.about(
                name, "is a big-endian ELF file; expected a little-endian x86-64 kernel")
        default:
            throw TenderError.about(
                name, "has invalid ELF data encoding \(bytes[5]); expected 1 (little-endian)")
        }
        guard bytes[6] == 1 else {
            throw TenderError.about(
                name, "has ELF identification version \(bytes[6]); expected 1 (EV_CURRENT)")
        }
    }

    /// Validates the PT_LOAD header at `header`; nil for an empty segment,
    /// which occupies no memory and so is neither loaded nor checked further.
    private static func loadSegment(
        _ reader: ELFFieldReader, header: Int, index: Int, guestMemorySize: UInt64
    ) throws(TenderError) -> Segment? {
        let flags = Flags(rawValue: try reader.u32(header + 4, "p_flags"))
        let offset = try reader.u64(header + 8, "p_offset")
        let vaddr = try reader.u64(header + 16, "p_vaddr")
        let fileSize = try reader.u64(header + 32, "p_filesz")
        let memSize = try reader.u64(header + 40, "p_memsz")
        func hex<T: BinaryInteger>(_ value: T) -> String { TenderError.hex(value) }
        let what = "segment \(index) (vaddr \(hex(vaddr)), \(hex(memSize)) bytes)"

        guard fileSize <= memSize else {
            throw reader.error(
                "\(what) has more file bytes (\(hex(fileSize))) than memory bytes; the file is corrupt"
            )
        }
        guard memSize > 0 else { return nil }
        guard reader.bytes.contains(offset: offset, count: fileSize) else {
            throw reader.error(
                "\(what) has \(hex(fileSize)) file bytes at offset \(hex(offset)), beyond the end of "
                    + "the \(reader.bytes.count)-byte file; the file is truncated or corrupt")
        }
        guard vaddr.isAligned(to: pageSize) else {
            throw reader.error(
                "\(what) does not start on a 4096-byte page; link the kernel with page-aligned segments"
            )
        }
        guard vaddr >= RIAD_HVT_GUEST_MIN_BASE else {
            throw reader.error(
                "\(what) starts below \(hex(RIAD_HVT_GUEST_MIN_BASE)), where the tender keeps its own "
                    + "data; link the kernel at \(hex(RIAD_HVT_GUEST_MIN_BASE)) or above")
        }
        guard let end = vaddr.checkedAdding(memSize),
            let pageEnd = end.roundedUp(toMultipleOf: pageSize)
        else {
            throw reader.error("\(what) ends beyond the 64-bit address space; the file is corrupt")
        }
        guard pageEnd <= guestMemorySize else {
            throw reader.error(
                "\(what) ends at \(hex(end)), beyond the \(guestMemorySize >> 20) MiB "
                    + "(\(hex(guestMemorySize))) of guest memory; give the guest more memory")
        }
        guard !flags.contains([.write, .execute]) else {
            throw reader.error(
                "\(what) is both writable and executable; link the kernel with separate code and data segments"
            )
        }
        return Segment(
            index: index, vaddr: vaddr, memSize: memSize, fileOffset: offset, fileSize: fileSize,
            flags: flags)
    }

    /// Refuses segments that share a page: after sorting by address, each
    /// must start at or after the page-rounded end of the one before, so no
    /// page is loaded twice with different contents or permissions.
    private static func checkDisjoint(_ segments: [Segment], _ reader: ELFFieldReader)
        throws(TenderError)
    {
        let sorted = segments.sorted { ($0.vaddr, $0.index) < ($1.vaddr, $1.index) }
        func hex<T: BinaryInteger>(_ value: T) -> String { TenderError.hex(value) }
        for (previous, current) in zip(sorted, sorted.dropFirst()) {
            let previousEnd = previous.end.roundedUp(toMultipleOf: pageSize) ?? UInt64.max
            guard current.vaddr >= previousEnd else {
                throw reader.error(
                    "segment \(current.index) (vaddr \(hex(current.vaddr)), \(hex(current.memSize)) bytes) "
                        + "overlaps segment \(previous.index) (vaddr \(hex(previous.vaddr)), "
                        + "\(hex(previous.memSize)) bytes)")
            }
        }
    }

    private static func machineName(_ machine: UInt16) -> String {
        switch machine {
        case 3: "i386 (machine 3)"
        case 40: "32-bit ARM (machine 40)"
        case 183: "aarch64 (machine 183)"
        case 243: "RISC-V (machine 243)"
        default: "machine \(machine)"
        }
    }
}

/// Reads fields of the kernel file, turning an out-of-range read into
/// an error that names the file and the field.
struct ELFFieldReader {
    let bytes: [UInt8]
    let name: String

    func error(_ problem: String) -> TenderError {
        TenderError.about(name, problem)
    }

    private func outside(_ field: String, _ offset: Int) -> TenderError {
        error(
            "its \(field) field at offset \(TenderError.hex(offset)) lies beyond the end of the "
                + "\(bytes.count)-byte file; the file is truncated")
    }

    func u16(_ offset: Int, _ field: String) throws(TenderError) -> UInt16 {
        guard let value = bytes.u16(at: offset) else { throw outside(field, offset) }
        return value
    }

    func u32(_ offset: Int, _ field: String) throws(TenderError) -> UInt32 {
        guard let value = bytes.u32(at: offset) else { throw outside(field, offset) }
        return value
    }

    func u64(_ offset: Int, _ field: String) throws(TenderError) -> UInt64 {
        guard let value = bytes.u64(at: offset) else { throw outside(field, offset) }
        return value
    }
}
