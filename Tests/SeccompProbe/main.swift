import CRiadTender
import Glibc
import RiadTender
import Synchronization

/// Installs riad-hvt's seccomp filter, then makes the system call named by
/// its argument. The tests expect `allowed` to exit 0 and `forbidden` to be
/// killed by SIGSYS.
let mode = CommandLine.arguments.dropFirst().first ?? ""

/// "thread-forbidden": a thread started before the filter (as the net
/// ring's I/O thread is) makes the forbidden call after it: the filter must
/// cover it too. (Outside the main actor, which top-level code belongs to.)
enum ThreadProbe {
    static let filterInstalled = Atomic<Bool>(false)
    static let threadRunning = Atomic<Bool>(false)

    static func start() {
        var thread = pthread_t()
        pthread_create(
            &thread, nil,
            { _ in
                ThreadProbe.threadRunning.store(true, ordering: .releasing)
                // No system call while waiting: only the one under test.
                while !ThreadProbe.filterInstalled.load(ordering: .acquiring) {}
                _ = riad_syscall0(Int(SYS_getpid))
                _ = "survived a forbidden system call in a thread\n".withCString { write(1, $0, strlen($0)) }
                exit(3)
            }, nil)
        // As riad-hvt does: the thread's own start-up calls come before the filter.
        while !threadRunning.load(ordering: .acquiring) {}
    }
}

// A pipe nobody writes, made before the filter: the main thread waits on it.
var pipeFDs: [Int32] = [0, 0]
_ = pipe(&pipeFDs)
if mode == "thread-forbidden" { ThreadProbe.start() }
do {
    try Seccomp.install()
} catch {
    _ = "probe: \(error.message)\n".withCString { write(2, $0, strlen($0)) }
    exit(2)
}
switch mode {
case "thread-forbidden":
    ThreadProbe.filterInstalled.store(true, ordering: .releasing)
    // Wait with an allowed call (read of a pipe nobody writes) for the
    // thread to be killed, and the process with it.
    var byte: UInt8 = 0
    _ = read(pipeFDs[0], &byte, 1)
    exit(4)
case "allowed":
    var now = timespec()
    _ = clock_gettime(CLOCK_MONOTONIC, &now)
    // malloc's arenas change protections, never to executable.
    let page = mmap(nil, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
    guard let page, page != MAP_FAILED, mprotect(page, 4096, PROT_READ | PROT_WRITE) == 0 else { exit(5) }
    _ = "still alive\n".withCString { write(1, $0, strlen($0)) }
    exit(0)
case "executable":
    // Memory made executable after the filter is what it exists to stop.
    let page = mmap(nil, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
    _ = mprotect(page, 4096, PROT_READ | PROT_EXEC)
    _ = "survived mprotect(PROT_EXEC)\n".withCString { write(1, $0, strlen($0)) }
    exit(3)
case "forbidden":
    // getpid is harmless, but not on the list: the process must die here.
    _ = riad_syscall0(Int(SYS_getpid))
    _ = "survived a forbidden system call\n".withCString { write(1, $0, strlen($0)) }
    exit(3)
default:
    exit(2)
}
