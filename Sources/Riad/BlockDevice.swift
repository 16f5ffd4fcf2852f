// Block devices: whole blocks at block-aligned offsets. The shared rules
// (threads, blocking, errors) are at the top of Devices.swift.

/// A disk: a host file, a Solo5 BLOCK_BASIC device, virtio-blk.
///
/// Transfers are whole blocks at byte offsets that are multiples of the
/// block size, into and out of the caller's memory, with no copy on the
/// kernel's side.
public protocol BlockDevice {
    /// The size of one block in bytes, fixed for the device's life: a power
    /// of two, at least 512.
    var blockSize: Int { get }

    /// The device's size in bytes, a multiple of `blockSize`, fixed for the
    /// device's life.
    var capacity: UInt64 { get }

    /// Whether `write(at:from:)` is refused (false unless the
    /// implementation says otherwise).
    var isReadOnly: Bool { get }

    /// Reads `buffer.count` bytes starting at byte `offset` into `buffer`.
    ///
    /// - Blocks: until the data is in `buffer` (the host's disk time).
    /// - Limits: `offset` and `buffer.count` MUST be multiples of
    ///   `blockSize`, and `offset + buffer.count` MUST NOT exceed
    ///   `capacity`. A count of 0 reads nothing. An implementation MAY
    ///   limit one call to fewer bytes than the whole device and MUST
    ///   document it; callers split larger transfers.
    /// - Errors: `.invalidArgument` when a limit is broken (nothing is read);
    ///   `.deviceError` if the host failed (the contents of `buffer` are
    ///   then unspecified).
    func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(RiadError)

    /// Writes `buffer.count` bytes from `buffer` starting at byte `offset`.
    ///
    /// - Blocks: until the host has taken the data. Whether it has reached
    ///   stable storage is the host's matter (Solo5 has no flush either).
    /// - Limits: as for `read(at:into:)`.
    /// - Errors: `.invalidArgument` when a limit is broken (nothing is
    ///   written); `.permissionDenied` on a read-only device; `.deviceError`
    ///   if the host failed (the blocks touched then hold old data, new data
    ///   or a mix).
    func write(at offset: UInt64, from buffer: UnsafeRawBufferPointer) throws(RiadError)
}

extension BlockDevice {
    public var isReadOnly: Bool { false }

    /// The number of blocks.
    public var blockCount: UInt64 {
        blockSize > 0 ? capacity / UInt64(blockSize) : 0
    }

    /// Checks a transfer of `count` bytes at `offset` against the limits of
    /// `read(at:into:)`, for implementations.
    ///
    /// - Throws: `.invalidArgument` describing the broken limit.
    public func checkTransfer(at offset: UInt64, count: Int) throws(RiadError) {
        let size = UInt64(max(blockSize, 1))
        guard count >= 0, offset % size == 0, UInt64(count) % size == 0 else {
            throw RiadError(.invalidArgument, "block transfer not aligned to the block size")
        }
        let (end, overflow) = offset.addingReportingOverflow(UInt64(count))
        guard !overflow, end <= capacity else {
            throw RiadError(.invalidArgument, "block transfer past the end of the device")
        }
    }

    /// Reads `count` bytes at `offset` into a new buffer.
    ///
    /// - Throws: as `read(at:into:)`; `.invalidArgument` for a negative count.
    public func read(at offset: UInt64, count: Int) throws(RiadError) -> ByteBuffer {
        guard count >= 0 else { throw RiadError(.invalidArgument, "negative block transfer") }
        try checkTransfer(at: offset, count: count)
        var buffer = ByteBuffer(capacity: count)
        try buffer.withUnsafeMutableWritableBytes { (bytes) throws(RiadError) in
            try read(at: offset, into: UnsafeMutableRawBufferPointer(rebasing: bytes[0..<count]))
        }
        buffer.moveWriterIndex(forwardBy: count)
        return buffer
    }

    /// Writes the readable bytes of `buffer` at `offset` (without consuming
    /// them).
    ///
    /// - Throws: as `write(at:from:)`.
    public func write(at offset: UInt64, from buffer: ByteBuffer) throws(RiadError) {
        try buffer.withUnsafeReadableBytes { (bytes) throws(RiadError) in try write(at: offset, from: bytes) }
    }
}
