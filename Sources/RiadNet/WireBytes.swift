// Network-order (big-endian) field access for the packet views.
//
// Views check their buffer's length once, in their validating initializer;
// these accessors then read and write fields at fixed offsets without
// further checks in release builds (the buffer pointer's subscript still
// checks bounds in debug builds). They are internal: the public API is the
// views' named fields.

extension UnsafeRawBufferPointer {
    /// The 16-bit network-order integer at `offset`.
    @inline(__always)
    func wireUInt16(at offset: Int) -> UInt16 {
        UInt16(self[offset]) << 8 | UInt16(self[offset + 1])
    }

    /// The 32-bit network-order integer at `offset`.
    @inline(__always)
    func wireUInt32(at offset: Int) -> UInt32 {
        UInt32(self[offset]) << 24 | UInt32(self[offset + 1]) << 16 | UInt32(self[offset + 2]) << 8
            | UInt32(self[offset + 3])
    }
}

extension UnsafeMutableRawBufferPointer {
    /// The 16-bit network-order integer at `offset`.
    @inline(__always)
    func wireUInt16(at offset: Int) -> UInt16 {
        UnsafeRawBufferPointer(self).wireUInt16(at: offset)
    }

    /// The 32-bit network-order integer at `offset`.
    @inline(__always)
    func wireUInt32(at offset: Int) -> UInt32 {
        UnsafeRawBufferPointer(self).wireUInt32(at: offset)
    }

    /// Writes `value` in network order at `offset`.
    @inline(__always)
    func setWireUInt16(_ value: UInt16, at offset: Int) {
        self[offset] = UInt8(truncatingIfNeeded: value >> 8)
        self[offset + 1] = UInt8(truncatingIfNeeded: value)
    }

    /// Writes `value` in network order at `offset`.
    @inline(__always)
    func setWireUInt32(_ value: UInt32, at offset: Int) {
        self[offset] = UInt8(truncatingIfNeeded: value >> 24)
        self[offset + 1] = UInt8(truncatingIfNeeded: value >> 16)
        self[offset + 2] = UInt8(truncatingIfNeeded: value >> 8)
        self[offset + 3] = UInt8(truncatingIfNeeded: value)
    }
}
