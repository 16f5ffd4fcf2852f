import Foundation
import Riad
import RiadNet
import RiadTestSupport

/// A sink at the other end of the fake stack: Telegraf's socket listener
/// (collects the bytes) or InfluxDB's HTTP write endpoint (answers each
/// request with `status`). `isUp` false refuses connections and resets the
/// open ones at their next write.
final class FakeSink: @unchecked Sendable {
    enum Mode {
        case tcp
        case http
    }

    let mode: Mode
    var isUp = true
    /// Virtual time a failing connection attempt takes (a SYN that times out).
    var failedConnectDuration: UInt64 = 0
    /// The status InfluxDB answers (HTTP mode).
    var status = 204
    /// Monotonic times of every connection attempt.
    var connectAttempts: [UInt64] = []
    /// Every byte received over TCP, across connections.
    var received: [UInt8] = []
    /// HTTP requests answered 2xx: head text and body.
    var requests: [(head: String, body: [UInt8])] = []
    /// The status of every HTTP request answered, in order.
    var answered: [Int] = []
    var streams: [FakeStream] = []

    init(mode: Mode) {
        self.mode = mode
    }

    /// The line protocol received: TCP bytes, or the bodies of requests
    /// answered 2xx.
    var lineProtocol: String {
        switch mode {
        case .tcp: return String(decoding: received, as: UTF8.self)
        case .http: return requests.map { String(decoding: $0.body, as: UTF8.self) }.joined()
        }
    }
}

final class FakeStream: TCPStream, @unchecked Sendable {
    let local = SocketAddress(IPv4Address(10, 0, 0, 2), 49152)
    let remote: SocketAddress
    let sink: FakeSink
    var closed = false
    /// Bytes the server has sent us, not yet read.
    private var inbound: [UInt8] = []
    /// Bytes of the request being received (HTTP mode).
    private var pending: [UInt8] = []

    init(remote: SocketAddress, sink: FakeSink) {
        self.remote = remote
        self.sink = sink
    }

    func read(into buffer: UnsafeMutableRawBufferPointer, until deadline: UInt64) async throws(RiadError)
        -> Int
    {
        if closed { throw RiadError(.closed) }
        guard !inbound.isEmpty else {
            if !sink.isUp { throw RiadError(.reset) }
            throw RiadError(.timedOut, "the fake server has nothing to send")
        }
        let count = min(buffer.count, inbound.count)
        buffer.copyBytes(from: inbound[0..<count])
        inbound.removeFirst(count)
        return count
    }

    func write(_ bytes: UnsafeRawBufferPointer, until deadline: UInt64) async throws(RiadError) {
        if closed { throw RiadError(.closed) }
        guard sink.isUp else { throw RiadError(.reset) }
        switch sink.mode {
        case .tcp:
            sink.received.append(contentsOf: bytes)
        case .http:
            pending.append(contentsOf: bytes)
            serveRequests()
        }
    }

    /// Answers every complete request in `pending`.
    private func serveRequests() {
        while let end = pending.firstRange(of: Array("\r\n\r\n".utf8))?.upperBound {
            let head = String(decoding: pending[..<end], as: UTF8.self)
            let lengthLine = head.split(separator: "\r\n").first {
                $0.lowercased().hasPrefix("content-length:")
            }
            let length =
                lengthLine.flatMap { Int($0.dropFirst(15).trimmingCharacters(in: .whitespaces)) } ?? 0
            guard pending.count >= end + length else { return }
            let body = Array(pending[end..<(end + length)])
            pending.removeFirst(end + length)
            let status = sink.status
            sink.answered.append(status)
            if (200..<300).contains(status) { sink.requests.append((head, body)) }
            let message = status == 204 ? "" : "{\"error\":\"fake\"}"
            let reason = status == 204 ? "No Content" : "Error"
            var response = "HTTP/1.1 \(status) \(reason)\r\nX-Influxdb-Version: 1.8.10\r\n"
            if status != 204 {
                response += "Content-Type: application/json\r\nContent-Length: \(message.utf8.count)\r\n"
            }
            response += "\r\n" + message
            inbound.append(contentsOf: response.utf8)
        }
    }

    func shutdown() throws(RiadError) {}

    func close() { closed = true }
}

final class FakeListener: TCPListener {
    let local = SocketAddress(IPv4Address(10, 0, 0, 2), 80)
    func accept() async throws(RiadError) -> FakeStream { throw RiadError(.unsupported) }
    func close() {}
}

final class FakeDatagrams: UDPSocket {
    let local = SocketAddress(IPv4Address(10, 0, 0, 2), 5353)
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

/// A `NetworkStack` whose only peer is `sink`, on the virtual loop.
final class FakeStack: NetworkStack, @unchecked Sendable {
    let executor: VirtualExecutor
    let sink: FakeSink
    /// Names `resolve` knows.
    var names: [String: IPv4Address] = ["influx.example": IPv4Address(10, 0, 0, 1)]

    init(executor: VirtualExecutor, sink: FakeSink) {
        self.executor = executor
        self.sink = sink
    }

    var ipv4: IPv4CIDR? { nil }

    func declareArguments(_ arguments: inout RuntimeArguments) {}
    func configure(_ options: Void, from values: RuntimeArguments.Values) throws(RiadError) {}
    func run<Result>(_ body: @escaping () async -> Result) async -> Result { await body() }

    func listen(port: UInt16, backlog: Int) throws(RiadError) -> FakeListener {
        throw RiadError(.unsupported)
    }

    func connect(to remote: SocketAddress) async throws(RiadError) -> FakeStream {
        sink.connectAttempts.append(executor.backend.time)
        guard sink.isUp else {
            if sink.failedConnectDuration > 0 {
                try await executor.loop.sleep(nanoseconds: sink.failedConnectDuration)
                throw RiadError(.timedOut)
            }
            throw RiadError(.refused)
        }
        let stream = FakeStream(remote: remote, sink: sink)
        sink.streams.append(stream)
        return stream
    }

    func bindUDP(port: UInt16) throws(RiadError) -> FakeDatagrams { throw RiadError(.unsupported) }

    func resolve(_ name: String) async throws(RiadError) -> IPv4Address {
        if let address = IPv4Address(name) { return address }
        guard let address = names[name] else { throw RiadError(.notFound) }
        return address
    }
}
