/// A bounded first-in first-out queue of frames, in storage allocated once.
///
/// riad-slirp's queue of frames for the kernel: libslirp hands over a frame
/// whenever it has one, and the socket to the tender takes it only while its
/// buffer has room. The queue holds the rest in order until the socket can
/// take them; when it is full a frame is dropped and counted, as a full
/// interface queue drops it, and the sender's TCP sends it again.
public struct FrameQueue {
    /// Frames the queue can hold.
    public let capacity: Int
    /// The longest frame it accepts.
    public let maximumFrame: Int
    private var storage: [UInt8]
    private var lengths: [Int]
    private var head = 0
    public private(set) var count = 0
    /// Frames refused because the queue was full or they were too long.
    public private(set) var dropped: UInt64 = 0

    public init(capacity: Int, maximumFrame: Int) {
        precondition(capacity > 0 && maximumFrame > 0)
        self.capacity = capacity
        self.maximumFrame = maximumFrame
        storage = [UInt8](repeating: 0, count: capacity * maximumFrame)
        lengths = [Int](repeating: 0, count: capacity)
    }

    public var isEmpty: Bool { count == 0 }

    /// Appends a copy of `frame`; false (and counted) if it was dropped.
    @discardableResult
    public mutating func append(_ frame: UnsafeRawBufferPointer) -> Bool {
        guard count < capacity, frame.count <= maximumFrame else {
            dropped += 1
            return false
        }
        let slot = (head + count) % capacity
        storage.withUnsafeMutableBytes { bytes in
            let start = bytes.baseAddress! + slot * maximumFrame
            if let source = frame.baseAddress { start.copyMemory(from: source, byteCount: frame.count) }
        }
        lengths[slot] = frame.count
        count += 1
        return true
    }

    /// Lends the oldest frame to `body`; nil if the queue is empty. The frame
    /// stays queued until `removeFirst`.
    public func withFirst<Result>(_ body: (UnsafeRawBufferPointer) -> Result) -> Result? {
        guard count > 0 else { return nil }
        return storage.withUnsafeBytes { bytes in
            body(
                UnsafeRawBufferPointer(
                    rebasing: bytes[(head * maximumFrame)..<(head * maximumFrame + lengths[head])]))
        }
    }

    /// Removes the oldest frame, if any.
    public mutating func removeFirst() {
        guard count > 0 else { return }
        head = (head + 1) % capacity
        count -= 1
    }
}
