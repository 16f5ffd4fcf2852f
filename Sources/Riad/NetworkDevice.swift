// Network devices: Ethernet frames in and out, lent in the device's own
// buffers. The shared rules (threads, blocking, errors) are at the top of
// Devices.swift.

/// A number naming a device to the platform's wait: the event loop waits
/// until a deadline or until one of a set of handles is ready, and the
/// platform says which ones are (on hvt and spt, Solo5's handles: at most 64
/// devices per kernel, numbered from 0).
public struct DeviceHandle: RawRepresentable, Sendable, Hashable {
    public var rawValue: UInt64

    public init(rawValue: UInt64) {
        self.rawValue = rawValue
    }
}

/// A 48-bit IEEE 802 MAC address.
public struct MACAddress: Sendable, Hashable, CustomStringConvertible {
    /// The six octets in transmission order, the first in the most
    /// significant position: 02:00:00:00:00:01 is 0x0200_0000_0001.
    public let rawValue: UInt64

    /// The address whose octets, in order, are the six low bytes of
    /// `rawValue` (big-endian); higher bits are ignored.
    public init(rawValue: UInt64) {
        self.rawValue = rawValue & 0xffff_ffff_ffff
    }

    /// The address with these octets, in transmission order.
    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8, _ e: UInt8, _ f: UInt8) {
        var value: UInt64 = 0
        for octet in [a, b, c, d, e, f] { value = value << 8 | UInt64(octet) }
        self.rawValue = value
    }

    /// The address in the first six bytes of `bytes`; nil if there are fewer
    /// than six.
    public init?<Bytes: Collection>(bytes: Bytes) where Bytes.Element == UInt8 {
        guard bytes.count >= 6 else { return nil }
        var value: UInt64 = 0
        for octet in bytes.prefix(6) { value = value << 8 | UInt64(octet) }
        self.rawValue = value
    }

    /// ff:ff:ff:ff:ff:ff
    public static let broadcast = MACAddress(rawValue: 0xffff_ffff_ffff)

    /// The octet at `index` (0 is sent first); 0 for an index outside 0..<6.
    public subscript(index: Int) -> UInt8 {
        guard index >= 0, index < 6 else { return 0 }
        return UInt8(truncatingIfNeeded: rawValue >> UInt64(8 * (5 - index)))
    }

    /// The six octets in transmission order.
    public var octets: [UInt8] {
        (0..<6).map { self[$0] }
    }

    /// The group bit: multicast and broadcast addresses.
    public var isMulticast: Bool { self[0] & 1 != 0 }
    /// ff:ff:ff:ff:ff:ff
    public var isBroadcast: Bool { self == .broadcast }

    /// "02:00:00:00:00:01"
    public var description: String {
        let digits: StaticString = "0123456789abcdef"
        var text: [UInt8] = []
        for index in 0..<6 {
            if index > 0 { text.append(UInt8(ascii: ":")) }
            text.append(digits.utf8Start[Int(self[index] >> 4)])
            text.append(digits.utf8Start[Int(self[index] & 0xf)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}

/// An Ethernet interface: a tap device, a Solo5 NET_BASIC device, virtio-net.
///
/// Frames are whole Ethernet frames from the destination MAC address to the
/// end of the payload: no preamble, no frame check sequence, and a VLAN tag
/// only if the host passes one.
///
/// Data is never copied on the kernel's side: the device lends its own
/// buffer to a closure for the length of the call, so a protocol stack can
/// build a frame in place for transmission and parse a received frame in
/// place. The buffers MUST NOT escape the closure.
public protocol NetworkDevice {
    /// The interface's MAC address, fixed for the device's life.
    var macAddress: MACAddress { get }

    /// The largest payload of one frame (an IP packet), usually 1500. A frame
    /// is at most `mtu + 14` bytes: see `maximumFrameLength`.
    var mtu: Int { get }

    /// The handle the event loop waits on for received frames.
    var handle: DeviceHandle { get }

    /// Sends one frame, built in the device's own transmit buffer.
    ///
    /// The device calls `fill` once with a buffer of exactly `length` bytes
    /// (its contents are unspecified: it MAY hold an older frame); `fill`
    /// writes the frame at its start and returns the frame's length. The
    /// device then sends that many bytes. Returning 0 sends nothing.
    ///
    /// - Blocks: never. A device whose transmit queue is full throws
    ///   `.wouldBlock` without calling `fill`; one that has no queue MAY
    ///   drop frames instead, as a busy link does.
    /// - Limits: `length` MUST be in `0...maximumFrameLength`; the returned
    ///   length MUST be in `0...length`. Nothing is sent otherwise.
    /// - Errors: `.invalidArgument` for a `length` or a returned length out of
    ///   range; `.wouldBlock`; `.deviceError` if the host failed to send.
    ///   Delivery is never guaranteed: success means the frame was handed on.
    func transmit(length: Int, _ fill: (UnsafeMutableRawBufferPointer) -> Int) throws(RiadError)

    /// Lends the next received frame, if there is one, to `consume`, and
    /// returns what `consume` returns.
    ///
    /// - Blocks: never. Returns nil at once, without calling `consume`, when
    ///   no frame is waiting; the event loop then waits on `handle`.
    /// - Limits: the frame is at most `maximumFrameLength` bytes; a longer
    ///   one from the host is dropped by the device. The buffer is valid
    ///   only during `consume` and is read-only.
    /// - Errors: `.deviceError` if the host failed; the frame, if any, is lost.
    func receive<Result>(_ consume: (UnsafeRawBufferPointer) -> Result) throws(RiadError) -> Result?

    /// The work the device does for the stack (NetworkOffload.swift).
    /// Default: none.
    var offloads: NetworkOffloads { get }

    /// As `transmit(length:_:)`, for a frame that needs the device's
    /// offloads: with `.tcpSegmentation`, `length` may be up to
    /// `largestFrameLength` and `metadata` says how to cut the segment and
    /// where its checksum goes. The default sends frames without metadata
    /// and refuses the rest with `.invalidArgument`.
    func transmit(length: Int, metadata: FrameMetadata, _ fill: (UnsafeMutableRawBufferPointer) -> Int)
        throws(RiadError)

    /// As `receive(_:)`, with what the host said of the frame (a checksum
    /// it vouches for). Frames are at most `largestFrameLength` bytes. The
    /// default says nothing (`.none`).
    func receive<Result>(_ consume: (UnsafeRawBufferPointer, FrameMetadata) -> Result) throws(RiadError)
        -> Result?
}

extension NetworkDevice {
    /// The largest frame: `mtu` plus the 14-byte Ethernet header.
    public var maximumFrameLength: Int { mtu + 14 }

    /// The largest frame with the device's offloads: an IPv4 datagram of
    /// 65,535 bytes with `.tcpSegmentation`, else `maximumFrameLength`.
    public var largestFrameLength: Int {
        offloads.contains(.tcpSegmentation) ? 14 + 65535 : maximumFrameLength
    }

    public var offloads: NetworkOffloads { [] }

    public func transmit(
        length: Int, metadata: FrameMetadata, _ fill: (UnsafeMutableRawBufferPointer) -> Int
    ) throws(RiadError) {
        guard metadata == .none else {
            throw RiadError(.invalidArgument, "the device has no offloads")
        }
        try transmit(length: length, fill)
    }

    public func receive<Result>(_ consume: (UnsafeRawBufferPointer, FrameMetadata) -> Result)
        throws(RiadError) -> Result?
    {
        try receive { frame in consume(frame, .none) }
    }

    /// Sends a copy of `frame` (for tests and rare frames; a stack builds
    /// frames in place with `transmit(length:_:)`).
    public func transmit(copying frame: UnsafeRawBufferPointer) throws(RiadError) {
        try transmit(length: frame.count) { buffer in
            buffer.copyMemory(from: frame)
            return frame.count
        }
    }

    /// Sends a copy of the readable bytes of `frame`.
    public func transmit(copying frame: ByteBuffer) throws(RiadError) {
        try frame.withUnsafeReadableBytes { (bytes) throws(RiadError) in try transmit(copying: bytes) }
    }

    /// Sends a copy of `frame`; false if it was refused (a frame at a
    /// time, for test kernels and tools that build frames themselves).
    public func write(_ frame: UnsafeRawBufferPointer) -> Bool {
        do throws(RiadError) {
            try transmit(copying: frame)
            return true
        } catch {
            return false
        }
    }

    /// Copies the next received frame into `buffer`: its length, or nil
    /// when none is waiting (or it does not fit).
    public func read(into buffer: UnsafeMutableRawBufferPointer) -> Int? {
        do throws(RiadError) {
            let length = try receive { (frame: UnsafeRawBufferPointer) -> Int in
                guard frame.count <= buffer.count else { return -1 }
                buffer.copyMemory(from: frame)
                return frame.count
            }
            guard let length, length >= 0 else { return nil }
            return length
        } catch {
            return nil
        }
    }

    /// A copy of the next received frame, nil if none is waiting.
    public func receiveCopy() throws(RiadError) -> ByteBuffer? {
        try receive { frame in ByteBuffer(bytes: frame) }
    }
}
