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
            let headers = metadata.segmentSize > 0 ? segmentHeadersLength(start + prefix, used) : 0
            VirtioNetHeader(sending: metadata, headerLength: headers)
                .emit(into: UnsafeMutableRawBufferPointer(start: start, count: prefix))
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
            guard let header = try? VirtioNetHeader.parse(bytes) else { continue }
            return consume(UnsafeRawBufferPointer(rebasing: bytes[prefix...]), header.metadata)
        }
    }

    /// Ethernet, IPv4 and TCP headers of a frame TCP built (for the
    /// virtio-net header's hdr_len).
    private func segmentHeadersLength(_ frame: UnsafeMutablePointer<UInt8>, _ length: Int) -> Int {
        guard length >= 14 + 20 + 20 else { return length }
        let ip = 14 + Int(frame[14] & 0x0f) * 4
        guard length >= ip + 20 else { return length }
        return ip + Int(frame[ip + 12] >> 4) * 4
    }
}

extension HvtNetwork {
    /// Sends a copy of `frame`; false if it was refused (the test kernels'
    /// frame-at-a-time interface, the same as the unix tap's).
    public func write(_ frame: UnsafeRawBufferPointer) -> Bool {
        do throws(RiadError) {
            try transmit(copying: frame)
            return true
        } catch {
            return false
        }
    }

    /// Copies the next received frame into `buffer`; its length, or nil
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
}
