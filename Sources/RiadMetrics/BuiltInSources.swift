import Riad

/// The heap's numbers, as the platform's allocator keeps them (the hvt
/// runtime's `riad_hvt_heap_stats`; on unix, `mallinfo2` or similar).
public struct HeapUsage: Sendable {
    /// Bytes allocated now.
    public var inUse: UInt64
    /// The most bytes ever allocated at once.
    public var highWater: UInt64

    public init(inUse: UInt64, highWater: UInt64) {
        self.inUse = inUse
        self.highWater = highWater
    }
}

/// The sampled source `heap`: `in_use_bytes` and `high_water_bytes`
/// (gauges), read from `read` before each report.
///
/// ```swift
/// _ = HeapMetrics(metrics: metrics) { HeapUsage(inUse: ..., highWater: ...) }
/// ```
public struct HeapMetrics {
    public let source: MetricSource

    public init(metrics: Metrics, tags: [MetricTag] = [], read: @escaping () -> HeapUsage) {
        source = metrics.source("heap", tags: tags)
        let inUse = source.gauge("in_use", unit: .bytes, help: "Heap bytes allocated.")
        let highWater = source.gauge(
            "high_water", unit: .bytes, help: "Most heap bytes ever allocated at once.")
        source.sampler = {
            let usage = read()
            inUse.set(Int64(clamping: usage.inUse))
            highWater.set(Int64(clamping: usage.highWater))
        }
    }
}

/// The event loop's counters (`EventLoop.jobsRun`, `idleNanoseconds`).
public struct LoopStatistics: Sendable {
    /// Jobs (task steps) run since boot.
    public var jobsRun: UInt64
    /// Nanoseconds spent waiting for timers or input since boot.
    public var idleNanoseconds: UInt64

    public init(jobsRun: UInt64, idleNanoseconds: UInt64) {
        self.jobsRun = jobsRun
        self.idleNanoseconds = idleNanoseconds
    }
}

/// The sampled source `loop`: `jobs_run` and `idle` (counters; `idle` in
/// nanoseconds, so `idle_ns` in InfluxDB and `riad_loop_idle_seconds_total`
/// in Prometheus). A rate of `idle` near 1 s/s is an idle kernel.
public struct LoopMetrics {
    public let source: MetricSource

    public init(metrics: Metrics, tags: [MetricTag] = [], read: @escaping () -> LoopStatistics) {
        source = metrics.source("loop", tags: tags)
        let jobs = source.counter("jobs_run", help: "Event loop jobs (task steps) run.")
        let idle = source.counter(
            "idle", unit: .nanoseconds, help: "Time the event loop spent waiting for timers or input.")
        source.sampler = {
            let statistics = read()
            jobs.set(statistics.jobsRun)
            idle.set(statistics.idleNanoseconds)
        }
    }

    /// The source for `loop`'s own counters.
    public init<Backend: EventLoopBackend>(metrics: Metrics, tags: [MetricTag] = [], loop: EventLoop<Backend>)
    {
        self.init(metrics: metrics, tags: tags) {
            LoopStatistics(jobsRun: loop.jobsRun, idleNanoseconds: loop.idleNanoseconds)
        }
    }
}

/// The sampled source `tender`: what riad-hvt counts of the kernel's run
/// (`HostStatistics`, the live form of `riad-hvt --stats`), as counters:
/// `exits`, `poll_exits`, `frame_exits`, `ring_frames_sent`,
/// `ring_frames_received`, `hypercall_frames_sent`,
/// `hypercall_frames_received`, `sent` and `received` (bytes),
/// `wake_ups`. Exits per byte or per request show what the data path
/// costs. Sampled only where the host reports them (nil: left at 0).
public struct TenderMetrics {
    public let source: MetricSource

    public init(metrics: Metrics, tags: [MetricTag] = [], read: @escaping () -> HostStatistics?) {
        source = metrics.source("tender", tags: tags)
        let exits = source.counter("exits", help: "Exits from the guest that the tender handled.")
        let polls = source.counter("poll_exits", help: "Exits to wait for input (POLL).")
        let frameExits = source.counter("frame_exits", help: "Exits to move one frame (NET_READ, NET_WRITE).")
        let ringSent = source.counter("ring_frames_sent", help: "Frames sent through the net ring.")
        let ringReceived = source.counter(
            "ring_frames_received", help: "Frames received through the net ring.")
        let callSent = source.counter("hypercall_frames_sent", help: "Frames sent by hypercall.")
        let callReceived = source.counter("hypercall_frames_received", help: "Frames received by hypercall.")
        let bytesSent = source.counter(
            "sent", unit: .bytes, help: "Bytes the tender sent for the kernel.")
        let bytesReceived = source.counter(
            "received", unit: .bytes, help: "Bytes the tender received for the kernel.")
        let wakeUps = source.counter("wake_ups", help: "Times a kick woke the tender's I/O thread.")
        source.sampler = {
            guard let host = read() else { return }
            exits.set(host.exits)
            polls.set(host.pollExits)
            frameExits.set(host.frameExits)
            ringSent.set(host.ringFramesSent)
            ringReceived.set(host.ringFramesReceived)
            callSent.set(host.hypercallFramesSent)
            callReceived.set(host.hypercallFramesReceived)
            bytesSent.set(host.bytesSent)
            bytesReceived.set(host.bytesReceived)
            wakeUps.set(host.wakeUps)
        }
    }
}
