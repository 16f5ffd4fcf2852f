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

    public func transmit(length: Int, _ fill: (UnsafeMutableRawBufferPointer) -> Int) throws(RiadError) {
        try transmit(length: length, metadata: .none, fill)
    }

    public func transmit(
        length: Int, metadata: FrameMetadata, _ fill: (UnsafeMutableRawBufferPointer) -> Int
    ) throws(RiadError) {
        let frame = try buildFrame(
            length: length, metadata: metadata,
            in: { (size) throws(RiadError) -> UnsafeMutableRawBufferPointer in FrameBuffers.transmit(size) },
            fill)
        guard let frame else { return }
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
        let buffer = FrameBuffers.receive(hostPrefix + largestFrameLength)
        while true {
            guard let length = receiveFromHost(into: buffer) else { return nil }
            guard let (frame, metadata) = openFrame(UnsafeRawBufferPointer(rebasing: buffer[..<length]))
            else {
                continue
            }
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
