import Riad

/// The UDP ports bound on a host and the datagrams waiting on each
/// (RFC 768). Each port keeps a bounded queue: a datagram that arrives
/// when its port's queue is full is dropped and counted, as a socket's
/// receive buffer overflows on any system.
public struct UDPEndpoints {
    /// One received datagram: its sender and payload.
    struct Datagram {
        let from: SocketAddress
        let to: IPv4Address
        let payload: [UInt8]
    }

    struct Binding {
        let port: UInt16
        var queue: [Datagram] = []
        var queuedBytes = 0
    }

    /// Limits of each port's queue.
    public var queueCapacity = 64
    public var queueByteCapacity = 256 * 1024
    private var bindings: [Binding] = []
    private var nextEphemeral: UInt16
    /// Datagrams dropped because their port's queue was full.
    public private(set) var dropped: UInt64 = 0

    /// `seed` picks where the search for ephemeral ports starts (RFC 6056:
    /// a port that is hard to guess is a defence against blind spoofing).
    public init(seed: UInt64 = 0) {
        nextEphemeral = 49152 &+ UInt16(truncatingIfNeeded: seed % 16384)
    }

    public func isBound(_ port: UInt16) -> Bool {
        bindings.contains { $0.port == port }
    }

    /// Binds `port`, or a free ephemeral port (49152-65535, RFC 6335) if it
    /// is 0; returns the port bound.
    ///
    /// - Throws: `.addressInUse`; `.exhausted` if no ephemeral port is free.
    public mutating func bind(_ port: UInt16) throws(RiadError) -> UInt16 {
        if port != 0 {
            guard !isBound(port) else { throw RiadError(.addressInUse, "UDP port is bound") }
            bindings.append(Binding(port: port))
            return port
        }
        for _ in 0..<16384 {
            let candidate = nextEphemeral
            nextEphemeral = nextEphemeral == 65535 ? 49152 : nextEphemeral + 1
            if !isBound(candidate) {
                bindings.append(Binding(port: candidate))
                return candidate
            }
        }
        throw RiadError(.exhausted, "no free UDP port")
    }

    /// Unbinds `port`, dropping what waits on it.
    public mutating func unbind(_ port: UInt16) {
        bindings.removeAll { $0.port == port }
    }

    /// Queues a datagram for `port`; false if the port is not bound (the
    /// caller answers port unreachable) or its queue is full (dropped).
    mutating func deliver(
        _ payload: UnsafeRawBufferPointer, to port: UInt16, address: IPv4Address, from: SocketAddress
    ) -> Bool? {
        guard let index = bindings.firstIndex(where: { $0.port == port }) else { return nil }
        guard bindings[index].queue.count < queueCapacity,
            bindings[index].queuedBytes + payload.count <= queueByteCapacity
        else {
            dropped &+= 1
            return false
        }
        bindings[index].queue.append(Datagram(from: from, to: address, payload: Array(payload)))
        bindings[index].queuedBytes += payload.count
        return true
    }

    /// Whether a datagram waits on `port`.
    public func hasDatagram(on port: UInt16) -> Bool {
        bindings.first { $0.port == port }.map { !$0.queue.isEmpty } ?? false
    }

    /// Takes the oldest datagram waiting on `port`, copying up to
    /// `buffer.count` bytes of it; nil if none waits.
    public mutating func receive(on port: UInt16, into buffer: UnsafeMutableRawBufferPointer) -> (
        length: Int, from: SocketAddress
    )? {
        guard let index = bindings.firstIndex(where: { $0.port == port }),
            !bindings[index].queue.isEmpty
        else { return nil }
        let datagram = bindings[index].queue.removeFirst()
        bindings[index].queuedBytes -= datagram.payload.count
        let length = min(buffer.count, datagram.payload.count)
        if length > 0 {
            datagram.payload.withUnsafeBytes { bytes in
                buffer.baseAddress!.copyMemory(from: bytes.baseAddress!, byteCount: length)
            }
        }
        return (length, datagram.from)
    }
}
