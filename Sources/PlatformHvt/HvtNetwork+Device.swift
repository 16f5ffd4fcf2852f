import CPlatformHvt
import Riad

/// The hvt net device as Riad's `NetworkDevice`, for the direct stack.
/// Frames are built and lent in the runtime's own buffers (runtime/net.c):
/// with the tender's net ring, in the transmit arena and the receive
/// queue that the ring's entries point at, so nothing is copied on the
/// kernel's side.
extension HvtNetwork: NetworkDevice {
    public var macAddress: MACAddress { MACAddress(bytes: mac) ?? MACAddress(rawValue: 0) }

    public func transmit(length: Int, _ fill: (UnsafeMutableRawBufferPointer) -> Int) throws(RiadError) {
        guard length >= 0, length <= maximumFrameLength else {
            throw RiadError(.invalidArgument, "frame length out of range")
        }
        guard let start = riad_hvt_net_transmit_buffer(length) else {
            throw RiadError(.wouldBlock, "no transmit buffer")
        }
        let used = fill(UnsafeMutableRawBufferPointer(start: start, count: length))
        guard used >= 0, used <= length else {
            throw RiadError(.invalidArgument, "filled length out of range")
        }
        guard used > 0 else { return }
        guard riad_hvt_net_send(handle.rawValue, start, used) == 0 else {
            throw RiadError(.deviceError, "the host refused the frame")
        }
    }

    public func receive<Result>(_ consume: (UnsafeRawBufferPointer) -> Result) throws(RiadError) -> Result? {
        var length = 0
        guard let frame = riad_hvt_net_receive(handle.rawValue, maximumFrameLength, &length) else {
            return nil
        }
        return consume(UnsafeRawBufferPointer(start: frame, count: length))
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
        let length: Int?? = try? receive { frame -> Int? in
            guard frame.count <= buffer.count else { return nil }
            buffer.copyMemory(from: frame)
            return frame.count
        }
        return length ?? nil
    }
}
