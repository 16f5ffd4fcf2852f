import CRiadSlirp
import Glibc
import RiadTender

/// One user network: a libslirp instance between the tender's socket (one
/// message per Ethernet frame) and the host's sockets.
///
/// One thread runs everything in `run`: each turn it lists the tender's
/// socket and the sockets libslirp wants watched, sleeps in poll(2) until
/// one is ready or the earliest timer is due (libslirp lowers the timeout
/// for its own TCP timers), lets libslirp handle its sockets, fires due
/// timers, feeds it the kernel's frames and passes on the frames it made.
final class SlirpNetwork {
    /// The helper's end of the socket pair (UserNetwork.swift).
    let fd: Int32
    /// The device's name, for messages.
    let name: String
    private var slirp: UnsafeMutableRawPointer?
    /// Frames for the kernel the socket had no room for yet.
    private var toKernel = FrameQueue(capacity: 1024, maximumFrame: UserNetwork.maximumFrame)
    /// The descriptors of one poll(2): the tender's socket first, then libslirp's.
    private var pollSet: [pollfd] = []
    private var timers: [UnsafeMutableRawPointer: SlirpTimer] = [:]
    private var guestErrors = 0
    private let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536, alignment: 16)
    /// libslirp keeps the pointer to its callbacks, so they live as long
    /// as the process.
    private let callbacks: UnsafeMutablePointer<riad_slirp_callbacks> = {
        let pointer = UnsafeMutablePointer<riad_slirp_callbacks>.allocate(capacity: 1)
        pointer.initialize(to: SlirpNetwork.makeCallbacks())
        return pointer
    }()
    /// Frames taken from the tender per turn, so that libslirp's sockets
    /// and timers are not starved by a kernel that sends without pause.
    static let framesPerTurn = 64

    init(fd: Int32, name: String) {
        self.fd = fd
        self.name = name
    }

    private var opaque: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }

    fileprivate static func from(_ opaque: UnsafeMutableRawPointer?) -> SlirpNetwork {
        Unmanaged<SlirpNetwork>.fromOpaque(opaque!).takeUnretainedValue()
    }

    /// Makes the libslirp instance with the default network and binds the
    /// forwards; a message for the user if either fails.
    func start(forwards: [PortForward]) throws(TenderError) {
        var config = riad_slirp_config()
        config.version = 1
        config.restricted = 0
        config.ipv4_enabled = true
        config.network = Self.address(UserNetwork.network)
        config.netmask = Self.address(UserNetwork.netmask)
        config.host = Self.address(UserNetwork.host)
        config.dhcp_start = Self.address(UserNetwork.guest)
        config.nameserver = Self.address(UserNetwork.nameserver)
        config.ipv6_enabled = false
        config.mtu = UserNetwork.maximumFrame - 14
        config.mru = UserNetwork.maximumFrame - 14
        slirp = riad_slirp_new(&config, callbacks, opaque)
        guard slirp != nil else { throw TenderError("libslirp refused its configuration") }
        for forward in forwards {
            let result = riad_slirp_add_hostfwd(
                slirp, forward.transport == .udp, forward.hostInAddr, Int32(forward.hostPort),
                Self.address(UserNetwork.guest), Int32(forward.guestPort))
            guard result == 0 else {
                let reason = errno == 0 ? "libslirp refused it" : String(cString: strerror(errno))
                throw TenderError(
                    "--forward=\(forward.description): cannot listen on \(forward.transport.rawValue) "
                        + "\(forward.hostAddress):\(forward.hostPort): \(reason)")
            }
        }
    }

    /// Runs until the tender's end of the socket closes; returns the exit status.
    func run() -> Int32 {
        while true {
            pollSet.removeAll(keepingCapacity: true)
            let wanted = Int16(POLLIN) | (toKernel.isEmpty ? 0 : Int16(POLLOUT))
            pollSet.append(pollfd(fd: fd, events: wanted, revents: 0))
            var timeout = millisecondsToNextTimer()
            riad_slirp_pollfds_fill(slirp, &timeout, addPoll, opaque)
            let ready = poll(&pollSet, nfds_t(pollSet.count), timeout == .max ? -1 : Int32(clamping: timeout))
            riad_slirp_pollfds_poll(slirp, ready < 0 ? 1 : 0, getReadyEvents, opaque)
            fireDueTimers()
            if ready > 0 && pollSet[0].revents != 0 {
                guard receiveFromKernel() else { break }
            }
            guard flush() else { break }
        }
        if toKernel.dropped > 0 {
            report("\(toKernel.dropped) frames for the kernel were dropped (it did not take them in time)")
        }
        return 0
    }

    /// Feeds libslirp the frames the kernel sent; false at the end of the
    /// tender.
    private func receiveFromKernel() -> Bool {
        for _ in 0..<Self.framesPerTurn {
            let count = recv(fd, buffer.baseAddress, buffer.count, Int32(MSG_DONTWAIT))
            if count > 0 {
                riad_slirp_input(slirp, buffer.baseAddress!.assumingMemoryBound(to: UInt8.self), Int32(count))
                continue
            }
            if count < 0 && (errno == EAGAIN || errno == EINTR) { return true }
            return false
        }
        return true
    }

    /// Sends queued frames while the socket takes them; false at the end
    /// of the tender.
    private func flush() -> Bool {
        while true {
            let sent = toKernel.withFirst { frame in
                send(fd, frame.baseAddress, frame.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL))
            }
            guard let sent else { return true }
            if sent < 0 { return errno == EAGAIN || errno == EINTR }
            toKernel.removeFirst()
        }
    }

    /// A frame from libslirp: straight to the socket when nothing waits
    /// before it, else queued (or dropped when the queue is full).
    fileprivate func sendToKernel(_ frame: UnsafeRawBufferPointer) {
        if toKernel.isEmpty {
            let sent = send(fd, frame.baseAddress, frame.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL))
            if sent >= 0 || errno != EAGAIN { return }
        }
        toKernel.append(frame)
    }

    fileprivate func guestError(_ message: String) {
        guestErrors += 1
        if guestErrors <= 10 { report("libslirp rejected what the kernel sent: \(message)") }
        if guestErrors == 10 { report("(further such messages are not shown)") }
    }

    func report(_ message: String) {
        let line = "\(UserNetwork.helperName): \(name): \(message)\n"
        _ = line.withCString { write(2, $0, strlen($0)) }
    }

    // MARK: Poll set

    fileprivate func add(fd: Int32, slirpEvents: Int32) -> Int32 {
        var events: Int16 = 0
        if slirpEvents & Int32(RIAD_SLIRP_POLL_IN) != 0 { events |= Int16(POLLIN) }
        if slirpEvents & Int32(RIAD_SLIRP_POLL_OUT) != 0 { events |= Int16(POLLOUT) }
        if slirpEvents & Int32(RIAD_SLIRP_POLL_PRI) != 0 { events |= Int16(POLLPRI) }
        pollSet.append(pollfd(fd: fd, events: events, revents: 0))
        return Int32(pollSet.count - 1)
    }

    fileprivate func readyEvents(index: Int32) -> Int32 {
        guard index > 0, Int(index) < pollSet.count else { return 0 }
        let revents = pollSet[Int(index)].revents
        var events: Int32 = 0
        if revents & Int16(POLLIN) != 0 { events |= Int32(RIAD_SLIRP_POLL_IN) }
        if revents & Int16(POLLOUT) != 0 { events |= Int32(RIAD_SLIRP_POLL_OUT) }
        if revents & Int16(POLLPRI) != 0 { events |= Int32(RIAD_SLIRP_POLL_PRI) }
        if revents & Int16(POLLERR) != 0 { events |= Int32(RIAD_SLIRP_POLL_ERR) }
        if revents & Int16(POLLHUP) != 0 { events |= Int32(RIAD_SLIRP_POLL_HUP) }
        return events
    }

    // MARK: Timers

    fileprivate func newTimer(
        _ callback: (@convention(c) (UnsafeMutableRawPointer?) -> Void)?, _ argument: UnsafeMutableRawPointer?
    ) -> UnsafeMutableRawPointer {
        let timer = SlirpTimer(callback: callback, argument: argument)
        let key = Unmanaged.passUnretained(timer).toOpaque()
        timers[key] = timer
        return key
    }

    fileprivate func freeTimer(_ key: UnsafeMutableRawPointer?) {
        guard let key else { return }
        timers[key] = nil
    }

    fileprivate func setTimer(_ key: UnsafeMutableRawPointer?, expiresAtMilliseconds deadline: Int64) {
        guard let key else { return }
        timers[key]?.deadline = deadline
    }

    /// Milliseconds until the earliest timer (rounded up), or UInt32.max
    /// when none is set.
    private func millisecondsToNextTimer() -> UInt32 {
        guard let earliest = timers.values.compactMap(\.deadline).min() else { return .max }
        let now = Self.milliseconds()
        return earliest <= now ? 0 : UInt32(clamping: earliest - now)
    }

    /// Fires the timers whose time has come. A callback may set or free
    /// timers, so the due ones are listed first and each is looked up again.
    private func fireDueTimers() {
        let now = Self.milliseconds()
        let due = timers.filter { $0.value.deadline.map { $0 <= now } ?? false }.map(\.key)
        for key in due {
            guard let timer = timers[key], let deadline = timer.deadline, deadline <= now else { continue }
            timer.deadline = nil
            timer.callback?(timer.argument)
        }
    }

    // MARK: Clock and addresses

    static func nanoseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
    }

    static func milliseconds() -> Int64 { nanoseconds() / 1_000_000 }

    static func address(_ text: String) -> in_addr {
        var address = in_addr()
        _ = inet_pton(AF_INET, text, &address)
        return address
    }

    // MARK: Callbacks

    /// libslirp's callbacks; each finds the network through `opaque`.
    static func makeCallbacks() -> riad_slirp_callbacks {
        var callbacks = riad_slirp_callbacks()
        callbacks.send_packet = { frame, length, opaque in
            SlirpNetwork.from(opaque).sendToKernel(UnsafeRawBufferPointer(start: frame, count: length))
            return length
        }
        callbacks.guest_error = { message, opaque in
            SlirpNetwork.from(opaque).guestError(message.map { String(cString: $0) } ?? "")
        }
        callbacks.clock_get_ns = { _ in SlirpNetwork.nanoseconds() }
        callbacks.timer_new = { callback, argument, opaque in
            SlirpNetwork.from(opaque).newTimer(callback, argument)
        }
        callbacks.timer_free = { timer, opaque in SlirpNetwork.from(opaque).freeTimer(timer) }
        callbacks.timer_mod = { timer, deadline, opaque in
            SlirpNetwork.from(opaque).setTimer(timer, expiresAtMilliseconds: deadline)
        }
        callbacks.register_poll_fd = { _, _ in }
        callbacks.unregister_poll_fd = { _, _ in }
        callbacks.notify = { _ in }
        return callbacks
    }
}

/// A libslirp timer: its callback, and when it fires (milliseconds of the
/// monotonic clock), if it is set.
final class SlirpTimer {
    let callback: (@convention(c) (UnsafeMutableRawPointer?) -> Void)?
    let argument: UnsafeMutableRawPointer?
    var deadline: Int64?

    init(callback: (@convention(c) (UnsafeMutableRawPointer?) -> Void)?, argument: UnsafeMutableRawPointer?) {
        self.callback = callback
        self.argument = argument
    }
}

private func addPoll(_ fd: Int32, _ events: Int32, _ opaque: UnsafeMutableRawPointer?) -> Int32 {
    SlirpNetwork.from(opaque).add(fd: fd, slirpEvents: events)
}

private func getReadyEvents(_ index: Int32, _ opaque: UnsafeMutableRawPointer?) -> Int32 {
    SlirpNetwork.from(opaque).readyEvents(index: index)
}
