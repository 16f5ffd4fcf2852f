/// One end of a simulated Ethernet cable: what one end transmits, the other
/// receives, in order. For tests of protocol stacks against each other.
///
/// ```swift
/// let (a, b) = LoopbackNetworkDevice.pair()
/// try a.transmit(copying: frame)
/// let received = try b.receiveCopy()
/// ```
///
/// It follows the `NetworkDevice` contract, with these choices: transmit
/// never throws `.wouldBlock`; a frame sent while the other end already has
/// `queueLimit` frames waiting is dropped (and counted), as a busy link
/// drops it. Unlike a real device, it allocates one array per frame queued.
public final class LoopbackNetworkDevice: NetworkDevice {
    public let macAddress: MACAddress
    public let mtu: Int
    public let handle: DeviceHandle
    /// The number of frames the other end may hold before frames are dropped.
    public let queueLimit: Int

    private let link: Link
    private let side: Int
    /// The buffer lent to `transmit`'s closure, reused for every frame.
    private var transmitBuffer: [UInt8]

    /// Frames sent (handed to the other end).
    public private(set) var framesTransmitted = 0
    /// Frames dropped because the other end's queue was full.
    public private(set) var framesDropped = 0
    /// Frames received (lent to `receive`'s closure).
    public private(set) var framesReceived = 0

    /// Two connected ends, with handles 0 and 1 and the locally administered
    /// MAC addresses 02:00:00:00:00:01 and 02:00:00:00:00:02.
    public static func pair(
        mtu: Int = 1500, queueLimit: Int = 64
    ) -> (LoopbackNetworkDevice, LoopbackNetworkDevice) {
        let link = Link()
        return (
            LoopbackNetworkDevice(
                link: link, side: 0, mac: MACAddress(rawValue: 0x0200_0000_0001), mtu: mtu,
                queueLimit: queueLimit),
            LoopbackNetworkDevice(
                link: link, side: 1, mac: MACAddress(rawValue: 0x0200_0000_0002), mtu: mtu,
                queueLimit: queueLimit)
        )
    }

    private init(link: Link, side: Int, mac: MACAddress, mtu: Int, queueLimit: Int) {
        self.link = link
        self.side = side
        self.macAddress = mac
        self.mtu = max(mtu, 0)
        self.handle = DeviceHandle(rawValue: UInt64(side))
        self.queueLimit = max(queueLimit, 0)
        self.transmitBuffer = [UInt8](repeating: 0, count: max(mtu, 0) + 14)
    }

    /// The number of frames waiting for this end to receive them.
    public var pendingFrames: Int {
        link.queues[side].count
    }

    public func transmit(length: Int, _ fill: (UnsafeMutableRawBufferPointer) -> Int) throws(RiadError) {
        guard length >= 0, length <= maximumFrameLength else {
            throw RiadError(.invalidArgument, "frame longer than the MTU allows")
        }
        let count = transmitBuffer.withUnsafeMutableBytes { buffer in
            fill(UnsafeMutableRawBufferPointer(rebasing: buffer[0..<length]))
        }
        guard count >= 0, count <= length else {
            throw RiadError(.invalidArgument, "filled length out of range")
        }
        guard count > 0 else { return }
        let peer = 1 - side
        guard link.queues[peer].count < queueLimit else {
            framesDropped += 1
            return
        }
        link.queues[peer].push(Array(transmitBuffer[0..<count]))
        framesTransmitted += 1
    }

    public func receive<Result>(_ consume: (UnsafeRawBufferPointer) -> Result) throws(RiadError) -> Result? {
        guard let frame = link.queues[side].pop() else { return nil }
        framesReceived += 1
        return frame.withUnsafeBytes { bytes in consume(bytes) }
    }
}

/// The two queues of a cable, one per receiving end. Both ends hold the
/// link (not each other), so there is no reference cycle.
private final class Link {
    var queues = [FrameQueue(), FrameQueue()]
}

/// Frames in arrival order; popping is O(1) amortised.
private struct FrameQueue {
    private var frames: [[UInt8]] = []
    private var head = 0

    var count: Int { frames.count - head }

    mutating func push(_ frame: [UInt8]) {
        frames.append(frame)
    }

    mutating func pop() -> [UInt8]? {
        guard head < frames.count else { return nil }
        let frame = frames[head]
        head += 1
        if head >= 32, head * 2 >= frames.count {
            frames.removeFirst(head)
            head = 0
        }
        return frame
    }
}
