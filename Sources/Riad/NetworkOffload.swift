// Offloads: work a network device does for the stack, as virtio-net
// defines it (virtio 1.x, section 5.1.6) and Linux's tap implements it
// (IFF_VNET_HDR, TUNSETOFFLOAD): segments larger than the MTU that the
// host cuts, and checksums the host completes or has already checked.

/// What a device can do for the stack.
public struct NetworkOffloads: OptionSet, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// TCP segments of up to 64 KiB (IPv4 datagrams of up to 65,535
    /// bytes) go whole to the device, which cuts them into segments of
    /// `FrameMetadata.segmentSize` with the checksum completed; and
    /// received frames may be such segments, with `checksumValid` set.
    public static let tcpSegmentation = NetworkOffloads(rawValue: 1)
}

/// What travels with one frame besides its bytes.
public struct FrameMetadata: Sendable, Equatable {
    /// Sending: the TCP payload bytes per segment the device cuts this
    /// frame into; 0 for a frame sent as it is.
    public var segmentSize: UInt16 = 0
    /// Sending: where the transport checksum's coverage starts and where,
    /// after that, its field is, when the device is to compute it (the
    /// field holds the pseudo-header's sum); nil when the frame is
    /// complete.
    public var partialChecksum: (start: UInt16, offset: UInt16)? = nil
    /// Receiving: the host vouches for the transport checksum (checked
    /// it, or built the frame itself and never computed one), so the stack
    /// must not verify it.
    public var checksumValid = false

    public init() {}

    /// A frame as it is: no segmentation, checksums complete.
    public static let none = FrameMetadata()

    public static func == (a: FrameMetadata, b: FrameMetadata) -> Bool {
        a.segmentSize == b.segmentSize && a.checksumValid == b.checksumValid
            && a.partialChecksum?.start == b.partialChecksum?.start
            && a.partialChecksum?.offset == b.partialChecksum?.offset
    }
}

/// The 12-byte virtio-net header (Linux's virtio_net_hdr_v1) before each
/// frame on a device with offloads: `emit` for frames sent, `parse` for
/// frames received, which refuses what a host must not send (unknown GSO
/// types, a checksum or headers beyond the frame) rather than trust it.
public struct VirtioNetHeader: Equatable, Sendable {
    public static let length = 12

    public var flags: UInt8 = 0
    public var gsoType: UInt8 = 0
    public var headerLength: UInt16 = 0
    public var gsoSize: UInt16 = 0
    public var checksumStart: UInt16 = 0
    public var checksumOffset: UInt16 = 0

    public static let needsChecksum: UInt8 = 1
    public static let dataValid: UInt8 = 2
    public static let gsoNone: UInt8 = 0
    public static let gsoTCPv4: UInt8 = 1
    public static let gsoTCPv6: UInt8 = 4
    public static let gsoECN: UInt8 = 0x80

    public init() {}

    /// Why a received header was refused.
    public enum ParseError: Error, Equatable {
        case truncated
        case unknownGSOType
        case checksumOutsideFrame
        case headersOutsideFrame
        case badSegmentSize
    }

    /// The header at the start of `bytes`, checked against the frame that
    /// follows it (`bytes.count - length` bytes).
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(ParseError) -> VirtioNetHeader {
        guard bytes.count >= length + 14 else { throw .truncated }
        func u16(_ offset: Int) -> UInt16 {
            // Little-endian, as virtio 1.x and a modern tap speak it.
            UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8
        }
        var header = VirtioNetHeader()
        header.flags = bytes[0]
        header.gsoType = bytes[1]
        header.headerLength = u16(2)
        header.gsoSize = u16(4)
        header.checksumStart = u16(6)
        header.checksumOffset = u16(8)
        let frameLength = bytes.count - length
        switch header.gsoType & ~gsoECN {
        // ECN alone, with no segmentation, is no type (Linux refuses it too).
        case gsoNone: guard header.gsoType == gsoNone else { throw .unknownGSOType }
        case gsoTCPv4, gsoTCPv6:
            guard header.gsoSize > 0 else { throw .badSegmentSize }
            guard Int(header.headerLength) <= frameLength else { throw .headersOutsideFrame }
        default: throw .unknownGSOType
        }
        if header.flags & needsChecksum != 0 {
            guard Int(header.checksumStart) + Int(header.checksumOffset) + 2 <= frameLength else {
                throw .checksumOutsideFrame
            }
        }
        return header
    }

    /// What the stack needs to know of a received frame.
    public var metadata: FrameMetadata {
        var metadata = FrameMetadata()
        metadata.checksumValid = flags & (Self.needsChecksum | Self.dataValid) != 0
        return metadata
    }

    /// Writes the header for the frame that follows it in `bytes` (the
    /// header's `length` bytes, then the frame), sent with `metadata`.
    public static func prefix(_ bytes: UnsafeMutableRawBufferPointer, sending metadata: FrameMetadata) {
        let frame = UnsafeRawBufferPointer(rebasing: bytes[length...])
        let headers = metadata.segmentSize > 0 ? segmentHeadersLength(frame) : 0
        VirtioNetHeader(sending: metadata, headerLength: headers).emit(into: bytes)
    }

    /// The frame after the header at the start of `bytes`, and what the
    /// header says of it; nil for a header the host must not send.
    public static func strip(_ bytes: UnsafeRawBufferPointer) -> (
        frame: UnsafeRawBufferPointer, metadata: FrameMetadata
    )? {
        guard let header = try? parse(bytes) else { return nil }
        return (UnsafeRawBufferPointer(rebasing: bytes[length...]), header.metadata)
    }

