import CPlatformHvt
import PlatformHvt
import Riad
import RiadABI

/// Makes one hypercall a well-behaved kernel never makes, chosen by
/// `--case=NAME`. The tender must stop the kernel with a clear error (or, for
/// the cases a kernel may legitimately get wrong, answer EINVAL).
struct Hostile {
    static func start(platform: HvtPlatform) async -> Int32 {
        let memory = riad_hvt_get_boot_info()!.pointee.mem_size
        let name = Arguments(platform.arguments).value("case") ?? ""
        switch name {
        case "struct-outside":
            // The argument structure itself lies beyond guest memory.
            hypercall(RIAD_HVT_HYPERCALL_WALLTIME, address: memory + 0x1000)
        case "struct-straddles":
            // The structure starts inside memory and ends outside it.
            hypercall(RIAD_HVT_HYPERCALL_POLL, address: memory - 8)
        case "struct-lowmem":
            // The boot info is read-only to the guest; the tender must not
            // write it for the guest either.
            hypercall(RIAD_HVT_HYPERCALL_WALLTIME, address: 0x10000)
        case "puts-outside":
            var call = riad_hvt_hc_puts(data: memory - 16, len: 4096)
            hypercall(RIAD_HVT_HYPERCALL_PUTS, &call)
        case "puts-overflow":
            var call = riad_hvt_hc_puts(data: 0x100000, len: UInt64.max)
            hypercall(RIAD_HVT_HYPERCALL_PUTS, &call)
        case "net-read-outside":
            var call = riad_hvt_hc_net_read(handle: 0, data: memory, len: 2048, ret: 0)
            hypercall(RIAD_HVT_HYPERCALL_NET_READ, &call)
        case "halt-cookie-outside":
            var call = riad_hvt_hc_halt(cookie: memory - 100, exit_status: 0)
            hypercall(RIAD_HVT_HYPERCALL_HALT, &call)
        case "bad-number":
            hypercall(riad_hvt_hypercall(rawValue: 42), address: 0x100000)
        case "puts-lowmem":
            // Reading low memory is allowed: print the command line where
            // the tender put it, as Solo5 kernels do.
            let line = riad_hvt_get_boot_info()!.pointee.cmdline
            var call = riad_hvt_hc_puts(data: line, len: 15)
            hypercall(RIAD_HVT_HYPERCALL_PUTS, &call)
            platform.write("\nSUCCESS\n")
            return 0
        case "bad-handle":
            // A wrong handle is a mistake a kernel may make: EINVAL, not death.
            var call = riad_hvt_hc_net_write(handle: 9, data: 0x100000, len: 60, ret: 0)
            hypercall(RIAD_HVT_HYPERCALL_NET_WRITE, &call)
            var block = riad_hvt_hc_block_read(handle: 9, offset: 0, data: 0x100000, len: 512, ret: 0)
            hypercall(RIAD_HVT_HYPERCALL_BLOCK_READ, &block)
            guard call.ret == Int32(RIAD_HVT_R_EINVAL.rawValue),
                block.ret == Int32(RIAD_HVT_R_EINVAL.rawValue)
            else {
                platform.write("FAILURE: bad handles answered \(call.ret) and \(block.ret)\n")
                return 1
            }
            platform.write("SUCCESS\n")
            return 0
        default:
            platform.write("hostile: unknown --case=\(name)\n")
            return ExitStatus.usage
        }
        platform.write("hostile: the tender let case \(name) through\n")
        return 0
    }

    static func hypercall(_ number: riad_hvt_hypercall, address: UInt64) {
        riad_hvt_hypercall(Int32(number.rawValue), UnsafeMutableRawPointer(bitPattern: UInt(address)))
    }

    static func hypercall<T>(_ number: riad_hvt_hypercall, _ call: inout T) {
        withUnsafeMutablePointer(to: &call) { riad_hvt_hypercall(Int32(number.rawValue), $0) }
    }
}
