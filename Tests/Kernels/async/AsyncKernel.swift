import Riad
import _Concurrency

/// Swift concurrency on the kernel's event loop, on every target: async let, a task group, the
/// loop's sleep, cancellation and a timeout. (Task.sleep is unavailable in
/// Embedded Swift 6.3: it throws untyped errors.)
struct AsyncKernel {
    static func start<P: Platform>(platform: P) async -> Int32 {
        await main(platform)
    }

    static func main<P: Platform>(_ platform: P) async -> Int32 {
        let loop = platform
        let start = platform.monotonicNanoseconds()
        func elapsedMilliseconds() -> UInt64 { (platform.monotonicNanoseconds() - start) / 1_000_000 }

        // async let: two sleeps at once take as long as the longer one.
        async let a: Void = sleep(loop, 30)
        async let b: Void = sleep(loop, 20)
        _ = await (a, b)
        platform.write(
            "async let: \(elapsedMilliseconds() >= 30 && elapsedMilliseconds() < 50 ? "ok" : "FAILED")\n")

        // A task group: children finish in order of their deadlines.
        let order = await withTaskGroup(of: Int.self, returning: [Int].self) { group in
            for delay in [30, 10, 20] {
                group.addTask {
                    await sleep(loop, UInt64(delay))
                    return delay
                }
            }
            var order: [Int] = []
            for await delay in group { order.append(delay) }
            return order
        }
        platform.write("task group: \(order == [10, 20, 30] ? "ok" : "FAILED")\n")

        // Cancellation ends a long sleep early.
        let sleeper = Task { () -> Bool in
            do throws(RiadError) {
                try await loop.sleep(nanoseconds: 10_000_000_000)
                return false
            } catch {
                return error.kind == .cancelled
            }
        }
        await sleep(loop, 5)
        sleeper.cancel()
        platform.write("cancellation: \(await sleeper.value ? "ok" : "FAILED")\n")

        // A timeout: waiting for input that never comes, for 20 ms.
        let first = await withTaskGroup(of: Bool.self, returning: Bool.self) { group in
            group.addTask {
                do throws(RiadError) { try await loop.waitForInput(handle: 5) } catch { return false }
                return true
            }
            group.addTask {
                await sleep(loop, 20)
                return false
            }
            let first = await group.next()!
            group.cancelAll()
            return first
        }
        platform.write("timeout: \(first == false ? "ok" : "FAILED")\n")
        platform.write("SUCCESS\n")
        return 0
    }

    static func sleep<P: Platform>(_ loop: P, _ milliseconds: UInt64) async {
        try? await loop.sleep(nanoseconds: milliseconds * 1_000_000)
    }
}
