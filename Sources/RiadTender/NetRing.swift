import CRiadTender
import Glibc
import RiadABI
import Synchronization

/// The tender's side of the shared net ring (riad_hvt_ring.h; Solo5's
/// HVT_FEATURE_RING_IO): an I/O thread that takes the kernel's frames and
/// read requests from guest memory, so that a frame costs no VM exit.
///
/// The ring lives in guest memory the kernel can write at any moment, so
/// every entry is copied out once and only the copy is checked and used;
/// the kernel's indices are read once per pass and checked against the
/// ring's size. An entry that breaks the protocol (an unknown operation, a
/// handle that is no attached network device, a buffer outside the
/// kernel's memory, an oversize frame, indices moved backwards or past the
/// ring) is a hostile or broken kernel: `process` throws, and the I/O
/// thread stops the tender with that message and status 1.
final class NetRing: @unchecked Sendable {
    /// Bytes reserved above the kernel's memory for the ring: one 2 MiB
    /// page, as Solo5 rounds it.
    static let reservation = X86Layout.largePageSize
    static let slots = UInt32(RIAD_HVT_RING_SIZE)
    /// How long the I/O thread keeps looking for work after the last
    /// entry before it sleeps. Solo5 spins 4,096 pauses (a few µs); a
    /// stream's next entry often comes later than that here, and a
    /// sleeping thread costs the kernel a kick or a hypercall. Measured
    /// with benchmarks/iperf.sh: 5 µs moved a fifth of the frames by
    /// hypercall, 200 µs about 1 %, with the most throughput.
    static let defaultSpinMicroseconds: UInt64 = 200
    /// This ring's spin (`--net-spin`).
    let spinNanoseconds: UInt64

    // Offsets in struct riad_hvt_ring (checked against Solo5's in abi_checks.c).
    private static let entryTailOffset = 0
    private static let commitHeadOffset = 4
    private static let entryHeadOffset = 64
    private static let commitTailOffset = 68
    private static let needsKickOffset = 72
    private static let entriesOffset = 128
    private static let commitsOffset = 128 + 32 * Int(RIAD_HVT_RING_SIZE)

    let memory: GuestMemory
    /// The ring's guest-physical address: the first byte above the
    /// kernel's memory.
    let address: UInt64
    private let base: UnsafeMutableRawPointer
    let nets: [UInt64: NetDevice]
    let statistics: TenderStatistics
    /// The next entry to take: the tender's ent_head.
    private var head: UInt32 = 0
    /// The next completion to write: the tender's com_tail.
    private var completions: UInt32 = 0

    /// The ring in `memory`'s reserved area, zeroed (no entries).
    init(
        memory: GuestMemory, nets: [UInt64: NetDevice], statistics: TenderStatistics,
        spinMicroseconds: UInt64 = NetRing.defaultSpinMicroseconds
    ) {
        spinNanoseconds = spinMicroseconds * 1000
        precondition(memory.reservedSize >= UInt64(MemoryLayout<riad_hvt_ring>.size))
        self.memory = memory
        self.address = memory.size
        self.base = memory.reserved.baseAddress!
        self.nets = nets
        self.statistics = statistics
        memory.reserved.initializeMemory(as: UInt8.self, repeating: 0)
    }

    private func load(_ offset: Int) -> UInt32 { riad_load_u32(base + offset) }

