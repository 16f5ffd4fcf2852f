import RiadABI

/// The guest's low-memory layout and the x86-64 structures the tender writes
/// there before the first instruction, as the Solo5 hvt ABI fixes them.
///
/// The kernel is entered directly in 64-bit long mode with paging on: no real
/// mode, no boot loader. Memory is identity-mapped; the first 2 MiB with
/// 4 KiB pages so that page 0 (NULL) and the tender's own structures are not
/// mapped and the boot info is read-only, the rest with 2 MiB pages.
enum X86Layout {
    static let gdtBase: UInt64 = 0x1000
    static let pml4Base: UInt64 = 0x2000
    static let pdptBase: UInt64 = 0x3000
    /// Four page directories, one per GiB of guest memory.
    static let pdBase: UInt64 = 0x4000
    /// The page table of the first 2 MiB.
    static let pt0Base: UInt64 = 0x8000
    /// Boot info, then the manifest, then the command line.
    static let bootInfoBase: UInt64 = 0x10000

    static let pageSize: UInt64 = 0x1000
    static let largePageSize: UInt64 = 0x20_0000
    /// Hypercall arguments are 32-bit addresses, and four page directories map
    /// 4 GiB: so guest memory is at most 4 GiB.
    static let maxMemory: UInt64 = 0x1_0000_0000

    // Page-table entry bits (Intel SDM vol. 3A, 4.5).
    static let present: UInt64 = 1 << 0
    static let writable: UInt64 = 1 << 1
    static let largePage: UInt64 = 1 << 7

    // Control registers (Intel SDM vol. 3A, 2.5).
    static let cr0 = UInt64(1 << 0 | 1 << 5 | 1 << 16 | 1 << 31)  // PE NE WP PG
    static let cr4 = UInt64(1 << 5 | 1 << 9 | 1 << 10)  // PAE OSFXSR OSXMMEXCPT
    static let efer = UInt64(1 << 8 | 1 << 10)  // LME LMA
    static let rflags: UInt64 = 0x2  // bit 1 is always set; interrupts off

    /// GDT selectors (index, not yet multiplied by 8).
    static let codeSelector: UInt16 = 1
    static let dataSelector: UInt16 = 2

    /// Flat 64-bit code: present, ring 0, execute-only accessed (type 9), L=1, G=1.
    static let codeDescriptor: UInt64 = 0x00af_9900_0000_ffff
    /// Flat data: present, ring 0, read-write accessed (type 3), D/B=1, G=1.
    static let dataDescriptor: UInt64 = 0x00cf_9300_0000_ffff

    /// Writes the GDT and the identity-mapping page tables for `memory`.
    static func writeTables(into memory: GuestMemory) {
        memory.write(UInt64(0), at: gdtBase)
        memory.write(codeDescriptor, at: gdtBase + 8)
        memory.write(dataDescriptor, at: gdtBase + 16)

        memory.write(pdptBase | present | writable, at: pml4Base)
        for gib in UInt64(0)..<4 {
            memory.write((pdBase + gib * pageSize) | present | writable, at: pdptBase + gib * 8)
        }
        // The first 2 MiB through PT0: nothing below the boot info, the boot
        // info and the rest of low memory read-only, the kernel's first
        // megabyte read-write.
        memory.write(pt0Base | present | writable, at: pdBase)
        var address: UInt64 = 0
        while address < largePageSize {
            let entry: UInt64
            if address < bootInfoBase {
                entry = 0
            } else if address < RIAD_HVT_GUEST_MIN_BASE {
                entry = address | present
            } else {
                entry = address | present | writable
            }
            memory.write(entry, at: pt0Base + (address / pageSize) * 8)
            address += pageSize
        }
        var slot = pdBase + 8
        // The reserved area above the kernel's memory (the net ring) too:
        // Solo5 kernels use these tables as they are.
        while address < memory.mappedSize {
            memory.write(address | present | writable | largePage, at: slot)
            slot += 8
            address += largePageSize
        }
    }
}
