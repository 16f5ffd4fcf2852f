// The devices a Riad kernel is written against, as contracts.
//
// Each target provides conforming types (PlatformHvt: hypercalls; unix:
// system calls); applications and protocol layers are generic over these
// protocols, so each kernel is specialised to exactly its target's devices.
// `MemoryDevices.swift` and `LoopbackNetworkDevice.swift` provide in-memory
// implementations for tests.
//
// THREADS. A kernel runs on one thread. Every call below MUST be made from
// that thread; implementations need no locks.
//
// BLOCKING. No call blocks waiting for input. Calls that move data (console
// and block writes, block reads) complete before they return, which may take
// the host's time (a disk write); calls that would have to wait for an
// event (a frame to arrive, a queue to drain) return at once and say so.
// Waiting is the event loop's job: it sleeps in the platform until a deadline
// or until a device's handle is ready.
//
// ERRORS. A call that can fail throws `RiadError` (typed throws) and has no
// other effect when it throws, unless its description says otherwise. The
// kinds used by devices are:
//
//   .invalidArgument   the caller broke the call's rules (a length over the
//                      limit, a misaligned offset). A bug in the caller;
//                      retrying fails the same way.
//   .wouldBlock        the device cannot take or give data now; retry after
//                      the device's handle is ready.
//   .permissionDenied  the device does not allow the call (read-only).
//   .deviceError       the device or the host behind it failed. The state of
//                      the data touched is unknown (a block write may have
//                      happened in part).
//   .unsupported       the device does not implement the call.
//
// Absence is not an error: a receive with no frame waiting returns nil, a key
// that does not exist reads as nil.

// MARK: - Console

/// The kernel's console: a byte stream to the operator (the tender's standard
/// output, the process's standard error, a serial port).
public protocol Console {
    /// Writes `bytes` to the console, unchanged (no newline is added, no
    /// encoding is assumed).
    ///
    /// - Blocks: until the bytes are handed to the host; never for input.
    /// - Limits: none for the caller; an implementation MAY split the bytes
    ///   into several host writes, and MUST keep their order.
    /// - Errors: none. Console output is best effort: an implementation that
    ///   cannot write MUST drop the bytes silently, since there is nowhere to
    ///   report the failure.
    func write(_ bytes: UnsafeRawBufferPointer)
}

extension Console {
    /// Writes the UTF-8 bytes of `text`.
    public func write(_ text: String) {
        var text = text
        text.withUTF8 { bytes in write(UnsafeRawBufferPointer(bytes)) }
    }

    /// Writes the readable bytes of `buffer` (without consuming them).
    public func write(_ buffer: ByteBuffer) {
        buffer.withUnsafeReadableBytes { bytes in write(bytes) }
    }
}

// MARK: - Clocks

/// The monotonic clock: time since boot, for deadlines and timeouts.
public protocol MonotonicClock {
    /// The current instant.
    ///
    /// - Blocks: never.
    /// - Guarantees: MUST never decrease between two calls in one boot; MAY
    ///   stay the same between calls (its resolution is the platform's).
    ///   It counts time while the kernel sleeps in the platform.
    /// - Errors: none.
    var now: Instant { get }
}

/// The wall clock: calendar time, for people and protocols that carry
/// dates (HTTP `Date`, TLS certificates, log records).
public protocol WallClock {
    /// Nanoseconds since 1970-01-01 00:00:00 UTC, leap seconds not counted.
    ///
    /// - Blocks: never.
    /// - Guarantees: none about order: it MAY jump backwards or forwards when
    ///   the host's clock is set. Never use it to measure time; use
    ///   `MonotonicClock`.
    /// - Errors: none.
    var nanosecondsSinceEpoch: UInt64 { get }
}

// MARK: - Entropy

/// Unpredictable bytes, for keys, TCP initial sequence numbers, DNS query
/// identifiers, hash seeds.
public protocol Entropy {
    /// Fills `buffer` with random bytes.
    ///
    /// - Blocks: never (once the kernel has started).
    /// - Guarantees: the bytes MUST be suitable for cryptographic use (a
    ///   CSPRNG seeded from the host or the CPU). A platform without a good
    ///   source MUST refuse to start the kernel rather than return weak
    ///   bytes. Test implementations (`DeterministicEntropy`) say so in their
    ///   name.
    /// - Errors: none.
    func fill(_ buffer: UnsafeMutableRawBufferPointer)
}

extension Entropy {
    /// A random integer of type `T`.
    public func next<T: FixedWidthInteger>(as: T.Type = T.self) -> T {
        var value: T = 0
        withUnsafeMutableBytes(of: &value) { bytes in fill(bytes) }
        return value
    }

    /// `count` random bytes (none if `count` is not positive).
    public func bytes(count: Int) -> [UInt8] {
        guard count > 0 else { return [] }
        var bytes = [UInt8](repeating: 0, count: count)
        bytes.withUnsafeMutableBytes { buffer in fill(buffer) }
        return bytes
    }
}

/// An entropy source as a standard `RandomNumberGenerator`, for
/// `Int.random(in:using:)` and `shuffled(using:)`.
///
/// ```swift
/// var generator = EntropyGenerator(entropy)
/// let port = UInt16.random(in: 49152...65535, using: &generator)
/// ```
public struct EntropyGenerator<Source: Entropy>: RandomNumberGenerator {
    /// The source of the bytes.
    public let source: Source

    public init(_ source: Source) {
        self.source = source
    }

    public mutating func next() -> UInt64 {
        source.next(as: UInt64.self)
    }
}
