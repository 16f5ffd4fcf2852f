import PlatformHvt
import Riad

/// Allocates and frees far more memory than the kernel has, in blocks of
/// varied sizes, checking each block's contents: only an allocator that
/// reuses freed memory survives. Then checks the allocator's statistics.
struct HeapKernel {
    static func start(platform: HvtPlatform) async -> Int32 {
        var live: [UnsafeMutableRawBufferPointer?] = Array(repeating: nil, count: 64)
        let before = platform.heapStatistics()
        var seed: UInt64 = 0x9e37_79b9_7f4a_7c15
        var total: UInt64 = 0
        for round in 0..<200_000 {
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let slot = Int(seed >> 58)
            if let block = live[slot] {
                let expected = UInt8(truncatingIfNeeded: block.count)
                guard block[0] == expected, block[block.count - 1] == expected else {
                    platform.write("FAILURE: block in slot \(slot) was overwritten (round \(round))\n")
                    return 1
                }
                block.deallocate()
                live[slot] = nil
            } else {
                let size = 16 + Int((seed >> 20) % 8192)
                let block = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 16)
                block[0] = UInt8(truncatingIfNeeded: size)
                block[size - 1] = UInt8(truncatingIfNeeded: size)
                live[slot] = block
                total += UInt64(size)
            }
        }
        for case let block? in live { block.deallocate() }
        let after = platform.heapStatistics()
        platform.write(
            "allocated=\(total) heap=\(after.heap_size) high-water=\(after.high_water) "
                + "allocations=\(after.allocations - before.allocations)\n")
        guard total > after.heap_size, after.in_use == before.in_use, after.failures == 0 else {
            platform.write(
                "FAILURE: in use \(before.in_use) -> \(after.in_use), failures \(after.failures)\n")
            return 1
        }
        platform.write("SUCCESS\n")
        return 0
    }
}
