import Riad
import _Concurrency

/// A TCP connection of a `DirectStack`.
public final class DirectTCPStream<Device: NetworkDevice, P: Platform>: TCPStream {
    let stack: DirectStack<Device, P>
    let id: TCPConnectionID
    public let local: SocketAddress
    public let remote: SocketAddress
    private var closed = false

    init(stack: DirectStack<Device, P>, id: TCPConnectionID) {
        self.stack = stack
        self.id = id
        local = stack.tcp.local(id) ?? SocketAddress(.unspecified, 0)
        remote = stack.tcp.remote(id) ?? SocketAddress(.unspecified, 0)
    }

    deinit { close() }

    public func read(into buffer: UnsafeMutableRawBufferPointer, until deadline: UInt64)
        async throws(RiadError)
        -> Int
    {
        while true {
            guard !closed else { throw RiadError(.closed) }
            if let count = try stack.tcp.receive(id, into: buffer) {
                // Reading opens the window: an update may be due.
                if count > 0 { stack.flush() }
                return count
            }
            try await stack.wait(for: .readable(id), until: deadline)
        }
    }

    public func write(_ bytes: UnsafeRawBufferPointer, until deadline: UInt64) async throws(RiadError) {
        var offset = 0
        while offset < bytes.count {
            guard !closed else { throw RiadError(.closed) }
            let taken = try stack.tcp.send(id, UnsafeRawBufferPointer(rebasing: bytes[offset...]))
            offset += taken
            if taken > 0 {
                stack.flush()
            } else {
                try await stack.wait(for: .writable(id), until: deadline)
            }
        }
    }

    public func shutdown() throws(RiadError) {
        guard !closed else { throw RiadError(.closed) }
        try stack.tcp.shutdown(id)
        stack.flush()
    }

    /// Whether small writes go at once (no Nagle, RFC 9293 3.7.4).
    public func setNoDelay(_ on: Bool) {
        stack.tcp.setNoDelay(id, on)
    }

    public func close() {
        guard !closed else { return }
        closed = true
        stack.tcp.close(id)
        stack.flush()
    }
}

/// A listening TCP port of a `DirectStack`.
public final class DirectTCPListener<Device: NetworkDevice, P: Platform>: TCPListener {
    let stack: DirectStack<Device, P>
    let id: TCPListenerID
    public let local: SocketAddress
    private var closed = false

    init(stack: DirectStack<Device, P>, id: TCPListenerID, port: UInt16) {
        self.stack = stack
        self.id = id
        local = SocketAddress(stack.interface.address.address, port)
    }

    deinit { close() }

    public func accept() async throws(RiadError) -> DirectTCPStream<Device, P> {
        while true {
            guard !closed else { throw RiadError(.closed) }
            if let connection = stack.tcp.accept(id) {
                return DirectTCPStream(stack: stack, id: connection)
            }
            try await stack.wait(for: .acceptable(id), until: .max)
        }
    }

    public func close() {
        guard !closed else { return }
        closed = true
        stack.tcp.closeListener(id)
        stack.flush()
    }
}

/// A bound UDP port of a `DirectStack`.
public final class DirectUDPSocket<Device: NetworkDevice, P: Platform>: UDPSocket {
    let stack: DirectStack<Device, P>
    let port: UInt16
    private var closed = false

    init(stack: DirectStack<Device, P>, port: UInt16) {
        self.stack = stack
        self.port = port
    }

    deinit { close() }

    public var local: SocketAddress { SocketAddress(stack.interface.address.address, port) }

    public func send(_ bytes: UnsafeRawBufferPointer, to destination: SocketAddress) throws(RiadError) {
        guard !closed else { throw RiadError(.closed) }
        let now = stack.platform.monotonicNanoseconds()
        switch stack.interface.sendUDP(
            bytes, from: port, to: destination, now: now, transmit: { stack.transmitFrame($0, $1) })
        {
        case .sent, .resolving: return
        case .unreachable: throw RiadError(.unreachable, "no route, or the next hop does not answer ARP")
        case .deviceBusy: throw RiadError(.wouldBlock, "the device is busy")
        case .tooBig: throw RiadError(.invalidArgument, "datagram too large")
        }
    }

    public func receive(into buffer: UnsafeMutableRawBufferPointer) async throws(RiadError) -> (
        length: Int, from: SocketAddress
    ) {
        while true {
            guard !closed else { throw RiadError(.closed) }
            if let datagram = stack.interface.udp.receive(on: port, into: buffer) { return datagram }
            try await stack.wait(for: .datagram(port), until: .max)
        }
    }

    public func close() {
        guard !closed else { return }
        closed = true
        stack.interface.udp.unbind(port)
    }
}
