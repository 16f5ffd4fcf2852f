import RiadABI

/// The two Solo5 notes every hvt kernel carries (see riad_elf_abi.h):
///
/// - ABI1 says which target and ABI version the kernel was built for. It is
///   checked before anything else is trusted, because a kernel built for spt
///   or virtio, or against another hvt ABI version, would make hypercalls the
///   tender does not understand, and fail in ways that are hard to diagnose.
/// - MFT1 carries the manifest: the devices the kernel needs (Manifest.swift).
///
/// Both are owned by "Solo5", so that Riad and Solo5 kernels and tenders can
/// run each other.
extension ELFImage {
    /// The owner name of both notes.
    public static let noteOwner = "Solo5"

    /// Size of the ABI1 descriptor (struct riad_abi1_info).
    static let abi1DescriptorSize = MemoryLayout<riad_abi1_info>.size

    /// Refuses the kernel unless its ABI1 note says it was built for the hvt
    /// target at the ABI version this tender speaks.
    public func checkABI() throws(TenderError) {
        func hex<T: BinaryInteger>(_ value: T) -> String { TenderError.hex(value) }
        guard let desc = try note(owner: Self.noteOwner, type: UInt32(RIAD_NOTE_TYPE_ABI1)) else {
            throw TenderError.about(
                name,
                "has no Solo5 ABI1 note (section .note.solo5.abi), so it was not built as a Riad or "
                    + "Solo5 unikernel; rebuild it for the hvt target")
        }
        guard desc.count == Self.abi1DescriptorSize,
            let target = desc.u32(at: 0), let version = desc.u32(at: 4)
        else {
            throw TenderError.about(
                name,
                "its ABI1 note has a \(hex(desc.count))-byte descriptor; expected "
                    + "\(Self.abi1DescriptorSize) bytes, so the file is corrupt")
        }
        guard target == RIAD_ABI_TARGET_HVT.rawValue else {
            throw TenderError.about(
                name,
                "was built for \(Self.targetName(target)), but riad-hvt runs only hvt kernels; "
                    + "rebuild it for the hvt target")
        }
        guard version == RIAD_HVT_ABI_VERSION else {
            throw TenderError.about(
                name,
                "was built for hvt ABI version \(version), but riad-hvt speaks version "
                    + "\(RIAD_HVT_ABI_VERSION); rebuild it with a toolchain of the same ABI version"
            )
        }
    }

    /// The kernel's manifest, parsed and validated from its MFT1 note.
    public func manifest() throws(TenderError) -> Manifest {
        guard let desc = try note(owner: Self.noteOwner, type: UInt32(RIAD_NOTE_TYPE_MFT1)) else {
            throw TenderError.about(
                name,
                "has no manifest note (Solo5 MFT1, section .note.solo5.manifest); was it built for hvt?"
            )
        }
        return try Manifest(noteDescriptor: desc, kernelName: name)
    }

    /// The host_features bits of Riad's own that the kernel asks for, from
    /// its "Riad" FEAT note (riad_elf_abi.h); 0 without one (Solo5 kernels).
    public func riadFeatures() throws(TenderError) -> UInt32 {
        guard let desc = try note(owner: RIAD_NOTE_OWNER_RIAD, type: UInt32(RIAD_NOTE_TYPE_FEAT)) else {
            return 0
        }
        guard desc.count == 8, let features = desc.u32(at: 0) else {
            throw TenderError.about(
                name, "its Riad FEAT note has a \(desc.count)-byte descriptor; expected 8")
        }
        return features
    }

    /// The name of an ABI target, for messages.
    static func targetName(_ target: UInt32) -> String {
        switch target {
        case RIAD_ABI_TARGET_HVT.rawValue: "the hvt target"
        case RIAD_ABI_TARGET_SPT.rawValue: "the spt target (solo5-spt)"
        case RIAD_ABI_TARGET_VIRTIO.rawValue: "the virtio target (a virtio or QEMU boot)"
        default: "an unknown target (\(target))"
        }
    }
}
