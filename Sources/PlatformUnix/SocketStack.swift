import CPlatformUnix
import Riad
import RiadNet
import _Concurrency

/// The host's TCP/IP, through its sockets: the `socket` stack, for the unix
/// target.
///
/// The kernel is an unprivileged Linux process, so it needs neither a tap
/// device nor root: it listens and connects on the host's own addresses,
/// and Linux does IP, TCP and UDP. Applications see the same
/// `NetworkStack` API as with the direct stack.
///
/// Every socket is nonblocking. A call tries the host first; when the host
/// says "not yet" (EAGAIN, or EINPROGRESS for a connect), the calling task
/// is suspended until a turn of the stack's network task sees an event on
/// that socket, and then tries again. The sockets sit in an epoll set of
/// the stack's own: the kernel's event loop waits on device handles below
/// 64 and cannot give each socket one, so the whole set is registered in
/// the platform's epoll under the one handle `SocketStack.handle`, and the
/// network task waits on that handle until the earliest deadline of a
/// waiting task.
///
/// The set is edge-triggered. Level-triggered, a socket with unread input
/// (a connection nobody is reading yet, a listener whose application is
/// busy) would keep the set, and so the platform's epoll, ready, and the
/// network task would spin. Edge-triggered, an event is reported once; that
/// is safe because a task always makes its call before it waits, and waits
/// only after the host said EAGAIN, so no event it needs can come before
/// it is registered (the kernel has one thread: nothing runs in between).
///
/// ```swift
/// let stack = SocketStack(platform: platform)
/// await stack.run {
///     let listener = try stack.listen(port: 8080, backlog: 16)
///     ...
/// }
/// ```
public final class SocketStack: NetworkStack {
    public typealias Stream = SocketTCPStream
    public typealias Listener = SocketTCPListener
    public typealias Datagrams = SocketUDPSocket

    let platform: UnixPlatform
    /// The stack's own epoll set: every open socket, edge-triggered.
    let epollFD: Int32
    /// The address sockets bind to: `0.0.0.0` (every host address) unless
    /// `--bind-address` or `init` names one.
    var bindAddress: IPv4Address
    var waiters = SocketWaiters()
    /// The deadline the network task is waiting until, if it is waiting.
    var networkWait: UInt64?
    /// Whether `run` is running: waiting outside it would never end.
    var running = false
    /// Calls that completed without waiting since a task last waited.
    var callsWithoutWaiting = 0
    /// The descriptors of a batch of events.
    let events: UnsafeMutableBufferPointer<Int32>

    /// The handle the stack's epoll set has in the platform's epoll: the
    /// highest a ready set can hold. Device handles count from 1 in the
    /// manifest's order, so a kernel would need 63 devices to collide;
    /// `init` checks.
    public static var handle: UInt64 { 63 }
    /// Events taken from the set at a time.
    static var eventBatch: Int { 64 }
    /// Batches per turn of the network task, so that woken tasks run
    /// between bursts (more events keep the set ready for the next turn).
    static var eventBatchesPerTurn: Int { 4 }
    /// A task whose calls keep completing without waiting (the host had
    /// data every time) lets the other tasks run after this many.
    static var callsBeforeYield: Int { 16 }

    /// Creates the stack on `platform`, bound to `bindAddress` (the host's
    /// every address by default; `--bind-address` can change it).
    ///
    /// Stops the kernel (`platform.abort`) if the host will not give it an
    /// epoll set, or if a device already has `SocketStack.handle`.
    public init(platform: UnixPlatform, bindAddress: IPv4Address = .unspecified) {
        self.platform = platform
        self.bindAddress = bindAddress
        events = .allocate(capacity: Self.eventBatch)
        for device in AttachedDevices.all where device.handle == Self.handle {
            platform.abort("socket stack: handle \(Self.handle) is taken by a device (too many devices)")
        }
        epollFD = riad_unix_epoll_create()
        guard epollFD >= 0, riad_unix_epoll_add(platform.epollFD, epollFD, Self.handle) == 0 else {
            platform.abort("socket stack: cannot create its epoll set: " + errorText())
        }
    }

    deinit {
        // Closing the set also takes it out of the platform's epoll.
        riad_unix_socket_close(epollFD)
        events.deallocate()
    }

    /// The address and a /32 prefix when the stack is bound to one host
    /// address; nil when it uses them all (`0.0.0.0`), which the host
    /// configures, not the kernel.
    public var ipv4: IPv4CIDR? {
        bindAddress.isUnspecified ? nil : IPv4CIDR(address: bindAddress, prefixLength: 32)
    }

