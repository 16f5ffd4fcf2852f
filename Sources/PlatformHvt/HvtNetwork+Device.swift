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

    /// Bytes before each frame: the virtio-net header with NET_OFFLOAD.
    private var prefix: Int { riad_hvt_net_offload() != 0 ? VirtioNetHeader.length : 0 }

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
        guard let start = riad_hvt_net_transmit_buffer(prefix + length) else {
            throw RiadError(.wouldBlock, "no transmit buffer")
        }
        let used = fill(UnsafeMutableRawBufferPointer(start: start + prefix, count: length))
        guard used >= 0, used <= length else {
            throw RiadError(.invalidArgument, "filled length out of range")
        }
        guard used > 0 else { return }
        if prefix > 0 {
            VirtioNetHeader.prefix(
                UnsafeMutableRawBufferPointer(start: start, count: prefix + used), sending: metadata)
        }
        guard riad_hvt_net_send(handle.rawValue, start, prefix + used) == 0 else {
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
        while true {
            var length = 0
            guard let frame = riad_hvt_net_receive(handle.rawValue, prefix + largestFrameLength, &length)
            else { return nil }
            let bytes = UnsafeRawBufferPointer(start: frame, count: length)
            guard prefix > 0 else { return consume(bytes, .none) }
            // A header the host must not send drops the frame: never trusted.
            guard let (frame, metadata) = VirtioNetHeader.strip(bytes) else { continue }
            return consume(frame, metadata)
        }
    }
}
