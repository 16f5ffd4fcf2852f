import CRiadTender
import Glibc
import RiadABI

/// One KVM virtual machine with one vCPU, set up the way the hvt ABI says:
/// long mode, flat segments, identity-mapped memory, `rip` at the kernel's
/// entry and `rdi` pointing at the boot info.
final class KVMMachine {
    let kvmFD: Int32
    let vmFD: Int32
    let vcpuFD: Int32
    let run: UnsafeMutablePointer<kvm_run>
    let memory: GuestMemory
    /// The vCPU's TSC frequency in Hz, told to the kernel in the boot info.
    let tscFrequency: UInt64

    init(memory: GuestMemory) throws(TenderError) {
        self.memory = memory
        kvmFD = open("/dev/kvm", O_RDWR | O_CLOEXEC)
        guard kvmFD >= 0 else {
            throw TenderError(
                "cannot open /dev/kvm: \(errnoString()) (is KVM enabled, and may this user use it?)")
        }
        let version = riad_ioctl_val(kvmFD, RIAD_KVM_GET_API_VERSION, 0)
        guard version == 12 else {
            throw TenderError("/dev/kvm speaks KVM API version \(version); riad-hvt needs 12")
        }
        vmFD = riad_ioctl_val(kvmFD, RIAD_KVM_CREATE_VM, 0)
        guard vmFD >= 0 else { throw TenderError("KVM_CREATE_VM failed: \(errnoString())") }

        var region = kvm_userspace_memory_region(
            slot: 0, flags: 0, guest_phys_addr: 0, memory_size: memory.mappedSize,
            userspace_addr: UInt64(UInt(bitPattern: memory.base)))
        guard riad_ioctl_ptr(vmFD, RIAD_KVM_SET_USER_MEMORY_REGION, &region) == 0 else {
            throw TenderError("KVM_SET_USER_MEMORY_REGION failed: \(errnoString())")
        }
        vcpuFD = riad_ioctl_val(vmFD, RIAD_KVM_CREATE_VCPU, 0)
        guard vcpuFD >= 0 else { throw TenderError("KVM_CREATE_VCPU failed: \(errnoString())") }

        let runSize = riad_ioctl_val(kvmFD, RIAD_KVM_GET_VCPU_MMAP_SIZE, 0)
        guard runSize >= MemoryLayout<kvm_run>.size,
            let mapped = mmap(nil, Int(runSize), PROT_READ | PROT_WRITE, MAP_SHARED, vcpuFD, 0),
            mapped != MAP_FAILED
        else { throw TenderError("cannot map the vCPU's run structure: \(errnoString())") }
        run = mapped.assumingMemoryBound(to: kvm_run.self)

        let khz = riad_ioctl_val(vcpuFD, RIAD_KVM_GET_TSC_KHZ, 0)
        guard khz > 0 else {
            throw TenderError("KVM_GET_TSC_KHZ failed (is the host TSC stable?): \(errnoString())")
        }
        tscFrequency = UInt64(khz) * 1000
        try setCPUID()
    }

    /// Whether KVM can turn a port write into an eventfd signal (the net
    /// ring's kick).
    var supportsIOEventFD: Bool {
        riad_ioctl_val(kvmFD, RIAD_KVM_CHECK_EXTENSION, RIAD_KVM_CAP_IOEVENTFD) > 0
    }

    /// Makes every 4-byte write to `port` signal `eventFD` inside KVM: the
    /// vCPU goes on without the run loop seeing an exit.
    func signal(eventFD: Int32, onWriteTo port: UInt16) throws(TenderError) {
        var request = kvm_ioeventfd()
        request.addr = UInt64(port)
        request.len = 4
        request.fd = eventFD
        request.flags = RIAD_KVM_IOEVENTFD_FLAG_PIO
        guard riad_ioctl_ptr(vmFD, RIAD_KVM_IOEVENTFD, &request) == 0 else {
            throw TenderError("KVM_IOEVENTFD on port 0x\(hex(port)) failed: \(errnoString())")
        }
    }

    /// Gives the guest every CPUID feature KVM supports (SSE, RDRAND, …).
    private func setCPUID() throws(TenderError) {
        var cpuid = riad_cpuid()
        cpuid.header.nent = UInt32(RIAD_CPUID_MAX_ENTRIES)
        guard riad_ioctl_ptr(kvmFD, RIAD_KVM_GET_SUPPORTED_CPUID, &cpuid) == 0,
            riad_ioctl_ptr(vcpuFD, RIAD_KVM_SET_CPUID2, &cpuid) == 0
        else { throw TenderError("cannot set the vCPU's CPUID: \(errnoString())") }
    }

    /// Sets segment, control and general registers for entry at `entry`.
    func setRegisters(entry: UInt64) throws(TenderError) {
        var sregs = kvm_sregs()
        guard riad_ioctl_ptr(vcpuFD, RIAD_KVM_GET_SREGS, &sregs) == 0 else {
            throw TenderError("KVM_GET_SREGS failed: \(errnoString())")
        }
        let code = Self.segment(selector: X86Layout.codeSelector, type: 9, db: 0, l: 1)
        let data = Self.segment(selector: X86Layout.dataSelector, type: 3, db: 1, l: 0)
        sregs.cs = code
        (sregs.ds, sregs.es, sregs.fs, sregs.gs, sregs.ss) = (data, data, data, data, data)
        // A busy 64-bit TSS at 0 (never used: no privilege changes, no IST).
        sregs.tr = kvm_segment(
            base: 0, limit: 0, selector: 0, type: 11, present: 1, dpl: 0, db: 0, s: 0, l: 0, g: 0,
            avl: 0, unusable: 0, padding: 0)
        sregs.ldt = kvm_segment(
            base: 0, limit: 0, selector: 0, type: 0, present: 0, dpl: 0, db: 0, s: 0, l: 0, g: 0,
            avl: 0, unusable: 1, padding: 0)
        sregs.gdt = kvm_dtable(base: X86Layout.gdtBase, limit: 3 * 8 - 1, padding: (0, 0, 0))
        sregs.cr0 = X86Layout.cr0
        sregs.cr3 = X86Layout.pml4Base
        sregs.cr4 = X86Layout.cr4
        sregs.efer = X86Layout.efer
        guard riad_ioctl_ptr(vcpuFD, RIAD_KVM_SET_SREGS, &sregs) == 0 else {
            throw TenderError("KVM_SET_SREGS failed: \(errnoString())")
        }
        var regs = kvm_regs()
        regs.rip = entry
        regs.rflags = X86Layout.rflags
        // The SysV ABI wants (rsp + 8) % 16 == 0 at function entry.
        regs.rsp = memory.size - 8
        regs.rdi = X86Layout.bootInfoBase
        guard riad_ioctl_ptr(vcpuFD, RIAD_KVM_SET_REGS, &regs) == 0 else {
            throw TenderError("KVM_SET_REGS failed: \(errnoString())")
        }
    }

    private static func segment(selector: UInt16, type: UInt8, db: UInt8, l: UInt8) -> kvm_segment {
        kvm_segment(
            base: 0, limit: 0xffff_ffff, selector: selector * 8, type: type, present: 1, dpl: 0,
            db: db, s: 1, l: l, g: 1, avl: 0, unusable: 0, padding: 0)
    }

    /// The guest's instruction pointer, for error messages.
    func instructionPointer() -> UInt64 {
        var regs = kvm_regs()
        return riad_ioctl_ptr(vcpuFD, RIAD_KVM_GET_REGS, &regs) == 0 ? regs.rip : 0
    }
}
