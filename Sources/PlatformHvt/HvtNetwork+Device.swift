import CPlatformHvt
import Riad

/// The hvt net device as Riad's `NetworkDevice`, for the direct stack.
/// Frames are built and lent in the runtime's own buffers (runtime/net.c):
/// with the tender's net ring, in the transmit arena and the receive
/// queue that the ring's entries point at, so nothing is copied on the
/// kernel's side. With NET_OFFLOAD each frame the host sees starts with a
/// virtio-net header, which this device writes and reads for the stack.
extension HvtNetwork: NetworkDevice {
    public var macAddress: MACAddress { MACAddress(bytes: mac) ?? MACAddress(rawValue: 0) }

    public var offloads: NetworkOffloads { riad_hvt_net_offload() != 0 ? .tcpSegmentation : [] }

    public func transmit(length: Int, _ fill: (UnsafeMutableRawBufferPointer) -> Int) throws(RiadError) {
        try transmit(length: length, metadata: .none, fill)
    }

    public func transmit(
        length: Int, metadata: FrameMetadata, _ fill: (UnsafeMutableRawBufferPointer) -> Int
    ) throws(RiadError) {
        let frame = try buildFrame(
            length: length, metadata: metadata,
            in: { (size) throws(RiadError) -> UnsafeMutableRawBufferPointer in
                guard let start = riad_hvt_net_transmit_buffer(size) else {
                    throw RiadError(.wouldBlock, "no transmit buffer")
                }
                return UnsafeMutableRawBufferPointer(start: start, count: size)
            }, fill)
        guard let frame else { return }
        let start = frame.baseAddress!.assumingMemoryBound(to: UInt8.self)
        guard riad_hvt_net_send(handle.rawValue, start, frame.count) == 0 else {
            throw RiadError(.deviceError, "the host refused the frame")
        }
    }

    public func receive<Result>(_ consume: (UnsafeRawBufferPointer) -> Result) throws(RiadError) -> Result? {
        try receive { frame, _ in consume(frame) }
    }

    public func receive<Result>(_ consume: (UnsafeRawBufferPointer, FrameMetadata) -> Result)
        throws(RiadError) -> Result?
    {
        while true {
            var length = 0
            guard let frame = riad_hvt_net_receive(handle.rawValue, hostPrefix + largestFrameLength, &length)
            else { return nil }
            guard let (bytes, metadata) = openFrame(UnsafeRawBufferPointer(start: frame, count: length))
            else { continue }
            return consume(bytes, metadata)
        }
    }
}
