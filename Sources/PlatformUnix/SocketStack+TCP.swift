import CPlatformUnix
import Riad
import RiadNet
import _Concurrency

/// A TCP connection of a `SocketStack`: a connected host socket.
public final class SocketTCPStream: TCPStream {
    let stack: SocketStack
    /// The host socket; -1 once closed.
    private(set) var fd: Int32
    public let local: SocketAddress
    public let remote: SocketAddress
    private var shutDown = false

    init(stack: SocketStack, fd: Int32) {
        self.stack = stack
        self.fd = fd
        local = stack.address(of: fd, peer: false) ?? SocketAddress(.unspecified, 0)
        remote = stack.address(of: fd, peer: true) ?? SocketAddress(.unspecified, 0)
    }

    deinit { close() }

    public func read(into buffer: UnsafeMutableRawBufferPointer, until deadline: UInt64)
        async throws(RiadError)
        -> Int
    {
        while true {
            guard fd >= 0 else { throw RiadError(.closed) }
            let count = riad_unix_socket_receive(fd, buffer.baseAddress, buffer.count)
            if count >= 0 {
                await stack.yieldNowAndThen()
                return count
            }
            let code = riad_unix_errno()
            guard code == EAGAIN else { throw RiadError(socketError: code, "reading") }
            try await stack.wait(for: fd, until: deadline)
        }
    }

    public func write(_ bytes: UnsafeRawBufferPointer, until deadline: UInt64) async throws(RiadError) {
        guard let base = bytes.baseAddress else { return }
        var offset = 0
        while offset < bytes.count {
            guard fd >= 0 else { throw RiadError(.closed) }
            guard !shutDown else { throw RiadError(.closed, "shut down for writing") }
            let sent = riad_unix_socket_send(fd, base + offset, bytes.count - offset)
            if sent > 0 {
                offset += sent
                continue
            }
            let code = riad_unix_errno()
            guard sent == 0 || code == EAGAIN else { throw RiadError(socketError: code, "writing") }
            try await stack.wait(for: fd, until: deadline)
        }
        await stack.yieldNowAndThen()
    }

    public func shutdown() throws(RiadError) {
        guard fd >= 0 else { throw RiadError(.closed) }
        guard !shutDown else { return }
        guard riad_unix_socket_shutdown_write(fd) == 0 else {
            throw RiadError(socketError: riad_unix_errno(), "shutting down")
        }
        shutDown = true
        // A writer waiting for room must stop now.
        stack.release(fd)
    }

    /// Whether small writes go at once (TCP_NODELAY: no Nagle, RFC 9293
    /// 3.7.4). Off by default, as in the host's TCP.
    public func setNoDelay(_ on: Bool) {
        guard fd >= 0 else { return }
        // It fails only for a socket that is not TCP: never here.
        _ = riad_unix_socket_set_no_delay(fd, on ? 1 : 0)
    }

    /// Closes the socket. Linux does what `TCPStream.close` promises:
    /// queued bytes go out before a FIN, unless received bytes were left
    /// unread, and then the peer gets a reset.
    public func close() {
        guard fd >= 0 else { return }
        stack.release(fd)
        riad_unix_socket_close(fd)
        fd = -1
    }
}

/// A listening TCP port of a `SocketStack`.
public final class SocketTCPListener: TCPListener {
    let stack: SocketStack
    /// The host socket; -1 once closed.
    private(set) var fd: Int32
    public let local: SocketAddress

    init(stack: SocketStack, fd: Int32, local: SocketAddress?) {
        self.stack = stack
        self.fd = fd
        self.local = local ?? SocketAddress(stack.bindAddress, 0)
    }

    deinit { close() }

    public func accept() async throws(RiadError) -> SocketTCPStream {
        while true {
            guard fd >= 0 else { throw RiadError(.closed) }
            let connection = riad_unix_socket_accept(fd)
            if connection >= 0 {
                try stack.watch(connection)
                let stream = SocketTCPStream(stack: stack, fd: connection)
                await stack.yieldNowAndThen()
                return stream
            }
            let code = riad_unix_errno()
            switch code {
            case EAGAIN:
                try await stack.wait(for: fd, until: .max)
            // A connection that failed before it was taken, or a network
            // error already pending on it: accept(2) says to try again.
            case ECONNABORTED, EPROTO, ENETDOWN, ENOPROTOOPT, EHOSTDOWN, ENONET, EHOSTUNREACH, EOPNOTSUPP,
                ENETUNREACH:
                continue
            default:
                throw RiadError(socketError: code, "accepting")
            }
        }
    }

    /// Stops listening; Linux resets the connections not yet accepted.
    public func close() {
        guard fd >= 0 else { return }
        stack.release(fd)
        riad_unix_socket_close(fd)
        fd = -1
    }
}

// A connection may be handed to the task that serves it; the kernel has
// one thread, so it is still touched by one thread only.
extension SocketTCPStream: @unchecked Sendable {}
extension SocketTCPListener: @unchecked Sendable {}
