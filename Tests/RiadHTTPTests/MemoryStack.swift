// An in-memory NetworkStack for the tests: connections are pairs of byte
// queues, waits are continuations resumed when data (or space) arrives,
// deadlines are timers on the virtual loop. Everything runs on the test's
// one thread, as on a kernel.
import Riad
import RiadHTTP
import RiadNet
import RiadTestSupport
import _Concurrency

/// Tasks suspended until something happens, or a deadline, or cancellation.
final class WaitQueue: @unchecked Sendable {
    private var waiters: [UnsafeContinuation<Void, Never>] = []

    func wakeAll() {
        let waiting = waiters
        waiters = []
        for waiter in waiting { waiter.resume() }
    }

    /// Suspends until `wakeAll`, `deadline` (`.timedOut`) or cancellation
    /// (`.cancelled`). The caller checks its condition again after.
    func wait(until deadline: UInt64, on executor: VirtualExecutor) async throws(RiadError) {
        guard deadline > executor.backend.time else { throw RiadError(.timedOut) }
        final class Flag: @unchecked Sendable { var timedOut = false }
        let flag = Flag()
        var timer: Task<Void, Never>?
        if deadline != .max {
            let loop = executor.loop
            timer = Task(executorPreference: executor) {
                do throws(RiadError) {
                    try await loop.sleep(until: deadline)
                    flag.timedOut = true
                    self.wakeAll()
                } catch {}
            }
        }
        await withTaskCancellationHandler {
            await withUnsafeContinuation { (continuation: UnsafeContinuation<Void, Never>) in
                if Task.isCancelled {
                    continuation.resume()
                } else {
                    waiters.append(continuation)
                }
            }
        } onCancel: {
            self.wakeAll()
        }
        timer?.cancel()
        if Task.isCancelled { throw RiadError(.cancelled) }
        if flag.timedOut { throw RiadError(.timedOut) }
    }
}

/// One end of an in-memory TCP connection.
final class MemoryStream: TCPStream, @unchecked Sendable {
    let local: SocketAddress
    let remote: SocketAddress
    private let executor: VirtualExecutor
    weak var peer: MemoryStream?
    /// Bytes the peer sent, not read yet; at most `capacity` (the peer's
    /// writes wait for room: backpressure).
    private(set) var inbox: [UInt8] = []
    let capacity: Int
    /// The peer shut down or closed: end of stream after `inbox`.
    private var peerFinished = false
    private var wasReset = false
    private(set) var isClosed = false
    private(set) var isShutDown = false
    /// Every byte this end has written.
    private(set) var sent: [UInt8] = []
    private let readable = WaitQueue()
    private let writable = WaitQueue()

    init(local: SocketAddress, remote: SocketAddress, capacity: Int, executor: VirtualExecutor) {
        self.local = local
        self.remote = remote
        self.capacity = capacity
        self.executor = executor
    }

    func read(into buffer: UnsafeMutableRawBufferPointer, until deadline: UInt64) async throws(RiadError)
        -> Int
    {
        while true {
            if isClosed { throw RiadError(.closed) }
            if wasReset { throw RiadError(.reset) }
            if !inbox.isEmpty {
                let count = min(buffer.count, inbox.count)
                buffer.copyBytes(from: inbox[..<count])
                inbox.removeFirst(count)
                peer?.writable.wakeAll()
                return count
            }
            if peerFinished { return 0 }
            try await readable.wait(until: deadline, on: executor)
        }
    }

    func write(_ bytes: UnsafeRawBufferPointer, until deadline: UInt64) async throws(RiadError) {
        var offset = 0
        while offset < bytes.count {
            if isClosed || isShutDown { throw RiadError(.closed) }
            if wasReset { throw RiadError(.reset) }
            guard let peer, !peer.isClosed else { throw RiadError(.reset) }
            let room = peer.capacity - peer.inbox.count
            if room > 0 {
                let count = min(room, bytes.count - offset)
                let chunk = UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + count])
                peer.inbox.append(contentsOf: chunk)
                sent.append(contentsOf: chunk)
                offset += count
                peer.readable.wakeAll()
            } else {
                try await writable.wait(until: deadline, on: executor)
            }
        }
    }

    func shutdown() throws(RiadError) {
        if isClosed { throw RiadError(.closed) }
        isShutDown = true
        peer?.peerFinished = true
        peer?.readable.wakeAll()
    }

    /// As TCP does: unread data makes the close a reset (RFC 9293 3.6).
    func close() {
        guard !isClosed else { return }
        isClosed = true
        if let peer {
            if inbox.isEmpty { peer.peerFinished = true } else { peer.wasReset = true }
            peer.readable.wakeAll()
            peer.writable.wakeAll()
        }
        inbox = []
        readable.wakeAll()
        writable.wakeAll()
    }
}

final class MemoryListener: TCPListener, @unchecked Sendable {
    let local: SocketAddress
    private let executor: VirtualExecutor
    private let network: MemoryNetwork
    let backlog: Int
    fileprivate var waiting: [MemoryStream] = []
    private(set) var isClosed = false
    private let acceptable = WaitQueue()

