import RiadABI

/// The devices a kernel needs, from its MFT1 note (see riad_mft_abi.h).
///
/// The manifest comes from the kernel file, so it is parsed as hostile input:
/// its size must match its entry count exactly, every name must be terminated
/// inside its field, names must be unique and every type known. The tender
/// then attaches one host resource to each device (`attachBlock`,
/// `attachNet`), refuses to start while any is missing (`checkAllAttached`),
/// and hands the guest the attached manifest in its C layout (`bytes()`).
/// A device's handle, the number the kernel passes in hypercalls, is its
/// index in `entries`.
public struct Manifest: Sendable, Equatable {
    /// What a manifest entry is.
    public enum Kind: Sendable, Equatable {
        /// Entry 0, which the ABI reserves so that no device has handle 0.
        case reserved
        case block
        case net

        /// "block device" or "network device", for messages.
        public var noun: String {
            switch self {
            case .reserved: "reserved entry"
            case .block: "block device"
            case .net: "network device"
            }
        }

        /// The riad-hvt option that attaches a device of this kind.
        public func option(for name: String) -> String {
            switch self {
            case .reserved: ""
            case .block: "--block:\(name)=PATH"
            case .net: "--net:\(name)=IFACE"
            }
        }
    }

    /// The host resource attached to a device.
    public enum Attachment: Sendable, Equatable {
        case block(fd: Int32, capacity: UInt64, blockSize: UInt16)
        case net(fd: Int32, mac: [UInt8], mtu: UInt16)
    }

    /// One device the kernel declares.
    public struct Entry: Sendable, Equatable {
        /// The device's handle: its index in the manifest.
        public let handle: Int
        public let name: String
        public let kind: Kind
        /// Set by `attachBlock` or `attachNet`.
        public fileprivate(set) var attachment: Attachment?

        public var isAttached: Bool { attachment != nil }
    }

    /// The kernel file's name, for messages.
    public let kernelName: String
    /// All entries, entry 0 (the reserved one) included, so that
    /// `entries[handle].handle == handle`.
    public private(set) var entries: [Entry]

    /// The declared devices: every entry but the reserved first one.
    public var devices: ArraySlice<Entry> { entries.dropFirst() }

    // The C layout, taken from the imported header so it is written once.
    static let headerSize = MemoryLayout<riad_mft>.size
    static let entrySize = MemoryLayout<riad_mft_entry>.size
    static let nameSize = Int(RIAD_MFT_NAME_SIZE)
    static let typeOffset = MemoryLayout<riad_mft_entry>.offset(of: \.type) ?? 68
    static let unionOffset = MemoryLayout<riad_mft_entry>.offset(of: \.u) ?? 72
    static let privateOffset = MemoryLayout<riad_mft_entry>.offset(of: \.b) ?? 88
    static let attachedOffset = MemoryLayout<riad_mft_entry>.offset(of: \.attached) ?? 96
    static let blockSizeOffset = MemoryLayout<riad_mft_block_basic>.offset(of: \.block_size) ?? 8
    static let mtuOffset = MemoryLayout<riad_mft_net_basic>.offset(of: \.mtu) ?? 6
    static let macSize = 6

    static let typeBlock = RIAD_MFT_DEV_BLOCK_BASIC.rawValue
    static let typeNet = RIAD_MFT_DEV_NET_BASIC.rawValue
    static let typeReserved = RIAD_MFT_RESERVED_FIRST.rawValue

    /// Parses the descriptor of an MFT1 note: `RIAD_MFT1_NOTE_PAD` bytes of
    /// padding (which keep the manifest 8-byte aligned in the file), then the
    /// manifest itself.
    public init(noteDescriptor: [UInt8], kernelName: String) throws(TenderError) {
        let pad = Int(RIAD_MFT1_NOTE_PAD)
        guard noteDescriptor.count >= pad else {
            throw TenderError.about(
                kernelName,
                "its manifest note has a \(noteDescriptor.count)-byte descriptor, too short for even "
                    + "its \(pad) bytes of padding; the file is corrupt")
        }
        try self.init(bytes: Array(noteDescriptor.dropFirst(pad)), kernelName: kernelName)
    }

