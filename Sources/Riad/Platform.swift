import _Concurrency

/// What a kernel gets from the target it runs on.
///
/// The platform contract every kernel is written against: a console, two
/// clocks, the command line, and suspending on the kernel's one event loop
/// (sleeping, waiting for a device's input). Every target
/// (hvt, unix) provides one conforming type; applications are generic over
/// it, so the same application code is built into every target with exactly
/// that target's implementation specialised in.
///
/// Its `Entropy` (`fill`) is the platform's CSPRNG: ChaCha20 seeded from
/// the CPU on hvt, getrandom(2) on unix.
///
/// All methods MUST be called from the kernel's one thread.
public protocol Platform: Entropy {
    /// The kernel's runtime arguments, split at spaces (the tender's or the
    /// process's command line after the kernel's name).
    var arguments: [String] { get }

    /// Writes `text` to the console as UTF-8, unchanged. Does not block for
    /// long: the console is the tender's standard output.
    func write(_ text: String)

    /// Nanoseconds since an arbitrary point at boot. Never decreases.
    func monotonicNanoseconds() -> UInt64

    /// Nanoseconds since 1970-01-01 00:00:00 UTC. May jump when the host's
    /// clock is set.
    func wallClockNanoseconds() -> UInt64

    /// Suspends the calling task until the monotonic clock reaches
    /// `deadline` (at once if it has passed). Other tasks run meanwhile; when
    /// none can, the kernel idles and the host's CPU is free.
    ///
    /// - Throws: `RiadError(.cancelled)` when the task is cancelled first.
    func sleep(until deadline: UInt64) async throws(RiadError)

    /// Suspends the calling task until the device with `handle` has input
    /// (input already waiting counts: readiness is level-triggered).
    ///
    /// - Throws: `RiadError(.cancelled)` when the task is cancelled first.
    func waitForInput(handle: UInt64) async throws(RiadError)

    /// Suspends the calling task until the device with `handle` has input
    /// or the monotonic clock reaches `deadline`, whichever comes first.
    ///
    /// - Throws: `RiadError(.cancelled)` when the task is cancelled first.
    func waitForInput(handle: UInt64, until deadline: UInt64) async throws(RiadError)

    /// Wakes the tasks waiting for input on `handle` as if it had input
    /// (they look, find none, and wait again with what they learned).
    func notify(handle: UInt64)

    /// The kernel's heap and event loop, for monitoring; nil where the
    /// platform cannot tell.
    var runtimeStatistics: RuntimeStatistics? { get }
}

/// What the host under a kernel (riad-hvt) counts of it: the cost of its
/// I/O, as `riad-hvt --stats` prints it.
public struct HostStatistics: Sendable, Equatable {
    /// Exits from the guest (on hvt: VM exits the tender's loop saw).
    public var exits: UInt64 = 0
    /// Of those, waits for input (POLL), and frames by hypercall
    /// (NET_READ, NET_WRITE).
    public var pollExits: UInt64 = 0
    public var frameExits: UInt64 = 0
    /// Frames and bytes through the shared ring, which cost no exit.
    public var ringFramesSent: UInt64 = 0
    public var ringFramesReceived: UInt64 = 0
    /// Frames by hypercall.
    public var hypercallFramesSent: UInt64 = 0
    public var hypercallFramesReceived: UInt64 = 0
    /// Bytes each way, both paths together.
    public var bytesSent: UInt64 = 0
    public var bytesReceived: UInt64 = 0
    /// Times the kernel had to wake the host's I/O thread.
    public var wakeUps: UInt64 = 0

    public init() {}
}

/// What the runtime under a kernel can report about itself.
public struct RuntimeStatistics: Sendable {
    /// Bytes of heap allocated now, and the most ever.
    public var heapInUse: UInt64
    public var heapHighWater: UInt64
    /// Jobs (task steps) the event loop has run, and the time it has
    /// spent waiting with nothing to run.
    public var jobsRun: UInt64
    public var idleNanoseconds: UInt64
    /// Bytes the heap can grow to; 0 when there is no fixed limit (a
    /// process, which the host's memory bounds).
    public var heapCapacity: UInt64
    /// What the host reports of the kernel's exits and I/O (riad-hvt);
    /// nil where it reports nothing.
    public var host: HostStatistics? = nil

    public init(
        heapInUse: UInt64, heapHighWater: UInt64, jobsRun: UInt64, idleNanoseconds: UInt64,
        heapCapacity: UInt64 = 0
    ) {
        self.heapCapacity = heapCapacity
        self.heapInUse = heapInUse
        self.heapHighWater = heapHighWater
        self.jobsRun = jobsRun
        self.idleNanoseconds = idleNanoseconds
    }
}

extension Platform {
    public var runtimeStatistics: RuntimeStatistics? { nil }

    /// Suspends the calling task for at least `nanoseconds`.
    public func sleep(nanoseconds: UInt64) async throws(RiadError) {
        try await sleep(until: monotonicNanoseconds() &+ nanoseconds)
    }
}
