import CPlatformUnix
import Riad

/// The unix target's platform: the kernel is an ordinary Linux process.
/// The console is standard output, the clocks are CLOCK_MONOTONIC and
/// CLOCK_REALTIME, and waiting is epoll over the tap devices plus a timerfd,
/// the same mechanism riad-hvt uses to answer an hvt kernel's POLL.
///
/// The generated main makes one with `init(argc:argv:kernel:devices:)`, which
/// takes the device options off the front of the command line.
public struct UnixPlatform: Platform {
    public let arguments: [String]
    /// CLOCK_MONOTONIC when the platform started: `monotonicNanoseconds`
    /// counts from here, as an hvt kernel's clock counts from boot.
    let clockBase: UInt64
    /// Watches the tap devices (tag: handle) and the timer.
    let epollFD: Int32
    /// Expires at the deadline of the current wait.
    let timerFD: Int32
    /// The timer's tag in the epoll set: not a handle, so never in a ready set.
    static let timerTag = UInt64.max

    /// Starts the platform from the process's command line. When the
    /// device options are wrong, prints why on standard error (prefixed with
    /// `kernel`, the unikernel's name) and exits with status 1, as riad-hvt
    /// does for an hvt kernel.
    public init(
        argc: Int32, argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>, kernel: String,
        devices: [UnixDeviceDeclaration]
    ) {
        var words: [String] = []
        for index in 1..<Int(max(argc, 1)) {
            if let word = argv[index] { words.append(String(cString: word)) }
        }
        do {
            try self.init(commandLine: words, kernel: kernel, devices: devices)
        } catch {
            let text = "\(kernel): error: \(error.message)\n"
            Self.write(text, to: 2)
            riad_unix_exit(RIAD_UNIX_EXIT_FAILURE)
        }
    }

    /// Starts the platform: parses the device options at the front of
    /// `words` (the command line without the program name), checks them
    /// against the devices the kernel declares, and opens those devices.
    /// The rest of `words` are the kernel's arguments.
    public init(commandLine words: [String], kernel: String, devices declared: [UnixDeviceDeclaration])
        throws(UnixStartError)
    {
        // print() goes through stdio; unbuffered, it stays in order with
        // write(), which goes straight to the file descriptor.
        riad_unix_unbuffer_stdout()
        // A fault prints a line and exits 255, as a trap does on hvt,
        // rather than dying by a signal.
        guard riad_unix_install_trap_handlers() == 0 else {
            throw UnixStartError("cannot install the trap handlers: \(errorText())")
        }
        let options = try UnixDeviceOptions(parsing: words)
        try options.check(against: declared, kernel: kernel)
        let devices = try AttachedDevice.attach(declared, from: options)

        epollFD = riad_unix_epoll_create()
        timerFD = riad_unix_timerfd_create()
        guard epollFD >= 0, timerFD >= 0,
            riad_unix_epoll_add(epollFD, timerFD, Self.timerTag) == 0
        else { throw UnixStartError("cannot create the poller: \(errorText())") }
        for device in devices where device.kind == .net {
            guard riad_unix_epoll_add(epollFD, device.fd, device.handle) == 0 else {
                throw UnixStartError("cannot watch a tap device: \(errorText())")
            }
        }
        AttachedDevices.all = devices
        arguments = options.kernelArguments
        clockBase = riad_unix_monotonic_ns()
    }

    public func write(_ text: String) {
        Self.write(text, to: 1)
    }

    static func write(_ text: String, to fd: Int32) {
        var text = text
        text.withUTF8 { bytes in
            // A closed standard output is not the kernel's problem: drop it.
            _ = riad_unix_write_all(fd, bytes.baseAddress, bytes.count)
        }
    }

    public func monotonicNanoseconds() -> UInt64 { riad_unix_monotonic_ns() &- clockBase }

    public func wallClockNanoseconds() -> UInt64 { riad_unix_wall_ns() }

    /// Waits until `deadline` or until a device has input. Returns the set of
    /// device handles with input (bit h for handle h), 0 on timeout. A
    /// deadline that has passed polls the devices without waiting.
    public func yield(until deadline: UInt64) -> UInt64 {
        guard deadline > monotonicNanoseconds() else { return riad_unix_epoll_ready(epollFD, 0) }
        // An absolute deadline: no time is lost between reading the clock
        // and arming the timer.
        guard riad_unix_timer_arm(timerFD, absolute(deadline)) == 0 else { return 0 }
        return riad_unix_epoll_ready(epollFD, -1)
    }

    /// `deadline` on CLOCK_MONOTONIC's own scale.
    func absolute(_ deadline: UInt64) -> UInt64 {
        let (sum, overflow) = deadline.addingReportingOverflow(clockBase)
        return overflow ? .max : sum
    }

    /// Stops the kernel now with `status`.
    public func exit(_ status: Int32) -> Never { riad_unix_exit(status) }

    /// Stops the kernel with `message` and `ExitStatus.abort`, as an hvt
    /// kernel does: "Riad: abort: MESSAGE" on the console.
    public func abort(_ message: String) -> Never {
        write("Riad: abort: \(message)\n")
        riad_unix_exit(ExitStatus.abort)
    }
}

extension UnixPlatform {
    /// getrandom(2): the host kernel's CSPRNG. It cannot fail for a
    /// process once the host has booted; if it ever did, the kernel stops
    /// rather than use weak bytes (the `Entropy` contract).
    public func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        if riad_unix_random(base, buffer.count) != 0 { fatalError("getrandom failed") }
    }
}