    /// The Ethernet, IPv4 and TCP headers' length of a TCP frame (for
    /// hdr_len); the whole frame if it is too short to say.
    static func segmentHeadersLength(_ frame: UnsafeRawBufferPointer) -> Int {
        guard frame.count >= 14 + 20 + 20 else { return frame.count }
        let ip = 14 + Int(frame[14] & 0x0f) * 4
        guard frame.count >= ip + 20 else { return frame.count }
        return Swift.min(frame.count, ip + Int(frame[ip + 12] >> 4) * 4)
    }

    /// The header for a frame sent with `metadata`; `headerLength` is the
    /// Ethernet, IP and TCP headers' length of a segmented frame.
    public init(sending metadata: FrameMetadata, headerLength: Int) {
        if let partial = metadata.partialChecksum {
            flags = Self.needsChecksum
            checksumStart = partial.start
            checksumOffset = partial.offset
        }
        if metadata.segmentSize > 0 {
            gsoType = Self.gsoTCPv4
            gsoSize = metadata.segmentSize
            self.headerLength = UInt16(clamping: headerLength)
        }
    }

    /// Writes the header into the first `length` bytes of `bytes`.
    public func emit(into bytes: UnsafeMutableRawBufferPointer) {
        func put(_ value: UInt16, _ offset: Int) {
            bytes[offset] = UInt8(truncatingIfNeeded: value)
            bytes[offset + 1] = UInt8(truncatingIfNeeded: value >> 8)
        }
        bytes[0] = flags
        bytes[1] = gsoType
        put(headerLength, 2)
        put(gsoSize, 4)
        put(checksumStart, 6)
        put(checksumOffset, 8)
        put(0, 10)
    }
}

extension VirtioNetHeader {
    /// Calls `body` with the frame after the header at the start of
    /// `bytes` as the wire will carry it: a checksum left to the host
    /// (NEEDS_CSUM) is completed in a copy, so that a capture decodes
    /// with valid checksums. Frames whose header does not parse are passed
    /// as they are.
    public static func withWireFrame(
        _ bytes: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> Void
    ) {
        guard bytes.count >= length else { return body(bytes) }
        let frame = UnsafeRawBufferPointer(rebasing: bytes[length...])
        guard let header = try? parse(bytes), header.flags & needsChecksum != 0 else { return body(frame) }
        var copy = [UInt8](frame)
        copy.withUnsafeMutableBytes { header.completeChecksum(in: $0) }
        copy.withUnsafeBytes(body)
    }

    /// Computes the checksum a NEEDS_CSUM header leaves to the host: the
    /// field holds the pseudo-header's sum, and the checksum covers it and
    /// everything from `checksumStart` to the end (Linux's
    /// CHECKSUM_PARTIAL).
    public func completeChecksum(in frame: UnsafeMutableRawBufferPointer) {
        let start = Int(checksumStart)
        let field = start + Int(checksumOffset)
        guard flags & Self.needsChecksum != 0, field + 2 <= frame.count else { return }
        var sum = InternetChecksum()
        sum.add(UnsafeRawBufferPointer(rebasing: frame[start...]))
        let value = sum.value
        frame[field] = UInt8(value >> 8)
        frame[field + 1] = UInt8(value & 0xff)
    }
}

extension NetworkDevice {
    /// Bytes before each frame on the host's side: a virtio-net header
    /// when the device has offloads, else none.
    public var hostPrefix: Int { offloads.isEmpty ? 0 : VirtioNetHeader.length }

    /// What every device that hands the host whole frames does in
    /// `transmit`: checks the request, has `buffer` give `hostPrefix +
    /// length` bytes, lends the frame's part to `fill`, checks what it
    /// wrote and puts the virtio-net header before it. Returns the bytes to
    /// hand the host, header included; nil when `fill` wrote nothing.
    public func buildFrame(
        length: Int, metadata: FrameMetadata,
        in buffer: (Int) throws(RiadError) -> UnsafeMutableRawBufferPointer,
        _ fill: (UnsafeMutableRawBufferPointer) -> Int
    ) throws(RiadError) -> UnsafeMutableRawBufferPointer? {
        let prefix = hostPrefix
        guard length >= 0, length <= (metadata == .none ? maximumFrameLength : largestFrameLength) else {
            throw RiadError(.invalidArgument, "frame length out of range")
        }
        guard prefix > 0 || metadata == .none else {
            throw RiadError(.invalidArgument, "the device has no offloads")
        }
        let bytes = try buffer(prefix + length)
        let used = fill(UnsafeMutableRawBufferPointer(rebasing: bytes[prefix..<(prefix + length)]))
        guard used >= 0, used <= length else {
            throw RiadError(.invalidArgument, "filled length out of range")
        }
        guard used > 0 else { return nil }
        let frame = UnsafeMutableRawBufferPointer(rebasing: bytes[..<(prefix + used)])
        if prefix > 0 { VirtioNetHeader.prefix(frame, sending: metadata) }
        return frame
    }

    /// What every such device does in `receive`: the frame after its
    /// virtio-net header, with what the header says; nil for a header the
    /// host must not send (the frame is dropped, never trusted).
    public func openFrame(_ bytes: UnsafeRawBufferPointer) -> (UnsafeRawBufferPointer, FrameMetadata)? {
        guard hostPrefix > 0 else { return (bytes, .none) }
        return VirtioNetHeader.strip(bytes).map { ($0.frame, $0.metadata) }
    }
}
