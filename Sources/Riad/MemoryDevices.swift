// In-memory devices for tests: deterministic, inspectable, no host needed.
// Each follows its protocol's contract (Devices.swift, BlockDevice.swift,
// KeyValueStore.swift) so that layers above can be tested against them.
// Devices are classes: copies of a device refer to the same device.

/// A console that keeps what is written.
public final class MemoryConsole: Console {
    /// Every byte written, in order.
    public private(set) var output: [UInt8] = []

    public init() {}

    public func write(_ bytes: UnsafeRawBufferPointer) {
        output.append(contentsOf: bytes)
    }

    /// The output decoded as UTF-8.
    public var text: String {
        String(decoding: output, as: UTF8.self)
    }

    /// Forgets the output.
    public func clear() {
        output.removeAll()
    }
}

/// A clock that moves only when told: both a monotonic and a wall clock,
/// for deterministic tests of timers and timeouts.
public final class ManualClock: MonotonicClock, WallClock {
    public private(set) var now: Instant
    /// The wall-clock time at `Instant.zero`.
    public var epochOffset: UInt64

    /// A clock at `now`, whose wall time at boot was `epochOffset`
    /// nanoseconds after 1970.
    public init(now: Instant = .zero, epochOffset: UInt64 = 1_700_000_000 * 1_000_000_000) {
        self.now = now
        self.epochOffset = epochOffset
    }

    public var nanosecondsSinceEpoch: UInt64 {
        let (sum, overflow) = epochOffset.addingReportingOverflow(now.nanoseconds)
        return overflow ? .max : sum
    }

    /// Moves the clock forward by `duration` (a negative one is ignored:
    /// the clock is monotonic).
    public func advance(by duration: Duration) {
        if duration > .zero { now = now.advanced(by: duration) }
    }

    /// Moves the clock to `instant` if that is later than now.
    public func advance(to instant: Instant) {
        if instant > now { now = instant }
    }
}

/// Entropy from a seeded generator (SplitMix64): the same seed gives the
/// same bytes, so tests are repeatable. NOT suitable for cryptography;
/// never use it in a kernel.
public final class DeterministicEntropy: Entropy {
    private var state: UInt64

    public init(seed: UInt64) {
        self.state = seed
    }

    public func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        var index = 0
        while index < buffer.count {
            state &+= 0x9e37_79b9_7f4a_7c15
            var z = state
            z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
            z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
            z ^= z >> 31
            for _ in 0..<8 where index < buffer.count {
                buffer[index] = UInt8(truncatingIfNeeded: z)
                z >>= 8
                index += 1
            }
        }
    }
}

/// A block device in memory, zeroed at creation.
public final class MemoryBlockDevice: BlockDevice {
    public let blockSize: Int
    public let capacity: UInt64
    public let isReadOnly: Bool
    /// When true, every read and write throws `.deviceError` (to test how
    /// callers handle a failing disk).
    public var isFailing = false
    /// The device's bytes.
    public private(set) var contents: [UInt8]

    /// A device of `blockCount` blocks of `blockSize` bytes (clamped to at
    /// least 1 byte and 0 blocks).
    public init(blockSize: Int = 512, blockCount: Int, readOnly: Bool = false) {
        let blockSize = max(blockSize, 1)
        let blockCount = max(blockCount, 0)
        self.blockSize = blockSize
        self.contents = [UInt8](repeating: 0, count: blockSize * blockCount)
        self.capacity = UInt64(contents.count)
        self.isReadOnly = readOnly
    }

    /// A device holding `contents`, padded with zeros to whole blocks.
    public convenience init(blockSize: Int = 512, contents: [UInt8], readOnly: Bool = false) {
        let size = max(blockSize, 1)
        self.init(blockSize: size, blockCount: (contents.count + size - 1) / size, readOnly: readOnly)
        self.contents.replaceSubrange(0..<contents.count, with: contents)
    }

    public func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(RiadError) {
        try checkTransfer(at: offset, count: buffer.count)
        guard !isFailing else { throw RiadError(.deviceError, "memory block device set to fail") }
        guard buffer.count > 0 else { return }
        contents.withUnsafeBytes { bytes in
            buffer.copyMemory(
                from: UnsafeRawBufferPointer(rebasing: bytes[Int(offset)..<Int(offset) + buffer.count]))
        }
    }

    public func write(at offset: UInt64, from buffer: UnsafeRawBufferPointer) throws(RiadError) {
        try checkTransfer(at: offset, count: buffer.count)
        guard !isReadOnly else { throw RiadError(.permissionDenied, "read-only block device") }
        guard !isFailing else { throw RiadError(.deviceError, "memory block device set to fail") }
        guard buffer.count > 0 else { return }
        contents.replaceSubrange(Int(offset)..<Int(offset) + buffer.count, with: buffer)
    }
}

/// A read-only key-value store in memory, kept sorted by key bytes.
///
/// ```swift
/// let files: MemoryKeyValueStore = ["index.html": Array("<h1>Hi</h1>".utf8)]
/// ```
public struct MemoryKeyValueStore: KeyValueStore, ExpressibleByDictionaryLiteral, Sendable {
    private var entries: [(key: [UInt8], value: [UInt8])] = []

    /// A store of `entries`; for a key given twice, the last value wins.
    public init(_ entries: [(key: String, value: [UInt8])]) {
        for entry in entries {
            let key = Array(entry.key.utf8)
            let index = firstIndex(notBefore: key[...])
            if index < self.entries.count, self.entries[index].key == key {
                self.entries[index].value = entry.value
            } else {
                self.entries.insert((key, entry.value), at: index)
            }
        }
    }

    public init(dictionaryLiteral elements: (String, [UInt8])...) {
        self.init(elements.map { (key: $0.0, value: $0.1) })
    }

    /// The number of keys.
    public var count: Int { entries.count }

    public func size(of key: String) throws(RiadError) -> Int? {
        entry(key).map { entries[$0].value.count }
    }

    public func withValue<Result>(
        of key: String, offset: Int, length: Int, _ body: (UnsafeRawBufferPointer) -> Result
    ) throws(RiadError) -> Result? {
        guard offset >= 0, length >= 0 else {
            throw RiadError(.invalidArgument, "negative offset or length")
        }
        guard let index = entry(key) else { return nil }
        return entries[index].value.withUnsafeBytes { value in
            let start = min(offset, value.count)
            let end = start + min(length, value.count - start)
            return body(UnsafeRawBufferPointer(rebasing: value[start..<end]))
        }
    }

    public func keys(withPrefix prefix: String) throws(RiadError) -> [String] {
        let prefix = Array(prefix.utf8)
        var keys: [String] = []
        var index = firstIndex(notBefore: prefix[...])
        while index < entries.count, entries[index].key.starts(with: prefix) {
            keys.append(String(decoding: entries[index].key, as: UTF8.self))
            index += 1
        }
        return keys
    }

    private func entry(_ key: String) -> Int? {
        let bytes = Array(key.utf8)
        let index = firstIndex(notBefore: bytes[...])
        return index < entries.count && entries[index].key == bytes ? index : nil
    }

    /// The index of the first entry whose key is not before `key` in byte
    /// order (binary search).
    private func firstIndex(notBefore key: ArraySlice<UInt8>) -> Int {
        var low = 0
        var high = entries.count
        while low < high {
            let middle = low + (high - low) / 2
            if entries[middle].key.lexicographicallyPrecedes(key) {
                low = middle + 1
            } else {
                high = middle
            }
        }
        return low
    }
}
