import CRiadTender
import Glibc
import RiadTender

/// Installs riad-hvt's seccomp filter, then makes the system call named by
/// its argument. The tests expect `allowed` to exit 0 and `forbidden` to be
/// killed by SIGSYS.
let mode = CommandLine.arguments.dropFirst().first ?? ""
do {
    try Seccomp.install()
} catch {
    _ = "probe: \(error.message)\n".withCString { write(2, $0, strlen($0)) }
    exit(2)
}
switch mode {
case "allowed":
    var now = timespec()
    _ = clock_gettime(CLOCK_MONOTONIC, &now)
    _ = "still alive\n".withCString { write(1, $0, strlen($0)) }
    exit(0)
case "forbidden":
    // getpid is harmless, but not on the list: the process must die here.
    _ = riad_syscall0(Int(SYS_getpid))
    _ = "survived a forbidden system call\n".withCString { write(1, $0, strlen($0)) }
    exit(3)
default:
    exit(2)
}
