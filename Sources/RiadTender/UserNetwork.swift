import CRiadTender
import Glibc

/// User-mode networking (`--net:NAME=user`): the kernel's frames go to
/// libslirp, which terminates its TCP and UDP in host sockets, so a user
/// without root (and without a tap) can run a networked kernel and reach it
/// through port forwards (`--forward=tcp:8080:80`).
///
/// libslirp runs in a helper process, `riad-slirp`, not in the tender:
/// - the tender is a static executable, and libslirp (which needs glib) has
///   no static library on Debian; dlopen does not work from a static glibc
///   program either;
/// - libslirp opens, binds, connects and accepts sockets all the time,
///   which the tender's seccomp filter rightly forbids. With a helper the
///   filter stays as it is: the tender only reads and writes frames on a
///   socket it opened before the filter went on, exactly as it does a tap.
///
/// The tender and the helper share an `AF_UNIX` `SOCK_SEQPACKET` socket
/// pair: one message is one Ethernet frame, in both directions. The socket
/// is polled like a tap, so POLL wakes when libslirp has frames for the
/// kernel. The helper's first message is a start-up report, `ready` or
/// `failed` followed by a sentence; after it come only frames. The helper
/// exits when the tender's end closes, however the tender ended.
///
/// The network is libslirp's default: 10.0.2.0/24, the host (gateway)
/// 10.0.2.2, DNS 10.0.2.3, DHCP handing out 10.0.2.15, no IPv6.
public enum UserNetwork {
    /// The `--net:NAME=` value that selects user-mode networking.
    public static let backendName = "user"
    public static let network = "10.0.2.0"
    public static let netmask = "255.255.255.0"
    public static let prefixLength = 24
    public static let host = "10.0.2.2"
    public static let nameserver = "10.0.2.3"
    /// The kernel's address: the first DHCP hands out, and where forwards go.
    public static let guest = "10.0.2.15"
    /// The kernel arguments that give a direct stack its address without DHCP.
    public static var kernelArguments: [String] {
        ["--ipv4=\(guest)/\(prefixLength)", "--ipv4-gateway=\(host)"]
    }

    public static let helperName = "riad-slirp"
    /// The first byte of the helper's start-up report.
    public static let ready: UInt8 = 0
    public static let failed: UInt8 = 1
    /// The longest frame either side sends: an Ethernet header and a
    /// 1500-byte payload.
    public static let maximumFrame = 1514
    /// Bytes of socket buffer asked for in each direction (Linux caps it at
    /// net.core.wmem_max and rmem_max, 208 KiB by default).
    public static let socketBuffer: Int32 = 1 << 20
    /// How long the helper may take to load libslirp and bind its forwards.
    static let startTimeoutMilliseconds: Int32 = 10_000

    /// Starts a helper for device `name` with `forwards`; returns the
    /// tender's end of the socket (non-blocking) once the helper reported
    /// that it is ready.
    static func start(device name: String, forwards: [PortForward]) throws(TenderError) -> (
        fd: Int32, helper: pid_t
    ) {
        let option = "--net:\(name)=\(backendName)"
        guard let helper = findHelper() else {
            throw TenderError(
                "\(option): cannot find \(helperName), which runs user networking; it is built with "
                    + "riad-hvt (`swift build --product \(helperName)`) and must be beside riad-hvt or "
                    + "on PATH")
        }
        var pair: (Int32, Int32) = (-1, -1)
        let made = withUnsafeMutableBytes(of: &pair) {
            socketpair(
                AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0,
                $0.baseAddress!.assumingMemoryBound(to: Int32.self))
        }
        guard made == 0 else { throw TenderError("\(option): cannot make a socket pair: \(errnoString())") }
        let (ours, theirs) = pair
        for fd in [ours, theirs] { setBuffers(fd) }
        // The helper's end must survive exec; ours must not reach it.
        _ = fcntl(theirs, F_SETFD, 0)
        let arguments = ["\(helperName)", "--fd=\(theirs)", "--name=\(name)"] + forwards.map(\.description)
        let spawned = spawn(helper, arguments)
        close(theirs)
        let pid: pid_t
        switch spawned {
        case .success(let started): pid = started
        case .failure(let reason):
            close(ours)
            throw TenderError("\(option): cannot start \(helper): \(reason)")
        }
        do throws(TenderError) {
            try awaitReady(fd: ours, option: option)
        } catch {
            close(ours)
            kill(pid, SIGKILL)
            var status: Int32 = 0
            _ = waitpid(pid, &status, 0)
            throw error
        }
        _ = fcntl(ours, F_SETFL, fcntl(ours, F_GETFL) | O_NONBLOCK)
        return (ours, pid)
    }

    private static func setBuffers(_ fd: Int32) {
        var size = socketBuffer
        let length = socklen_t(MemoryLayout<Int32>.size)
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, length)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, length)
    }

    /// riad-slirp beside the running riad-hvt (both are built together), or
    /// else the first on PATH.
    static func findHelper() -> String? {
        var directories: [String] = []
        var path = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = path.withUnsafeMutableBufferPointer {
            readlink(
                "/proc/self/exe",
                UnsafeMutableRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), Int(PATH_MAX))
        }
        if length > 0 {
            let executable = String(decoding: path[..<length], as: UTF8.self)
            if let slash = executable.lastIndex(of: "/") { directories.append(String(executable[..<slash])) }
        }
        if let variable = getenv("PATH") {
            directories += String(cString: variable).split(separator: ":").map(String.init)
        }
        for directory in directories where !directory.isEmpty {
            let candidate = directory + "/" + helperName
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    private enum Spawned {
        case success(pid_t)
        case failure(String)
    }

    /// posix_spawn with SIGPIPE back at its default (the tender ignores it
    /// once a user network is up).
    private static func spawn(_ path: String, _ arguments: [String]) -> Spawned {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF))
        let cArguments = arguments.map { strdup($0) } + [nil]
        defer { for argument in cArguments { free(argument) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, path, nil, &attributes, cArguments, environ)
        return result == 0 ? .success(pid) : .failure(String(cString: strerror(result)))
    }

    /// Waits for the helper's start-up report.
    private static func awaitReady(fd: Int32, option: String) throws(TenderError) {
        var waiting = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        var events: Int32
        repeat {
            events = Glibc.poll(&waiting, 1, startTimeoutMilliseconds)
        } while events < 0 && errno == EINTR
        guard events > 0 else {
            throw TenderError(
                "\(option): \(helperName) did not report within \(startTimeoutMilliseconds / 1000) s")
        }
        var message = [UInt8](repeating: 0, count: 1024)
        let count = message.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        guard count > 0 else {
            throw TenderError("\(option): \(helperName) exited before it was ready")
        }
        if message[0] == ready { return }
        let reason = String(decoding: message[1..<count], as: UTF8.self)
        throw TenderError("\(option): \(reason)")
    }
}
