import CRiadTender
import Glibc
import RiadABI

/// The handlers of the hvt hypercalls.
///
/// Each handler copies the argument structure out of guest memory once,
/// checks every address, length and handle in the copy, and writes back only
/// the OUT fields. A request the guest could legitimately get wrong (a bad
/// handle, an unaligned block offset) is answered with EINVAL; an address
/// outside its memory is a hostile kernel and stops it.
struct Hypercalls {
    let memory: GuestMemory
    let nets: [UInt64: NetDevice]
    let blocks: [UInt64: FileBlockDevice]
    let poller: Poller
    let statistics: TenderStatistics

    /// The lowest address of a buffer the tender only reads: the boot info
    /// and the low memory after it, which the guest may read too. Buffers
    /// the tender writes start at RIAD_HVT_GUEST_MIN_BASE.
    static let readableFloor = X86Layout.bootInfoBase

    /// What the run loop does after a hypercall.
    enum Outcome {
        case resume
        case halt(status: Int32)
    }

    func handle(number: Int, argument: UInt64) throws(TenderError) -> Outcome {
        statistics.addHypercall(number)
        switch UInt32(number) {
        case RIAD_HVT_HYPERCALL_WALLTIME.rawValue: try walltime(argument)
        case RIAD_HVT_HYPERCALL_PUTS.rawValue: try puts(argument)
        case RIAD_HVT_HYPERCALL_POLL.rawValue: try poll(argument)
        case RIAD_HVT_HYPERCALL_BLOCK_WRITE.rawValue: try blockWrite(argument)
        case RIAD_HVT_HYPERCALL_BLOCK_READ.rawValue: try blockRead(argument)
        case RIAD_HVT_HYPERCALL_NET_WRITE.rawValue: try netWrite(argument)
        case RIAD_HVT_HYPERCALL_NET_READ.rawValue: try netRead(argument)
        case RIAD_HVT_HYPERCALL_HALT.rawValue: return .halt(status: try halt(argument))
        default: throw TenderError("kernel made an unknown hypercall \(number)")
        }
        return .resume
    }

    private func walltime(_ address: UInt64) throws(TenderError) {
        var call = try memory.load(riad_hvt_hc_walltime.self, at: address)
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        call.nsecs = UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
        try memory.store(call, at: address)
    }

    private func puts(_ address: UInt64) throws(TenderError) {
        let call = try memory.load(riad_hvt_hc_puts.self, at: address)
        let text = try memory.bytes(
            at: call.data, count: call.len, floor: Self.readableFloor, what: "console buffer")
        writeAll(1, UnsafeRawBufferPointer(text))
    }

    private func poll(_ address: UInt64) throws(TenderError) {
        var call = try memory.load(riad_hvt_hc_poll.self, at: address)
        let ready = poller.wait(timeoutNanoseconds: call.timeout_nsecs)
        call.ready_set = ready
        call.ret = ready == 0 ? 0 : 1
        try memory.store(call, at: address)
    }

    private func blockWrite(_ address: UInt64) throws(TenderError) {
        var call = try memory.load(riad_hvt_hc_block_write.self, at: address)
        call.ret = try blockTransfer(
            handle: call.handle, offset: call.offset, data: call.data, length: call.len,
            write: true)
        try memory.store(call, at: address)
    }

    private func blockRead(_ address: UInt64) throws(TenderError) {
        var call = try memory.load(riad_hvt_hc_block_read.self, at: address)
        call.ret = try blockTransfer(
            handle: call.handle, offset: call.offset, data: call.data, length: call.len,
            write: false)
        try memory.store(call, at: address)
    }

    private func blockTransfer(
        handle: UInt64, offset: UInt64, data: UInt64, length: UInt64, write: Bool
    ) throws(TenderError) -> Int32 {
        guard let device = blocks[handle], device.accepts(offset: offset, length: length) else {
            return Int32(RIAD_HVT_R_EINVAL.rawValue)
        }
        // The tender writes a read's buffer: never into the boot info or
        // the page tables. It only reads a write's, which may be anywhere
        // the guest can read (Solo5 kernels PUTS their command line).
        let buffer = try memory.bytes(
            at: data, count: length, floor: write ? Self.readableFloor : RIAD_HVT_GUEST_MIN_BASE,
            what: "block buffer")
        let done =
            write
            ? pwrite(device.fd, buffer.baseAddress, buffer.count, off_t(offset))
            : pread(device.fd, buffer.baseAddress, buffer.count, off_t(offset))
        return done == buffer.count ? Int32(RIAD_HVT_R_OK.rawValue) : Int32(RIAD_HVT_R_EUNSPEC.rawValue)
    }

