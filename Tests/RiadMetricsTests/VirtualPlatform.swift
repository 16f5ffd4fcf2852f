import Riad
import RiadTestSupport

/// The `Platform` of a kernel on the virtual-clock loop: time moves only
/// when every task waits. The wall clock is the monotonic clock plus a
/// fixed boot time, so timestamps in tests are exact.
struct VirtualPlatform: Platform {
    static let bootTime: UInt64 = 1_700_000_000_000_000_000

    let executor: VirtualExecutor
    let console: TextLog

    var arguments: [String] { [] }
    func write(_ text: String) { console.entries.append(text) }
    func monotonicNanoseconds() -> UInt64 { executor.backend.time }
    func wallClockNanoseconds() -> UInt64 { VirtualPlatform.bootTime + executor.backend.time }

    func sleep(until deadline: UInt64) async throws(RiadError) {
        try await executor.loop.sleep(until: deadline)
    }

    func waitForInput(handle: UInt64) async throws(RiadError) {
        try await executor.loop.waitForInput(handle: handle)
    }

    func waitForInput(handle: UInt64, until deadline: UInt64) async throws(RiadError) {
        try await executor.loop.waitForInput(handle: handle, until: deadline)
    }

    func notify(handle: UInt64) { executor.loop.notify(handle: handle) }

    /// Not random at all: tests need none.
    func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        for index in buffer.indices { buffer[index] = UInt8(truncatingIfNeeded: index &* 151 &+ 7) }
    }
}

/// Lines collected by the tasks of one test (they all run on one thread).
final class TextLog: @unchecked Sendable {
    var entries: [String] = []
}

let second: UInt64 = 1_000_000_000