    /// The monotonic clock (the vDSO's: no system call).
    private func monotonicNanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) &* 1_000_000_000 &+ UInt64(now.tv_nsec)
    }
    private func store(_ offset: Int, _ value: UInt32) { riad_store_u32(base + offset, value) }

    // MARK: The I/O thread

    /// Starts the I/O thread, which serves the ring until the process
    /// exits. `kick` is the eventfd KVM signals on a write to the kick port.
    func start(kick: Int32) throws(TenderError) {
        let work = IOThreadContext(ring: self, kick: kick)
        let started = work.ready
        let context = Unmanaged.passRetained(work).toOpaque()
        var thread = pthread_t()
        // The thread starts with every signal blocked: SIGINT and SIGTERM
        // must reach the run loop, which stops the vCPU.
        var previous = sigset_t()
        riad_block_all_signals(&previous)
        defer { riad_restore_signals(&previous) }
        let created = pthread_create(
            &thread, nil,
            { context in
                let work = Unmanaged<IOThreadContext>.fromOpaque(context!).takeRetainedValue()
                work.ready.set()
                work.ring.serve(kick: work.kick)
            }, context)
        guard created == 0 else {
            Unmanaged<IOThreadContext>.fromOpaque(context).release()
            throw TenderError("cannot start the net ring's I/O thread: \(String(cString: strerror(created)))")
        }
        pthread_detach(thread)
        // glibc's thread start-up makes system calls (rseq, the signal
        // mask) that the seccomp filter forbids: wait until the thread runs
        // our code before the filter goes on.
        while !started.isSet { sched_yield() }
    }

    /// Polls for entries, then sleeps behind needs_kick; processes what
    /// comes. Never returns: a protocol violation ends the process.
    private func serve(kick: Int32) -> Never {
        while true {
            var found = false
            let until = monotonicNanoseconds() &+ spinNanoseconds
            spinning: while true {
                for _ in 0..<64 {
                    if load(Self.entryTailOffset) != head {
                        found = true
                        break spinning
                    }
                    riad_hvt_ring_relax()
                }
                if monotonicNanoseconds() >= until { break }
            }
            if !found {
                store(Self.needsKickOffset, 1)
                riad_hvt_ring_full_barrier()
                // The kernel may have added an entry before it could see
                // needs_kick: look once more before sleeping.
                if load(Self.entryTailOffset) == head {
                    var value: UInt64 = 0
                    while Glibc.read(kick, &value, 8) < 0 && errno == EINTR {}
                    statistics.add(.ringWakeUps)
                }
                store(Self.needsKickOffset, 0)
            }
            do {
                _ = try process()
            } catch {
                let message = "riad-hvt: error: \(error.message)\n"
                _ = message.withCString { Glibc.write(2, $0, strlen($0)) }
                _exit(1)
            }
        }
    }

    // MARK: Entries

    /// Takes every entry the kernel has published. Returns how many.
    func process() throws(TenderError) -> Int {
        let tail = load(Self.entryTailOffset)
        let pending = tail &- head
        guard pending <= Self.slots else {
            throw violation(
                "ent_tail is \(tail) with ent_head at \(head): moved backwards or past the ring's "
                    + "\(Self.slots) entries")
        }
        var taken = 0
        while head != tail {
            // The copy is all that is checked and used.
            let entry = (base + Self.entriesOffset + Int(head & (Self.slots - 1)) * 32)
                .loadUnaligned(as: riad_hvt_ring_entry.self)
            switch entry.operation {
            case RIAD_HVT_RING_NET_WRITE: try write(entry)
            case RIAD_HVT_RING_NET_READ: try read(entry)
            default:
                throw violation("entry \(head) has unknown operation \(entry.operation)")
            }
            head &+= 1
            riad_hvt_ring_compiler_barrier()
            store(Self.entryHeadOffset, head)
            taken += 1
        }
        return taken
    }

    private func device(_ entry: riad_hvt_ring_entry) throws(TenderError) -> NetDevice {
        guard let net = nets[UInt64(entry.handle)] else {
            throw violation(
                "entry \(head) names handle \(entry.handle), which is no attached network device")
        }
        return net
    }

    private func write(_ entry: riad_hvt_ring_entry) throws(TenderError) {
        let net = try device(entry)
        guard entry.len >= net.smallestFrame, entry.len <= net.largestFrame else {
            throw violation(
                "entry \(head) sends a frame of \(entry.len) bytes on '\(net.name)' "
                    + "(frames are \(net.smallestFrame) to \(net.largestFrame) bytes)")
        }
        let frame = try checked(
            memory.bytes(
                at: entry.data, count: UInt64(entry.len), floor: Hypercalls.readableFloor, what: "frame"))
        let written = Glibc.write(net.fd, frame.baseAddress, frame.count)
        if written == frame.count {
            statistics.add(.ringFramesSent)
            statistics.add(.ringBytesSent, UInt64(frame.count))
            net.capture(UnsafeRawBufferPointer(frame))
        } else if net.isUser && written < 0 && (errno == EPIPE || errno == ECONNRESET) {
            throw Hypercalls.helperExited(net)
        }
        // Otherwise the frame is lost, as on a congested wire (a write has
        // no completion to carry an error), and TCP sends it again.
    }

    private func read(_ entry: riad_hvt_ring_entry) throws(TenderError) {
        let net = try device(entry)
        let consumed = load(Self.commitHeadOffset)
        let unconsumed = completions &- consumed
        guard unconsumed < Self.slots else {
            throw violation(
                unconsumed == Self.slots
                    ? "the kernel left \(Self.slots) completions unconsumed"
                    : "com_head is \(consumed) with com_tail at \(completions): moved backwards or "
                        + "past the ring's \(Self.slots) completions")
        }
        var commit = riad_hvt_ring_commit(
            id: entry.id, ret: Int32(RIAD_HVT_R_OK.rawValue), len: 0, reserved: 0)
        if entry.len < net.largestFrame {
            // As NET_READ: a buffer that cannot take a whole frame is the
            // kernel's mistake, answered, not fatal.
            commit.ret = Int32(RIAD_HVT_R_EINVAL.rawValue)
        } else {
            let buffer = try checked(
                memory.bytes(
                    at: entry.data, count: UInt64(entry.len), floor: RIAD_HVT_GUEST_MIN_BASE,
                    what: "frame buffer"))
            let count = Glibc.read(net.fd, buffer.baseAddress, buffer.count)
            if net.isUser && (count == 0 || (count < 0 && errno == ECONNRESET)) {
                throw Hypercalls.helperExited(net)
            }
            // A tap never reads 0 bytes; say so rather than trust errno.
            if count == 0 {
                commit.ret = Int32(RIAD_HVT_R_AGAIN.rawValue)
                statistics.add(.ringEmptyReads)
            } else if count > 0 {
                commit.len = UInt32(count)
                statistics.add(.ringFramesReceived)
                statistics.add(.ringBytesReceived, UInt64(count))
                net.capture(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
            } else {
                commit.ret = Int32((errno == EAGAIN ? RIAD_HVT_R_AGAIN : RIAD_HVT_R_EUNSPEC).rawValue)
                statistics.add(.ringEmptyReads)
            }
        }
        (base + Self.commitsOffset + Int(completions & (Self.slots - 1)) * 16)
            .storeBytes(of: commit, as: riad_hvt_ring_commit.self)
        completions &+= 1
        riad_hvt_ring_compiler_barrier()
        store(Self.commitTailOffset, completions)
    }

    /// A guest-memory check's error, said as the ring's.
    private func checked(
        _ body: @autoclosure () throws(TenderError) -> UnsafeMutableRawBufferPointer
    ) throws(TenderError) -> UnsafeMutableRawBufferPointer {
        do { return try body() } catch { throw violation("entry \(head): \(error.message)") }
    }

    private func violation(_ problem: String) -> TenderError {
        TenderError("the kernel broke the net ring's protocol: \(problem)")
    }
}

/// What the I/O thread is started with.
private final class IOThreadContext {
    let ring: NetRing
    let kick: Int32
    /// Set by the thread once it runs.
    let ready = ReadyFlag()
    init(ring: NetRing, kick: Int32) {
        self.ring = ring
        self.kick = kick
    }
}

/// A flag one thread sets and another waits for.
private final class ReadyFlag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .releasing) }
    var isSet: Bool { value.load(ordering: .acquiring) }
}
