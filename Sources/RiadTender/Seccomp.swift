import CRiadTender
import Glibc

/// The system-call allowlist installed just before the guest's first
/// instruction.
///
/// After set-up the tender needs very little of the host: run the vCPU, move
/// bytes between guest memory and already-open descriptors, wait, and exit.
/// Anything else (open, socket, execve, …) means the tender was subverted, and
/// the kernel kills the whole process.
///
/// User-mode networking (`--net:NAME=user`) adds nothing to the list: libslirp,
/// which needs socket, bind, connect, accept and the rest, runs in the helper
/// process riad-slirp, started before the filter goes on. The tender only
/// reads and writes frames on its end of a socket pair it already holds
/// (read, write, epoll_wait), as it does a tap's; a helper that exited shows
/// as end of file or EPIPE (SIGPIPE is ignored then), never as a new call.
public enum Seccomp {
    /// System calls the run loop and the net ring's I/O thread use. `ioctl`
    /// is further limited to the requests the loop makes, and `mmap` and
    /// `mprotect` to memory that is not executable (the Swift runtime and
    /// malloc may allocate).
    static let allowed: [Int32] = [
        SYS_read, SYS_write, SYS_pread64, SYS_pwrite64, SYS_readv, SYS_writev,
        SYS_epoll_wait, SYS_epoll_pwait, SYS_timerfd_settime, SYS_clock_gettime,
        SYS_exit, SYS_exit_group, SYS_rt_sigreturn, SYS_futex, SYS_brk, SYS_munmap,
        SYS_mremap, SYS_madvise, SYS_close,
        // The Swift runtime's locks record their owner's thread id.
        SYS_gettid,
    ].map { Int32($0) }

    static let allowedIoctls: [UInt] = [
        RIAD_KVM_RUN, RIAD_KVM_GET_REGS, RIAD_KVM_GET_SREGS,
    ]

    // Offsets into struct seccomp_data.
    private static let nrOffset: UInt32 = 0
    private static let archOffset: UInt32 = 4
    private static func argOffset(_ index: UInt32) -> UInt32 { 16 + index * 8 }

    /// The BPF program: check the architecture, then the allowlist.
    static func program() -> [sock_filter] {
        var code: [sock_filter] = []
        func statement(_ op: Int32, _ k: UInt32) {
            code.append(sock_filter(code: UInt16(op), jt: 0, jf: 0, k: k))
        }
        func jumpIfEqual(_ k: UInt32, then jt: UInt8, else jf: UInt8) {
            code.append(sock_filter(code: UInt16(BPF_JMP | BPF_JEQ | BPF_K), jt: jt, jf: jf, k: k))
        }
        let kill = UInt32(SECCOMP_RET_KILL_PROCESS)
        let allow = UInt32(SECCOMP_RET_ALLOW)

        statement(BPF_LD | BPF_W | BPF_ABS, archOffset)
        jumpIfEqual(RIAD_AUDIT_ARCH_X86_64, then: 1, else: 0)
        statement(BPF_RET | BPF_K, kill)
        statement(BPF_LD | BPF_W | BPF_ABS, nrOffset)
        for number in allowed {
            jumpIfEqual(UInt32(number), then: 0, else: 1)
            statement(BPF_RET | BPF_K, allow)
        }
        // ioctl: only the listed requests (the low 32 bits of argument 1
        // hold the whole request number).
        jumpIfEqual(UInt32(SYS_ioctl), then: 0, else: UInt8(2 + 2 * allowedIoctls.count))
        statement(BPF_LD | BPF_W | BPF_ABS, argOffset(1))
        for request in allowedIoctls {
            jumpIfEqual(UInt32(truncatingIfNeeded: request), then: 0, else: 1)
            statement(BPF_RET | BPF_K, allow)
        }
        statement(BPF_RET | BPF_K, kill)
        // mmap and mprotect: never with PROT_EXEC (argument 2). glibc's
        // malloc needs mprotect for the arena of a thread that allocates
        // (the net ring's I/O thread may).
        for call in [SYS_mmap, SYS_mprotect] {
            jumpIfEqual(UInt32(call), then: 0, else: 4)
            statement(BPF_LD | BPF_W | BPF_ABS, argOffset(2))
            code.append(
                sock_filter(
                    code: UInt16(BPF_JMP | BPF_JSET | BPF_K), jt: 1, jf: 0, k: UInt32(PROT_EXEC)))
            statement(BPF_RET | BPF_K, allow)
            statement(BPF_RET | BPF_K, kill)
        }
        statement(BPF_RET | BPF_K, kill)
        return code
    }

    /// Installs the filter on every thread of the process (the net ring's
    /// I/O thread is already running: TSYNC puts it under the same filter).
    /// Irreversible.
    public static func install() throws(TenderError) {
        guard riad_prctl(PR_SET_NO_NEW_PRIVS, 1, 0) == 0 else {
            throw TenderError("cannot set no_new_privs: \(errnoString())")
        }
        var code = program()
        let result = code.withUnsafeMutableBufferPointer { buffer in
            var filter = sock_fprog(len: UInt16(buffer.count), filter: buffer.baseAddress)
            return withUnsafeMutablePointer(to: &filter) { riad_seccomp_filter_all_threads($0) }
        }
        guard result == 0 else {
            throw TenderError(
                result > 0
                    ? "cannot install the seccomp filter: thread \(result) could not take it"
                    : "cannot install the seccomp filter: \(errnoString())")
        }
    }
}