    /// Parses a manifest: `struct riad_mft` followed by its entries.
    public init(bytes: [UInt8], kernelName: String) throws(TenderError) {
        self.kernelName = kernelName
        func fail(_ problem: String) -> TenderError {
            TenderError.about(kernelName, "its manifest " + problem + "; the file is corrupt")
        }
        guard let version = bytes.u32(at: 0), let count = bytes.u32(at: 4) else {
            throw fail(
                "is \(bytes.count) bytes long, too short for its \(Self.headerSize)-byte header")
        }
        guard version == RIAD_MFT_VERSION else {
            throw TenderError.about(
                kernelName,
                "its manifest has version \(version), but riad-hvt reads only version \(RIAD_MFT_VERSION); "
                    + "rebuild the kernel with a matching toolchain")
        }
        guard count >= 1, count <= RIAD_MFT_MAX_ENTRIES else {
            throw fail("declares \(count) entries; expected 1 to \(RIAD_MFT_MAX_ENTRIES)")
        }
        // count <= 64, so this cannot overflow.
        let expected = Self.headerSize + Int(count) * Self.entrySize
        guard bytes.count == expected else {
            let entriesNeed = count == 1 ? "1 entry needs" : "\(count) entries need"
            throw fail(
                "is \(bytes.count) bytes long, but \(entriesNeed) exactly \(expected) bytes "
                    + "(\(Self.headerSize) + \(count) x \(Self.entrySize))")
        }

        var entries: [Entry] = []
        var seen: Set<String> = []
        for handle in 0..<Int(count) {
            let base = Self.headerSize + handle * Self.entrySize
            let field = bytes[base..<(base + Self.nameSize)]
            guard field.last == 0 else {
                throw fail(
                    "entry \(handle) has a name that is not NUL-terminated within \(Self.nameSize) bytes"
                )
            }
            let nameBytes = Array(field.prefix { $0 != 0 })
            let name = String(decoding: nameBytes, as: UTF8.self)
            let type = bytes.u32(at: base + Self.typeOffset) ?? 0
            let attached = bytes[base + Self.attachedOffset]

            if handle == 0 {
                guard type == Self.typeReserved, nameBytes.isEmpty else {
                    throw fail(
                        "entry 0 has type \(TenderError.hex(type)) and name '\(Self.printable(nameBytes))'; "
                            + "expected the reserved first entry (type \(TenderError.hex(Self.typeReserved))) "
                            + "with an empty name")
                }
            } else {
                guard !nameBytes.isEmpty else { throw fail("entry \(handle) has an empty name") }
                guard nameBytes.allSatisfy(Self.isNameByte) else {
                    throw fail(
                        "entry \(handle) has the name '\(Self.printable(nameBytes))', which is not printable "
                            + "ASCII without spaces and '='")
                }
                guard seen.insert(name).inserted else {
                    throw fail(
                        "declares the device name '\(name)' twice (again in entry \(handle))")
                }
            }
            guard attached == 0 else {
                throw fail(
                    "entry \(handle) ('\(Self.printable(nameBytes))') is already marked attached")
            }
            let kind: Kind
            switch type {
            case Self.typeReserved where handle == 0: kind = .reserved
            case Self.typeBlock: kind = .block
            case Self.typeNet: kind = .net
            case Self.typeReserved:
                throw fail(
                    "entry \(handle) ('\(name)') has the reserved type that only entry 0 may have")
            default:
                throw TenderError.about(
                    kernelName,
                    "its manifest entry \(handle) ('\(name)') has device type \(TenderError.hex(type)), "
                        + "which riad-hvt does not know (it supports block and network devices)")
            }
            entries.append(Entry(handle: handle, name: name, kind: kind, attachment: nil))
        }
        self.entries = entries
    }

    /// The device named `name`, if the kernel declares one.
    public func device(named name: String) -> Entry? {
        devices.first { $0.name == name }
    }

    /// Attaches a block device of `capacity` bytes in blocks of `blockSize`,
    /// backed by the open file `fd`.
    public mutating func attachBlock(
        name: String, fd: Int32, capacity: UInt64, blockSize: UInt16
    ) throws(TenderError) {
        let handle = try attachable(name, as: .block)
        entries[handle].attachment = .block(fd: fd, capacity: capacity, blockSize: blockSize)
    }

    /// Attaches a network device with address `mac` (6 bytes) and `mtu`,
    /// backed by the open tap device `fd`.
    public mutating func attachNet(name: String, fd: Int32, mac: [UInt8], mtu: UInt16)
        throws(TenderError)
    {
        guard mac.count == Self.macSize else {
            throw TenderError(
                "--net:\(name): a MAC address has \(Self.macSize) bytes, but \(mac.count) were given"
            )
        }
        let handle = try attachable(name, as: .net)
        entries[handle].attachment = .net(fd: fd, mac: mac, mtu: mtu)
    }

