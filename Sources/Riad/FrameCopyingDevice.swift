/// A network device whose host interface copies whole frames (Solo5's
/// NET_WRITE and NET_READ, a tap's write and read): the lending
/// `NetworkDevice` contract on top of it, through two kernel buffers, one
/// for each direction (a reply is built while the frame it answers is
/// still lent). Platforms declare the conformance; this extension does the
/// rest.
public protocol FrameCopyingDevice: NetworkDevice {
    /// The MAC address's six octets.
    var mac: [UInt8] { get }
    /// Sends one frame; false if the host refused it.
    func write(_ frame: UnsafeRawBufferPointer) -> Bool
    /// Receives one frame into `buffer` (at least `maximumFrameLength`
    /// bytes); its length, or nil when none is waiting.
    func read(into buffer: UnsafeMutableRawBufferPointer) -> Int?
}

extension FrameCopyingDevice {
    public var macAddress: MACAddress { MACAddress(bytes: mac) ?? MACAddress(rawValue: 0) }

    public func transmit(length: Int, _ fill: (UnsafeMutableRawBufferPointer) -> Int) throws(RiadError) {
        guard length >= 0, length <= maximumFrameLength else {
            throw RiadError(.invalidArgument, "frame length out of range")
        }
        let buffer = FrameBuffers.transmit(length)
        let used = fill(buffer)
        guard used >= 0, used <= length else {
            throw RiadError(.invalidArgument, "filled length out of range")
        }
        guard used > 0 else { return }
        guard write(UnsafeRawBufferPointer(rebasing: buffer[..<used])) else {
            throw RiadError(.deviceError, "the host refused the frame")
        }
    }

    public func receive<Result>(_ consume: (UnsafeRawBufferPointer) -> Result) throws(RiadError) -> Result? {
        let buffer = FrameBuffers.receive(maximumFrameLength)
        guard let length = read(into: buffer) else { return nil }
        return consume(UnsafeRawBufferPointer(rebasing: buffer[..<length]))
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
