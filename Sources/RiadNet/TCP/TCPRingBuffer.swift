// A fixed-capacity byte ring: a connection's send buffer and its receive
// buffer. The storage is allocated once per connection and never grows;
// every operation afterwards copies bytes in place (the array is uniquely
// owned by its connection, so writes do not copy it).

/// Bytes in a ring of fixed capacity: `count` bytes from `start`, wrapping.
///
/// The receive side also writes ahead of the data, into the free space
/// (`write(_:atOffset:)`), where out-of-order segments wait for the hole
/// before them to fill; `extend(by:)` then takes them in.
struct TCPRingBuffer {
    private var storage: [UInt8]
    private var start = 0
    /// Bytes held.
    private(set) var count = 0

    /// A ring of `capacity` bytes, allocated now.
    init(capacity: Int) {
        storage = [UInt8](repeating: 0, count: Swift.max(0, capacity))
    }

    /// No storage: the state of a free connection slot.
    static let empty = TCPRingBuffer(capacity: 0)

    var capacity: Int { storage.count }
    var freeSpace: Int { storage.count - count }
    var isEmpty: Bool { count == 0 }

    /// Appends as much of `bytes` as fits; returns how many.
    mutating func append(_ bytes: UnsafeRawBufferPointer) -> Int {
        let taken = Swift.min(bytes.count, freeSpace)
        guard taken > 0 else { return 0 }
        write(UnsafeRawBufferPointer(rebasing: bytes[0..<taken]), atOffset: 0)
        count += taken
        return taken
    }

    /// Copies `bytes` into the free space, `offset` bytes after the data
    /// held, without counting them as held. `offset + bytes.count` must not
    /// exceed `freeSpace`.
    mutating func write(_ bytes: UnsafeRawBufferPointer, atOffset offset: Int) {
        precondition(offset >= 0 && offset + bytes.count <= freeSpace, "ring write out of range")
        guard !bytes.isEmpty else { return }
        let capacity = storage.count
        var position = (start + count + offset) % capacity
        var done = 0
        storage.withUnsafeMutableBytes { ring in
            while done < bytes.count {
                let chunk = Swift.min(bytes.count - done, capacity - position)
                UnsafeMutableRawBufferPointer(rebasing: ring[position..<position + chunk]).copyMemory(
                    from: UnsafeRawBufferPointer(rebasing: bytes[done..<done + chunk]))
                done += chunk
                position = 0
            }
        }
    }

    /// Counts `length` bytes written ahead with `write(_:atOffset:)` as held.
    mutating func extend(by length: Int) {
        precondition(length >= 0 && length <= freeSpace, "ring extend out of range")
        count += length
    }

    /// Copies `destination.count` bytes from `offset` bytes into the data
    /// held, leaving them held. The range must lie within `count`.
    func copy(fromOffset offset: Int, into destination: UnsafeMutableRawBufferPointer) {
        precondition(offset >= 0 && offset + destination.count <= count, "ring read out of range")
        guard !destination.isEmpty else { return }
        let capacity = storage.count
        var position = (start + offset) % capacity
        var done = 0
        storage.withUnsafeBytes { ring in
            while done < destination.count {
                let chunk = Swift.min(destination.count - done, capacity - position)
                UnsafeMutableRawBufferPointer(rebasing: destination[done..<done + chunk]).copyMemory(
                    from: UnsafeRawBufferPointer(rebasing: ring[position..<position + chunk]))
                done += chunk
                position = 0
            }
        }
    }

    /// Copies up to `destination.count` bytes from the front and removes
    /// them; returns how many.
    mutating func read(into destination: UnsafeMutableRawBufferPointer) -> Int {
        let length = Swift.min(destination.count, count)
        guard length > 0 else { return 0 }
        copy(fromOffset: 0, into: UnsafeMutableRawBufferPointer(rebasing: destination[0..<length]))
        discard(length)
        return length
    }

    /// Removes `length` bytes (at most `count`) from the front.
    mutating func discard(_ length: Int) {
        let removed = Swift.min(Swift.max(0, length), count)
        guard removed > 0 else { return }
        // `start` does not go back to 0 when the ring empties: bytes
        // written ahead of the data are where they are.
        start = (start + removed) % storage.count
        count -= removed
    }

    /// Forgets every byte held, and any written ahead; the storage stays.
    mutating func removeAll() {
        start = 0
        count = 0
    }
}