    /// Refuses to go on while a declared device has nothing attached: the
    /// kernel would find it missing only when it first uses it. The error
    /// lists every such device and the option that would attach it.
    public func checkAllAttached() throws(TenderError) {
        let missing = devices.filter { !$0.isAttached }
        guard let first = missing.first else { return }
        if missing.count == 1 {
            throw TenderError(
                "\(kernelName) declares \(first.kind.noun) '\(first.name)' but none was given: "
                    + "add \(first.kind.option(for: first.name))")
        }
        let list = missing.map {
            "\($0.kind.noun) '\($0.name)' (add \($0.kind.option(for: $0.name)))"
        }
        throw TenderError(
            "\(kernelName) declares \(missing.count) devices that were not given: "
                + list.joined(separator: ", "))
    }

    /// The manifest in its C layout (`struct riad_mft` and its entries), with
    /// the attached devices' parameters, host descriptors and `attached`
    /// flags filled in: the copy the kernel finds in its low memory.
    public func bytes() -> [UInt8] {
        var writer = ByteWriter(count: Self.headerSize + entries.count * Self.entrySize)
        writer.put(UInt32(RIAD_MFT_VERSION), at: 0)
        writer.put(UInt32(entries.count), at: 4)
        for entry in entries {
            let base = Self.headerSize + entry.handle * Self.entrySize
            // Names were checked to fit in 67 bytes; the rest stays zero.
            writer.put(bytes: Array(entry.name.utf8), at: base)
            let type: UInt32
            switch entry.kind {
            case .reserved: type = Self.typeReserved
            case .block: type = Self.typeBlock
            case .net: type = Self.typeNet
            }
            writer.put(type, at: base + Self.typeOffset)
            let union = base + Self.unionOffset
            switch entry.attachment {
            case nil:
                break
            case .block(let fd, let capacity, let blockSize):
                writer.put(capacity, at: union)
                writer.put(blockSize, at: union + Self.blockSizeOffset)
                writer.put(fd, at: base + Self.privateOffset)
                writer.put(UInt8(1), at: base + Self.attachedOffset)
            case .net(let fd, let mac, let mtu):
                writer.put(bytes: mac, at: union)
                writer.put(mtu, at: union + Self.mtuOffset)
                writer.put(fd, at: base + Self.privateOffset)
                writer.put(UInt8(1), at: base + Self.attachedOffset)
            }
        }
        return writer.bytes
    }

    // MARK: - Helpers

    /// Checks that `name` is a declared, unattached device of `kind`, and
    /// returns its handle.
    private func attachable(_ name: String, as kind: Kind) throws(TenderError) -> Int {
        let given = "--\(kind == .block ? "block" : "net"):\(name)"
        guard let entry = device(named: name) else {
            let declared = devices.map { "\($0.kind.noun) '\($0.name)'" }
            let list = declared.isEmpty ? "no devices" : declared.joined(separator: ", ")
            throw TenderError(
                "\(given): \(kernelName) declares no device named '\(name)' (it declares \(list)); "
                    + "check the name")
        }
        guard entry.kind == kind else {
            throw TenderError(
                "\(given): \(kernelName) declares '\(name)' as a \(entry.kind.noun), not a \(kind.noun); "
                    + "use \(entry.kind.option(for: name)) instead")
        }
        guard !entry.isAttached else {
            throw TenderError("\(given): \(kind.noun) '\(name)' is attached twice; give it once")
        }
        return entry.handle
    }

    /// Name bytes allowed in a manifest: printable ASCII except space, which
    /// would be ambiguous in messages, and '=', which cannot be written in a
    /// `--net:NAME=IFACE` option. Control bytes could rewrite the terminal.
    private static func isNameByte(_ byte: UInt8) -> Bool {
        byte > 0x20 && byte < 0x7f && byte != UInt8(ascii: "=")
    }

    /// `bytes` for a message, with anything but printable ASCII escaped.
    private static func printable(_ bytes: [UInt8]) -> String {
        var text = ""
        for byte in bytes {
            if byte >= 0x20 && byte < 0x7f && byte != UInt8(ascii: "\\") {
                text.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                text += "\\x" + (byte < 16 ? "0" : "") + String(byte, radix: 16)
            }
        }
        return text
    }
}
