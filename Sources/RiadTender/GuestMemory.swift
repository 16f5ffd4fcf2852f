import Glibc
import RiadABI

/// The guest's physical memory: one anonymous mapping handed to KVM at
/// guest-physical address 0.
///
/// Every value the guest gives the tender is an address or a length it may
/// have chosen to hurt the host. All access goes through the checked
/// accessors here, which refuse anything outside the guest's own memory
/// (overflow-checked), so a hostile kernel can at worst hurt itself.
public final class GuestMemory {
    /// The host address of guest-physical address 0.
    let base: UnsafeMutableRawPointer
    /// The memory the kernel is given, in bytes: a multiple of 2 MiB. Every
    /// buffer the guest names must lie below it.
    public let size: UInt64
    /// Bytes mapped above `size` for the tender's own shared structures
    /// (the net ring): the guest can reach them, but never names them as a
    /// buffer, so no check below lets the tender read or write them for it.
    public let reservedSize: UInt64

    /// All that KVM maps: `size + reservedSize`.
    var mappedSize: UInt64 { size + reservedSize }

    /// Maps `size + reserved` bytes of zeroed memory. Pages are only backed
    /// when touched.
    init(size: UInt64, reserved: UInt64 = 0) throws(TenderError) {
        let mapped = mmap(
            nil, Int(size + reserved), PROT_READ | PROT_WRITE,
            MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
        guard let mapped, mapped != MAP_FAILED else {
            throw TenderError("cannot map \(size >> 20) MiB of guest memory: \(errnoString())")
        }
        self.base = mapped
        self.size = size
        self.reservedSize = reserved
    }

    deinit { munmap(base, Int(mappedSize)) }

    /// The reserved area above the kernel's memory.
    var reserved: UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: base + Int(size), count: Int(reservedSize))
    }

    /// The whole of guest memory, for the loader.
    var all: UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: base, count: Int(size))
    }

    /// The host view of `count` guest bytes at `address`, or an error if any
    /// of them lies outside `[floor, size)`.
    ///
    /// - Parameter floor: the lowest address the guest may name here; the
    ///   hypercall handlers pass `RIAD_HVT_GUEST_MIN_BASE` so that the guest
    ///   cannot make the tender write its page tables or boot info.
    func bytes(at address: UInt64, count: UInt64, floor: UInt64 = 0, what: StaticString)
        throws(TenderError) -> UnsafeMutableRawBufferPointer
    {
        let (end, overflow) = address.addingReportingOverflow(count)
        guard !overflow, address >= floor, end <= size else {
            throw TenderError(
                "guest gave an invalid \(what): \(count) bytes at 0x\(hex(address)) "
                    + "(guest memory is 0x\(hex(floor))..<0x\(hex(size)))")
        }
        return UnsafeMutableRawBufferPointer(start: base + Int(address), count: Int(count))
    }

    /// Copies a `T` out of guest memory. The copy is what the tender checks and
    /// uses, so the guest cannot change it between check and use.
    func load<T: BitwiseCopyable>(_ type: T.Type, at address: UInt64) throws(TenderError) -> T {
        let region = try bytes(
            at: address, count: UInt64(MemoryLayout<T>.size), floor: RIAD_HVT_GUEST_MIN_BASE,
            what: "hypercall argument")
        return region.loadUnaligned(as: T.self)
    }

    /// Writes a `T` back to guest memory at an address `load` accepted.
    func store<T: BitwiseCopyable>(_ value: T, at address: UInt64) throws(TenderError) {
        let region = try bytes(
            at: address, count: UInt64(MemoryLayout<T>.size), floor: RIAD_HVT_GUEST_MIN_BASE,
            what: "hypercall argument")
        region.storeBytes(of: value, as: T.self)
    }

    /// Writes `value` at a tender-chosen address (page tables, boot info).
    func write<T: BitwiseCopyable>(_ value: T, at address: UInt64) {
        precondition(address + UInt64(MemoryLayout<T>.size) <= mappedSize)
        (base + Int(address)).storeBytes(of: value, as: T.self)
    }
}

/// Lower-case hexadecimal without a prefix.
func hex<T: BinaryInteger>(_ value: T) -> String { String(value, radix: 16) }

/// The text of the current `errno`.
func errnoString() -> String { String(cString: strerror(errno)) }