    private func netWrite(_ address: UInt64) throws(TenderError) {
        var call = try memory.load(riad_hvt_hc_net_write.self, at: address)
        // An Ethernet header (14 bytes) plus at most one MTU of payload, or
        // with offload a header and a 64 KiB segment.
        guard let net = nets[call.handle], call.len >= UInt64(net.smallestFrame),
            call.len <= UInt64(net.largestFrame)
        else {
            call.ret = Int32(RIAD_HVT_R_EINVAL.rawValue)
            try memory.store(call, at: address)
            return
        }
        let frame = try memory.bytes(
            at: call.data, count: call.len, floor: Self.readableFloor, what: "frame")
        let written = Glibc.write(net.fd, frame.baseAddress, frame.count)
        if written < 0 && net.isUser {
            // A full socket is a congested wire: the frame is lost, as a
            // tap loses what overflows its queue, and TCP sends it again.
            if errno == EAGAIN {
                call.ret = Int32(RIAD_HVT_R_OK.rawValue)
                try memory.store(call, at: address)
                return
            }
            if errno == EPIPE || errno == ECONNRESET { throw Self.helperExited(net) }
        }
        call.ret = Int32((written == frame.count ? RIAD_HVT_R_OK : RIAD_HVT_R_EUNSPEC).rawValue)
        if written == frame.count {
            statistics.add(.hypercallFramesSent)
            statistics.add(.hypercallBytesSent, UInt64(written))
            net.capture(UnsafeRawBufferPointer(frame))
        }
        try memory.store(call, at: address)
    }

    /// The end of a user network: its helper exited (it was killed, or it
    /// failed and said why on standard error). The kernel's network is gone
    /// for good, so the kernel is stopped rather than left polling a dead
    /// device.
    static func helperExited(_ net: NetDevice) -> TenderError {
        TenderError(
            "--net:\(net.name)=\(UserNetwork.backendName): \(UserNetwork.helperName), which ran the "
                + "user network, has exited")
    }

    private func netRead(_ address: UInt64) throws(TenderError) {
        var call = try memory.load(riad_hvt_hc_net_read.self, at: address)
        guard let net = nets[call.handle], call.len >= UInt64(net.largestFrame) else {
            call.ret = Int32(RIAD_HVT_R_EINVAL.rawValue)
            try memory.store(call, at: address)
            return
        }
        let buffer = try memory.bytes(
            at: call.data, count: call.len, floor: RIAD_HVT_GUEST_MIN_BASE, what: "frame buffer")
        let count = Glibc.read(net.fd, buffer.baseAddress, buffer.count)
        // End of file on a user network's socket: its helper is gone (a tap
        // never reads 0 bytes).
        if net.isUser && (count == 0 || (count < 0 && errno == ECONNRESET)) { throw Self.helperExited(net) }
        if count < 0 {
            call.ret = Int32((errno == EAGAIN ? RIAD_HVT_R_AGAIN : RIAD_HVT_R_EUNSPEC).rawValue)
        } else {
            call.len = UInt64(count)
            call.ret = Int32(RIAD_HVT_R_OK.rawValue)
            statistics.add(.hypercallFramesReceived)
            statistics.add(.hypercallBytesReceived, UInt64(count))
            net.capture(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
        }
        try memory.store(call, at: address)
    }

    private func halt(_ address: UInt64) throws(TenderError) -> Int32 {
        let call = try memory.load(riad_hvt_hc_halt.self, at: address)
        if call.cookie != 0 {
            _ = try memory.bytes(
                at: call.cookie, count: UInt64(RIAD_HVT_HALT_COOKIE_MAX),
                floor: RIAD_HVT_GUEST_MIN_BASE, what: "halt cookie")
        }
        return call.exit_status
    }
}

/// Writes all of `bytes` to `fd`, retrying short writes.
func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) {
    var offset = 0
    while offset < bytes.count {
        let written = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
        if written < 0 {
            if errno == EINTR { continue }
            return
        }
        offset += written
    }
}
