import Riad

// The same kernel for both targets: each target's platform and devices
// under one name (riad defines RIAD_TARGET_UNIX or RIAD_TARGET_HVT).
#if RIAD_TARGET_UNIX
    import PlatformUnix
    typealias TargetPlatform = UnixPlatform
    typealias Block = UnixBlock
#else
    import PlatformHvt
    typealias TargetPlatform = HvtPlatform
    typealias Block = HvtBlock
#endif

/// Writes a pattern to the first and last block of `storage`, reads it back,
/// then checks that out-of-range and unaligned requests are refused.
struct BlockKernel {
    static func start(platform: TargetPlatform) async -> Int32 {
        guard let disk = Block(name: "storage") else {
            platform.write("FAILURE: no block device 'storage'\n")
            return 1
        }
        platform.write("capacity=\(disk.capacity) block=\(disk.blockSize)\n")
        let size = disk.blockSize
        let write = UnsafeMutableRawBufferPointer.allocate(byteCount: size * 2, alignment: 16)
        let read = UnsafeMutableRawBufferPointer.allocate(byteCount: size * 2, alignment: 16)
        let last = disk.capacity - UInt64(size)
        for (round, offset) in [UInt64(0), last].enumerated() {
            for i in 0..<size { write[i] = UInt8(truncatingIfNeeded: i &* 7 &+ round &+ 1) }
            guard disk.write(at: offset, from: UnsafeRawBufferPointer(rebasing: write[0..<size])) == .ok,
                disk.read(at: offset, into: UnsafeMutableRawBufferPointer(rebasing: read[0..<size])) == .ok
            else {
                platform.write("FAILURE: transfer at \(offset) refused\n")
                return 1
            }
            for i in 0..<size where read[i] != write[i] {
                platform.write("FAILURE: byte \(i) at offset \(offset) differs\n")
                return 1
            }
        }
        // Two blocks at once, then the refusals.
        guard disk.write(at: 0, from: UnsafeRawBufferPointer(write)) == .ok else {
            platform.write("FAILURE: a two-block write was refused\n")
            return 1
        }
        let refused: [(String, Block.Result)] = [
            (
                "past the end",
                disk.read(at: disk.capacity, into: UnsafeMutableRawBufferPointer(rebasing: read[0..<size]))
            ),
            ("straddling the end", disk.read(at: last, into: read)),
            ("unaligned", disk.read(at: 1, into: UnsafeMutableRawBufferPointer(rebasing: read[0..<size]))),
            (
                "partial block",
                disk.read(at: 0, into: UnsafeMutableRawBufferPointer(rebasing: read[0..<(size - 1)]))
            ),
            (
                "huge offset",
                disk.write(
                    at: UInt64.max - UInt64(size) + 1, from: UnsafeRawBufferPointer(rebasing: write[0..<size])
                )
            ),
        ]
        for (what, result) in refused where result != .invalid {
            platform.write("FAILURE: \(what) request was not refused\n")
            return 1
        }
        platform.write("SUCCESS\n")
        return 0
    }
}
