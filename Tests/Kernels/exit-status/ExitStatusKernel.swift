import Riad

// The same kernel for both targets: each target's platform and devices
// under one name (riad defines RIAD_TARGET_UNIX or RIAD_TARGET_HVT).
#if RIAD_TARGET_UNIX
    import PlatformUnix
    typealias TargetPlatform = UnixPlatform
#else
    import PlatformHvt
    typealias TargetPlatform = HvtPlatform
#endif

/// Exits with `--status=N`; `--abort` aborts; `--fatal` calls fatalError
/// (a Swift trap: ud2); `--trap` dereferences an unmapped address so that
/// the CPU raises a page fault.
struct ExitStatusKernel {
    static func start(platform: TargetPlatform) async -> Int32 {
        let arguments = Arguments(platform.arguments)
        if arguments.value("abort") != nil { platform.abort("requested by --abort") }
        if arguments.value("fatal") != nil {
            fatalError("requested by --fatal")
        }
        if arguments.value("trap") != nil {
            // Page 0 is never mapped, in an hvt guest or a Linux process.
            let pointer = UnsafeMutablePointer<UInt64>(bitPattern: 0x8)!
            pointer.pointee = 42
            platform.write("trap: still running\n")
            return 0
        }
        let status = Arguments.parseUnsigned(arguments.value("status") ?? "0") ?? 0
        platform.write("exiting with \(status)\n")
        return Int32(truncatingIfNeeded: status)
    }
}