    // MARK: The network task

    /// Runs `body` (the application) in the calling task, with the
    /// network task beside it, and stops the network when `body` returns.
    public func run<Result>(_ body: @escaping () async -> Result) async -> Result {
        running = true
        // Unstructured, so that `Result` need not be Sendable (a task
        // group's child results must be); it is awaited before returning.
        let network = Task { await self.serve() }
        let result = await body()
        stop()
        await network.value
        return result
    }

    /// The network task: until `stop` is called or the task is cancelled.
    public func run() async {
        running = true
        await serve()
    }

    /// The network task's turns, while `running`.
    func serve() async {
        while running {
            service()
            let deadline = waiters.nextDeadline ?? .max
            networkWait = deadline
            do throws(RiadError) {
                try await platform.waitForInput(handle: Self.handle, until: deadline)
            } catch {
                break
            }
            networkWait = nil
        }
        networkWait = nil
        // Cancelled: no turn will wake the waiting tasks any more.
        running = false
        waiters.wakeAll()
    }

    /// Ends `run` at its next turn. Tasks still waiting on a socket end
    /// with `.closed`.
    public func stop() {
        running = false
        waiters.wakeAll()
        platform.notify(handle: Self.handle)
    }

    /// One turn: takes the events of the set and wakes the tasks waiting on
    /// those sockets, and the tasks whose deadline has passed.
    func service() {
        let now = platform.monotonicNanoseconds()
        var batches = 0
        while true {
            let count = Int(riad_unix_socket_events(epollFD, events.baseAddress, Int32(events.count)))
            waiters.wake(now: now, ready: UnsafeBufferPointer(rebasing: events[..<count]))
            batches += 1
            if count < events.count || batches == Self.eventBatchesPerTurn { break }
        }
    }

    // MARK: Waiting

    /// Suspends the calling task until the stack sees an event on `fd`,
    /// `fd` is closed, or `deadline` passes; the caller then retries its
    /// call (a wake-up is a hint).
    ///
    /// - Throws: `.timedOut` once `deadline` has passed; `.closed` when the
    ///   network is not running; `.cancelled`.
    func wait(for fd: Int32, until deadline: UInt64) async throws(RiadError) {
        guard running else { throw RiadError(.closed, "the network is not running: call this inside run") }
        guard platform.monotonicNanoseconds() < deadline else { throw RiadError(.timedOut) }
        callsWithoutWaiting = 0
        let pending = SocketPendingWait()
        await withTaskCancellationHandler {
            await withUnsafeContinuation { (continuation: UnsafeContinuation<Void, Never>) in
                if Task.isCancelled {
                    continuation.resume()
                } else {
                    pending.id = waiters.add(fd: fd, until: deadline, continuation)
                    if let planned = networkWait, deadline < planned {
                        platform.notify(handle: Self.handle)
                    }
                }
            }
        } onCancel: {
            // One thread: this runs between jobs, never during a turn.
            self.waiters.remove(pending.id)?.resume()
        }
        if Task.isCancelled { throw RiadError(.cancelled) }
    }

    /// After a call that completed without waiting: now and then, lets the
    /// other tasks run. Host sockets fill while the kernel works, so a
    /// task reading a fast peer could otherwise keep the loop to itself.
    func yieldNowAndThen() async {
        callsWithoutWaiting += 1
        guard callsWithoutWaiting >= Self.callsBeforeYield else { return }
        callsWithoutWaiting = 0
        await Task.yield()
    }

    /// Wakes the tasks waiting on `fd` before it is closed or shut down.
    func release(_ fd: Int32) {
        waiters.wake(fd: fd)
    }

    // MARK: Sockets

    /// A new nonblocking socket in the stack's set.
    func openSocket(datagram: Bool) throws(RiadError) -> Int32 {
        let fd = riad_unix_socket_open(datagram ? 1 : 0)
        guard fd >= 0 else { throw RiadError(socketError: riad_unix_errno(), "opening a socket") }
        try watch(fd)
        return fd
    }

    /// Adds `fd` to the stack's set; closes it if the host refuses.
    func watch(_ fd: Int32) throws(RiadError) {
        guard riad_unix_socket_watch(epollFD, fd) == 0 else {
            let code = riad_unix_errno()
            riad_unix_socket_close(fd)
            throw RiadError(.exhausted, "watching a socket: " + RiadError.hostText(code))
        }
    }

