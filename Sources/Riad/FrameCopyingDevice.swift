/// A network device whose host interface copies whole frames (a tap's
/// write and read): the lending `NetworkDevice` contract on top of it,
/// through two kernel buffers, one for each direction (a reply is built
/// while the frame it answers is still lent), with the virtio-net header
/// written and read here when the device has offloads. Platforms declare
/// the conformance; this extension does the rest.
public protocol FrameCopyingDevice: NetworkDevice {
    /// The MAC address's six octets.
    var mac: [UInt8] { get }
    /// Hands the host one frame (after its virtio-net header when the
    /// device has offloads); false if the host refused it.
    func sendToHost(_ frame: UnsafeRawBufferPointer) -> Bool
    /// Receives one frame into `buffer` (at least `maximumFrameLength`
    /// bytes); its length, or nil when none is waiting.
    func receiveFromHost(into buffer: UnsafeMutableRawBufferPointer) -> Int?
}

extension FrameCopyingDevice {
    public var macAddress: MACAddress { MACAddress(bytes: mac) ?? MACAddress(rawValue: 0) }

    /// Bytes before each frame on the host's side: a virtio-net header when
    /// the device has offloads (a tap opened with IFF_VNET_HDR).
    private var prefix: Int { offloads.isEmpty ? 0 : VirtioNetHeader.length }

    public func transmit(length: Int, _ fill: (UnsafeMutableRawBufferPointer) -> Int) throws(RiadError) {
        try transmit(length: length, metadata: .none, fill)
    }

    public func transmit(
        length: Int, metadata: FrameMetadata, _ fill: (UnsafeMutableRawBufferPointer) -> Int
    ) throws(RiadError) {
        let prefix = self.prefix
        guard length >= 0, length <= (metadata == .none ? maximumFrameLength : largestFrameLength) else {
            throw RiadError(.invalidArgument, "frame length out of range")
        }
        guard prefix > 0 || metadata == .none else {
            throw RiadError(.invalidArgument, "the device has no offloads")
        }
        let buffer = FrameBuffers.transmit(prefix + length)
        let used = fill(UnsafeMutableRawBufferPointer(rebasing: buffer[prefix...]))
        guard used >= 0, used <= length else {
            throw RiadError(.invalidArgument, "filled length out of range")
        }
        guard used > 0 else { return }
        let frame = UnsafeMutableRawBufferPointer(rebasing: buffer[..<(prefix + used)])
        if prefix > 0 { VirtioNetHeader.prefix(frame, sending: metadata) }
        guard sendToHost(UnsafeRawBufferPointer(frame)) else {
            throw RiadError(.deviceError, "the host refused the frame")
        }
    }

    public func receive<Result>(_ consume: (UnsafeRawBufferPointer) -> Result) throws(RiadError) -> Result? {
        try receive { frame, _ in consume(frame) }
    }

    public func receive<Result>(_ consume: (UnsafeRawBufferPointer, FrameMetadata) -> Result)
        throws(RiadError) -> Result?
    {
        let prefix = self.prefix
        let buffer = FrameBuffers.receive(prefix + largestFrameLength)
        while true {
            guard let length = receiveFromHost(into: buffer) else { return nil }
            let bytes = UnsafeRawBufferPointer(rebasing: buffer[..<length])
            guard prefix > 0 else { return consume(bytes, .none) }
            // A header the host must not send drops the frame: never trusted.
            guard let (frame, metadata) = VirtioNetHeader.strip(bytes) else { continue }
            return consume(frame, metadata)
        }
    }
}

/// The two frame buffers, allocated at first use and grown for a larger
/// MTU. The kernel has one thread, and a device never lends one buffer
/// twice at a time.
enum FrameBuffers {
    nonisolated(unsafe) static var transmitBuffer = UnsafeMutableRawBufferPointer(start: nil, count: 0)
    nonisolated(unsafe) static var receiveBuffer = UnsafeMutableRawBufferPointer(start: nil, count: 0)

    static func transmit(_ length: Int) -> UnsafeMutableRawBufferPointer {
        ensure(&transmitBuffer, length)
        return UnsafeMutableRawBufferPointer(rebasing: transmitBuffer[..<length])
    }

    static func receive(_ length: Int) -> UnsafeMutableRawBufferPointer {
        ensure(&receiveBuffer, length)
        return UnsafeMutableRawBufferPointer(rebasing: receiveBuffer[..<length])
    }

    private static func ensure(_ buffer: inout UnsafeMutableRawBufferPointer, _ length: Int) {
        guard buffer.count < length else { return }
        buffer.deallocate()
        buffer = .allocate(byteCount: max(length, 1514), alignment: 16)
    }
}
