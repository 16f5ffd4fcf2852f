import CPlatformHvt
import Riad
import _Concurrency

/// The hvt target's platform: console, clocks and sleep through the Solo5
/// hvt hypercalls, by way of the kernel's C runtime.
public struct HvtPlatform: Platform {
    public let arguments: [String]

    public init() {
        arguments = Self.split(commandLine: riad_hvt_cmdline())
    }

    public func write(_ text: String) {
        var text = text
        text.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) { chars in
                riad_hvt_console_write(chars.baseAddress, chars.count)
            }
        }
    }

    public func monotonicNanoseconds() -> UInt64 { riad_hvt_monotonic_ns() }

    public func wallClockNanoseconds() -> UInt64 { riad_hvt_wall_ns() }

    public func sleep(until deadline: UInt64) async throws(RiadError) {
        try await HvtEventLoop.shared.sleep(until: deadline)
    }

    public func waitForInput(handle: UInt64) async throws(RiadError) {
        try await HvtEventLoop.shared.waitForInput(handle: handle)
    }

    public func waitForInput(handle: UInt64, until deadline: UInt64) async throws(RiadError) {
        try await HvtEventLoop.shared.waitForInput(handle: handle, until: deadline)
    }

    public func notify(handle: UInt64) {
        HvtEventLoop.shared.notify(handle: handle)
    }

    /// Stops the kernel now with `status`.
    public func exit(_ status: Int32) -> Never { riad_hvt_halt(status) }

    /// Stops the kernel with `message` and `ExitStatus.abort`.
    public func abort(_ message: String) -> Never {
        var copy = message.utf8.map { CChar(bitPattern: $0) }
        copy.append(0)
        riad_hvt_abort(copy)
    }

    /// The allocator's statistics.
    public func heapStatistics() -> riad_heap_stats {
        var stats = riad_heap_stats()
        riad_hvt_heap_stats(&stats)
        return stats
    }

    static func split(commandLine: UnsafePointer<CChar>?) -> [String] {
        guard let commandLine else { return [] }
        var words: [String] = []
        var current: [UInt8] = []
        var index = 0
        while true {
            let byte = UInt8(bitPattern: commandLine[index])
            if byte == 0 || byte == UInt8(ascii: " ") {
                if !current.isEmpty { words.append(String(decoding: current, as: UTF8.self)) }
                current.removeAll()
                if byte == 0 { break }
            } else {
                current.append(byte)
            }
            index += 1
        }
        return words
    }
}

extension HvtPlatform {
    /// The runtime's ChaCha20 generator, seeded from RDSEED/RDRAND at boot.
    public func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        arc4random_buf(base, buffer.count)
    }
}

extension HvtPlatform {
    /// The runtime allocator's figures and the event loop's counters.
    public var runtimeStatistics: RuntimeStatistics? {
        let heap = heapStatistics()
        let loop = HvtEventLoop.shared
        var statistics = RuntimeStatistics(
            heapInUse: heap.in_use, heapHighWater: heap.high_water, jobsRun: loop.jobsRun,
            idleNanoseconds: loop.idleNanoseconds, heapCapacity: heap.heap_size)
        statistics.host = Self.tenderStatistics()
        return statistics
    }

    /// riad-hvt's counters of this run, live (TENDER_STATS).
    static func tenderStatistics() -> HostStatistics? {
        guard let stats = riad_hvt_tender_stats()?.pointee else { return nil }
        var host = HostStatistics()
        host.exits = stats.exits
        withUnsafeBytes(of: stats.hypercalls) { words in
            let count = words.count / 8
            func calls(_ number: riad_hvt_hypercall) -> UInt64 {
                Int(number.rawValue) < count
                    ? words.load(fromByteOffset: Int(number.rawValue) * 8, as: UInt64.self) : 0
            }
            host.pollExits = calls(RIAD_HVT_HYPERCALL_POLL)
            host.frameExits = calls(RIAD_HVT_HYPERCALL_NET_READ) &+ calls(RIAD_HVT_HYPERCALL_NET_WRITE)
        }
        host.ringFramesSent = stats.ring_frames_sent
        host.ringFramesReceived = stats.ring_frames_received
        host.hypercallFramesSent = stats.hypercall_frames_sent
        host.hypercallFramesReceived = stats.hypercall_frames_received
        host.bytesSent = stats.ring_bytes_sent &+ stats.hypercall_bytes_sent
        host.bytesReceived = stats.ring_bytes_received &+ stats.hypercall_bytes_received
        host.wakeUps = stats.ring_wake_ups
        return host
    }
}