    /// This end's (or the peer's) address of `fd`.
    func address(of fd: Int32, peer: Bool) -> SocketAddress? {
        var address: UInt32 = 0
        var port: UInt16 = 0
        guard riad_unix_socket_address(fd, peer ? 1 : 0, &address, &port) == 0 else { return nil }
        return SocketAddress(IPv4Address(rawValue: address), port)
    }

    // MARK: NetworkStack

    public func listen(port: UInt16, backlog: Int) throws(RiadError) -> Listener {
        guard port != 0 else { throw RiadError(.invalidArgument, "a listener needs a port other than 0") }
        let fd = try openSocket(datagram: false)
        guard riad_unix_socket_bind(fd, bindAddress.rawValue, port, 1) == 0,
            riad_unix_socket_listen(fd, Int32(clamping: max(backlog, 1))) == 0
        else {
            let code = riad_unix_errno()
            riad_unix_socket_close(fd)
            throw RiadError(socketError: code, "listening on TCP port " + String(port))
        }
        return SocketTCPListener(stack: self, fd: fd, local: address(of: fd, peer: false))
    }

    public func connect(to remote: SocketAddress) async throws(RiadError) -> Stream {
        let fd = try openSocket(datagram: false)
        do throws(RiadError) {
            // Connections leave from the stack's address when it has one.
            if !bindAddress.isUnspecified, riad_unix_socket_bind(fd, bindAddress.rawValue, 0, 0) != 0 {
                throw RiadError(socketError: riad_unix_errno(), "binding to " + bindAddress.description)
            }
            if riad_unix_socket_connect(fd, remote.address.rawValue, remote.port) != 0 {
                let code = riad_unix_errno()
                guard code == EINPROGRESS else { throw RiadError(connectError: code) }
                // Writable means connected or failed (connect(2)); SO_ERROR
                // tells which, and a peer address that the handshake is done.
                while true {
                    try await wait(for: fd, until: .max)
                    let error = riad_unix_socket_pending_error(fd)
                    if error != 0 { throw RiadError(connectError: error) }
                    if address(of: fd, peer: true) != nil { break }
                }
            }
        } catch {
            riad_unix_socket_close(fd)
            throw error
        }
        return SocketTCPStream(stack: self, fd: fd)
    }

    public func bindUDP(port: UInt16) throws(RiadError) -> Datagrams {
        let fd = try openSocket(datagram: true)
        guard riad_unix_socket_bind(fd, bindAddress.rawValue, port, 0) == 0 else {
            let code = riad_unix_errno()
            riad_unix_socket_close(fd)
            throw RiadError(socketError: code, "binding UDP port " + String(port))
        }
        return SocketUDPSocket(stack: self, fd: fd, local: address(of: fd, peer: false))
    }

    /// Resolves with the host's resolver (getaddrinfo: /etc/hosts, then
    /// DNS as the host's nsswitch.conf says), IPv4 only.
    ///
    /// getaddrinfo blocks: the whole kernel waits for the answer, not just
    /// the calling task. That is acceptable on unix, where the kernel is a
    /// development process and the host's resolver caches and times out on
    /// its own, and it keeps a second resolver out of this stack. A dotted
    /// quad is parsed without asking.
    public func resolve(_ name: String) async throws(RiadError) -> IPv4Address {
        if let address = IPv4Address(name) { return address }
        var address: UInt32 = 0
        let status = name.withCString { riad_unix_resolve_ipv4($0, &address) }
        switch status {
        case RIAD_UNIX_RESOLVED: return IPv4Address(rawValue: address)
        case RIAD_UNIX_RESOLVE_NOT_FOUND: throw RiadError(.notFound, "no IPv4 address for " + name)
        case RIAD_UNIX_RESOLVE_TEMPORARY:
            throw RiadError(.timedOut, "the resolver did not answer for " + name)
        default: throw RiadError(.deviceError, "the host's resolver failed for " + name)
        }
    }
}

extension RiadError {
    /// A failed connect: as any socket error, except that a missing local
    /// address or port means the host ran out of ephemeral ports.
    init(connectError code: Int32) {
        if code == EADDRNOTAVAIL || code == EAGAIN {
            self.init(.exhausted, "connecting: no free local port")
        } else {
            self.init(socketError: code, "connecting")
        }
    }
}

/// Touched from the kernel's one thread only.
extension SocketStack: @unchecked Sendable {}