    init(local: SocketAddress, backlog: Int, network: MemoryNetwork, executor: VirtualExecutor) {
        self.local = local
        self.backlog = backlog
        self.network = network
        self.executor = executor
    }

    func accept() async throws(RiadError) -> MemoryStream {
        while true {
            if isClosed { throw RiadError(.closed) }
            if !waiting.isEmpty { return waiting.removeFirst() }
            try await acceptable.wait(until: .max, on: executor)
        }
    }

    fileprivate func enqueue(_ stream: MemoryStream) -> Bool {
        guard !isClosed, waiting.count < backlog else { return false }
        waiting.append(stream)
        acceptable.wakeAll()
        return true
    }

    func close() {
        guard !isClosed else { return }
        isClosed = true
        for stream in waiting { stream.close() }
        waiting = []
        network.listeners[local.port] = nil
        acceptable.wakeAll()
    }
}

/// UDP is not used by HTTP: binding fails.
final class MemoryDatagrams: UDPSocket {
    let local = SocketAddress(.unspecified, 0)
    func send(_ bytes: UnsafeRawBufferPointer, to destination: SocketAddress) throws(RiadError) {
        throw RiadError(.unsupported)
    }
    func receive(into buffer: UnsafeMutableRawBufferPointer) async throws(RiadError) -> (
        length: Int, from: SocketAddress
    ) {
        throw RiadError(.unsupported)
    }
    func close() {}
}

/// One host with one address: clients connect to its own listeners.
final class MemoryNetwork: NetworkStack, @unchecked Sendable {
    typealias Stream = MemoryStream
    typealias Listener = MemoryListener
    typealias Datagrams = MemoryDatagrams
    typealias Options = Void

    let executor: VirtualExecutor
    let address = IPv4Address(10, 0, 0, 2)
    var ipv4: IPv4CIDR? { IPv4CIDR(address: address, prefixLength: 24) }
    /// Names `resolve` knows.
    var names: [String: IPv4Address] = [:]
    /// Each end's receive buffer, in bytes.
    var capacity = 65_536
    /// How long `connect` takes: 0, or `.max` for a peer that never answers.
    var connectDelay: UInt64 = 0
    fileprivate var listeners: [UInt16: MemoryListener] = [:]
    private var nextPort: UInt16 = 49_152
    /// Every client end created, in order.
    private(set) var clientStreams: [MemoryStream] = []

    init(executor: VirtualExecutor) {
        self.executor = executor
    }

    func declareArguments(_ arguments: inout RuntimeArguments) {}
    func configure(_ options: Void, from values: RuntimeArguments.Values) throws(RiadError) {}

    func run<Result>(_ body: @escaping () async -> Result) async -> Result {
        await body()
    }

    func listen(port: UInt16, backlog: Int) throws(RiadError) -> MemoryListener {
        guard port != 0 else { throw RiadError(.invalidArgument) }
        guard listeners[port] == nil else { throw RiadError(.addressInUse) }
        let listener = MemoryListener(
            local: SocketAddress(address, port), backlog: backlog, network: self, executor: executor)
        listeners[port] = listener
        return listener
    }

    func connect(to remote: SocketAddress) async throws(RiadError) -> MemoryStream {
        if connectDelay > 0 {
            let never = WaitQueue()
            let deadline = connectDelay == .max ? .max : executor.backend.time + connectDelay
            do { try await never.wait(until: deadline, on: executor) } catch {
                if error.kind != .timedOut { throw error }
            }
        }
        guard remote.address == address, let listener = listeners[remote.port] else {
            throw RiadError(.refused)
        }
        let local = SocketAddress(address, nextPort)
        nextPort &+= 1
        let client = MemoryStream(local: local, remote: remote, capacity: capacity, executor: executor)
        let server = MemoryStream(local: remote, remote: local, capacity: capacity, executor: executor)
        client.peer = server
        server.peer = client
        // The listener holds the server end; the client end is the caller's.
        guard listener.enqueue(server) else { throw RiadError(.refused) }
        clientStreams.append(client)
        return client
    }

    func bindUDP(port: UInt16) throws(RiadError) -> MemoryDatagrams {
        throw RiadError(.unsupported)
    }

    func resolve(_ name: String) async throws(RiadError) -> IPv4Address {
        if let address = IPv4Address(name) { return address }
        guard let address = names[name] else { throw RiadError(.notFound) }
        return address
    }
}

/// The virtual loop's clocks, for the server and client.
struct VirtualClock: HTTPClock, @unchecked Sendable {
    let executor: VirtualExecutor
    /// The wall clock at virtual time 0: 1994-11-06 08:49:37 UTC.
    var wallClockAtZero: UInt64 = 784_111_777 * 1_000_000_000

    func monotonicNanoseconds() -> UInt64 { executor.backend.time }
    func wallClockNanoseconds() -> UInt64 { wallClockAtZero + executor.backend.time }
    func sleep(until deadline: UInt64) async throws(RiadError) {
        try await executor.loop.sleep(until: deadline)
    }
}
