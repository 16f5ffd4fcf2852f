import Foundation
import XCTest

/// The socket stack (host sockets, unix target) end to end: the test kernel
/// `socket-echo` runs as an unprivileged process, and the test talks to it
/// with its own sockets on 127.0.0.1.
final class SocketStackTests: XCTestCase {
    /// 1 MB in uneven pieces, echoed whole and in order.
    func testEchoesAMegabyte() throws {
        let kernel = try EchoKernel.start(["--connections=1"])
        let data = pattern(1 << 20, seed: 1)
        let client = try TestSocket.connect(port: kernel.port)
        let start = Date()
        let echoed = try client.echo(data, pieces: [1, 1000, 4096, 65_536, 7, 200_000])
        let seconds = Date().timeIntervalSince(start)
        client.close()
        XCTAssertEqual(echoed.count, data.count)
        XCTAssertTrue(echoed == data, "the echo differs from what was sent")
        print(
            "socket stack: 1 MB echoed in \(Int(seconds * 1000)) ms "
                + "(\(Int(Double(2 << 20) / seconds / 1e6)) MB/s both ways together)")
        let result = try kernel.finish()
        XCTAssertEqual(result.status, 0, result.output + result.errors)
        XCTAssertTrue(result.output.contains("echoed 1048576 bytes"), result.output)
        XCTAssertTrue(result.output.contains("ipv4=127.0.0.1/32"), result.output)
    }

    /// A second client is served while the first is still connected, and
    /// then two at once from two threads.
    func testServesClientsAtTheSameTime() throws {
        let kernel = try EchoKernel.start(["--connections=4"])
        let first = try TestSocket.connect(port: kernel.port)
        XCTAssertEqual(try first.echo(pattern(1000, seed: 2), pieces: [1000]), pattern(1000, seed: 2))
        let second = try TestSocket.connect(port: kernel.port)
        XCTAssertEqual(try second.echo(pattern(50_000, seed: 3), pieces: [999]), pattern(50_000, seed: 3))
        second.close()
        XCTAssertEqual(try first.echo(pattern(3000, seed: 4), pieces: [3000]), pattern(3000, seed: 4))
        first.close()

        let port = kernel.port
        let results = Results()
        let group = DispatchGroup()
        for seed in [5, 6] {
            DispatchQueue.global().async(group: group) {
                let data = pattern(300_000, seed: seed)
                do {
                    let client = try TestSocket.connect(port: port)
                    let echoed = try client.echo(data, pieces: [8192, 10_000])
                    client.close()
                    results.set(seed, echoed == data)
                } catch {
                    results.set(seed, false)
                }
            }
        }
        XCTAssertEqual(group.wait(timeout: .now() + 60), .success)
        XCTAssertEqual(results.get(5), true)
        XCTAssertEqual(results.get(6), true)

        let result = try kernel.finish()
        XCTAssertEqual(result.status, 0, result.output + result.errors)
        XCTAssertTrue(result.output.contains("echoed 4000 bytes"), result.output)
        XCTAssertTrue(result.output.contains("echoed 50000 bytes"), result.output)
        XCTAssertEqual(
            result.output.components(separatedBy: "echoed 300000 bytes").count - 1, 2, result.output)
    }

    /// A client that connects and closes without sending ends its
    /// connection cleanly, and the server goes on.
    func testClientThatSendsNothing() throws {
        let kernel = try EchoKernel.start(["--connections=2"])
        try TestSocket.connect(port: kernel.port).close()
        let client = try TestSocket.connect(port: kernel.port)
        XCTAssertEqual(try client.echo(Array("hello".utf8), pieces: [5]), Array("hello".utf8))
        client.close()
        let result = try kernel.finish()
        XCTAssertEqual(result.status, 0, result.output + result.errors)
        XCTAssertTrue(result.output.contains("connection 1 from 127.0.0.1:"), result.output)
        XCTAssertTrue(result.output.contains("echoed 0 bytes"), result.output)
        XCTAssertTrue(result.output.contains("echoed 5 bytes"), result.output)
    }

    /// A peer that resets the connection while the server writes to it:
    /// the server sees `.reset` (no SIGPIPE kills it) and serves the next.
    func testPeerResetIsAnErrorNotASignal() throws {
        let kernel = try EchoKernel.start(["--connections=2"])
        let rude = try TestSocket.connect(port: kernel.port)
        // Send without reading until both directions are full: the server
        // is then stuck writing its echo.
        let chunk = pattern(65_536, seed: 7)
        var stalls = 0
        while stalls < 3 {
            if let count = rude.sendNow(chunk), count > 0 {
                stalls = 0
            } else {
                stalls += 1
                usleep(50_000)
            }
        }
        rude.reset()
        let client = try TestSocket.connect(port: kernel.port)
        XCTAssertEqual(try client.echo(Array("still here".utf8), pieces: [10]), Array("still here".utf8))
        client.close()
        let result = try kernel.finish()
        XCTAssertNil(result.signal, result.output)
        XCTAssertEqual(result.status, 0, result.output + result.errors)
        XCTAssertTrue(result.output.contains("connection 1 from 127.0.0.1:"), result.output)
        XCTAssertTrue(result.output.contains(": reset after "), result.output)
        XCTAssertTrue(result.output.contains("echoed 10 bytes"), result.output)
    }

    /// A read with a deadline ends with `.timedOut` when the peer is silent.
    func testReadDeadline() throws {
        let kernel = try EchoKernel.start(["--connections=1", "--read-timeout-ms=100"])
        let client = try TestSocket.connect(port: kernel.port)
        // The server gives up and closes: end of stream here.
        XCTAssertEqual(try client.receive(count: 1), [])
        client.close()
        let result = try kernel.finish()
        XCTAssertEqual(result.status, 0, result.output + result.errors)
        XCTAssertTrue(result.output.contains("timed out after 0 bytes"), result.output)
    }

    /// Datagrams of several sizes come back whole to their sender.
    func testEchoesDatagrams() throws {
        let kernel = try EchoKernel.start(["--connections=1"])
        let socket = try TestSocket.udp()
        for (index, size) in [1, 100, 1400, 9000, 60_000].enumerated() {
            let data = pattern(size, seed: 10 + index)
            try socket.sendDatagram(data, port: kernel.udpPort)
            XCTAssertEqual(try socket.receiveDatagram(), data, "datagram of \(size) bytes")
        }
        socket.close()
        try TestSocket.connect(port: kernel.port).close()
        let result = try kernel.finish()
        XCTAssertEqual(result.status, 0, result.output + result.errors)
        XCTAssertTrue(result.output.contains("udp: echoed 5 datagrams"), result.output)
    }

    /// Connecting out: refused by a closed port, established to a listener.
    func testConnectsOut() throws {
        let kernel = try Support.unixKernel("socket-echo")
        let closed = try TestSocket.freePort()
        let refused = try Support.run(kernel.path, ["--port=0", "--connect-to=\(closed)"])
        XCTAssertEqual(refused.status, 0, refused.output + refused.errors)
        XCTAssertTrue(refused.output.contains("connect 127.0.0.1:\(closed): refused"), refused.output)

        let listener = try TestSocket.listen()
        let port = try listener.localPort()
        let connected = try Support.run(kernel.path, ["--port=0", "--connect-to=\(port)"])
        XCTAssertEqual(connected.status, 0, connected.output + connected.errors)
        XCTAssertTrue(
            connected.output.contains("connect 127.0.0.1:\(port): connected from 127.0.0.1:"),
            connected.output)
        // The kernel has exited; its bytes and FIN wait in the backlog.
        let accepted = try listener.accept()
        XCTAssertEqual(String(decoding: try accepted.receiveAll(), as: UTF8.self), "hello from riad\n")
        accepted.close()
        listener.close()
    }

    /// Names through the host's resolver; dotted quads without it.
    func testResolvesNames() throws {
        let kernel = try Support.unixKernel("socket-echo")
        let result = try Support.run(
            kernel.path, ["--port=0", "--resolve=localhost,192.0.2.7,no-such-host.invalid"])
        XCTAssertEqual(result.status, 0, result.output + result.errors)
        XCTAssertTrue(result.output.contains("resolve localhost: 127.0.0.1\n"), result.output)
        XCTAssertTrue(result.output.contains("resolve 192.0.2.7: 192.0.2.7\n"), result.output)
        // Not found, or timed out where the host has no DNS server to ask.
        XCTAssertTrue(
            result.output.contains("resolve no-such-host.invalid: not found\n")
                || result.output.contains("resolve no-such-host.invalid: timed out\n"), result.output)
    }

    func testRefusesABadBindAddress() throws {
        let kernel = try Support.unixKernel("socket-echo")
        let result = try Support.run(kernel.path, ["--bind-address=localhost"])
        XCTAssertEqual(result.status, 64, result.output)
        XCTAssertTrue(
            result.output.contains("--bind-address=localhost: expected a host address"), result.output)
        let help = try Support.run(kernel.path, ["--help"])
        XCTAssertTrue(help.output.contains("--bind-address=TEXT"), help.output)
    }

}

/// The outcomes of client threads.
private final class Results: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Int: Bool] = [:]

    func set(_ key: Int, _ value: Bool) {
        lock.lock()
        values[key] = value
        lock.unlock()
    }

    func get(_ key: Int) -> Bool? {
        lock.lock()
        defer { lock.unlock() }
        return values[key]
    }
}

/// The socket-echo kernel running in the background, bound to 127.0.0.1,
/// with the ports it listens on.
private struct EchoKernel {
    let process: Process
    let outputFile: URL
    let errorFile: URL
    let port: UInt16
    let udpPort: UInt16

    /// Starts the kernel on a free port and waits until it listens.
    static func start(_ arguments: [String]) throws -> EchoKernel {
        let executable = try Support.unixKernel("socket-echo")
        let port = try TestSocket.freePort()
        let directory = FileManager.default.temporaryDirectory
        let outputFile = directory.appendingPathComponent("riad-socket-\(getpid())-\(port)-out")
        let errorFile = directory.appendingPathComponent("riad-socket-\(getpid())-\(port)-err")
        _ = FileManager.default.createFile(atPath: outputFile.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errorFile.path, contents: nil)
        let process = Process()
        process.executableURL = executable
        process.arguments = ["--port=\(port)", "--bind-address=127.0.0.1"] + arguments
        process.standardOutput = try FileHandle(forWritingTo: outputFile)
        process.standardError = try FileHandle(forWritingTo: errorFile)
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let output = (try? String(contentsOf: outputFile, encoding: .utf8)) ?? ""
            if let line = output.split(separator: "\n").first(where: { $0.hasPrefix("listening ") }) {
                guard let udp = line.split(separator: " ").first(where: { $0.hasPrefix("udp=") }),
                    let udpPort = UInt16(udp.split(separator: ":").last ?? "")
                else { throw TestFailure(description: "no UDP port in `\(line)`") }
                return EchoKernel(
                    process: process, outputFile: outputFile, errorFile: errorFile, port: port,
                    udpPort: udpPort)
            }
            if !process.isRunning {
                throw TestFailure(description: "socket-echo exited before listening: \(output)")
            }
            usleep(5_000)
        }
        process.terminate()
        throw TestFailure(description: "socket-echo did not start listening within 30 s")
    }

    /// Waits for the kernel to exit by itself (killing it after 30 s).
    func finish() throws -> Support.Result {
        defer {
            try? FileManager.default.removeItem(at: outputFile)
            try? FileManager.default.removeItem(at: errorFile)
        }
        let deadline = Date().addingTimeInterval(30)
        while process.isRunning && Date() < deadline { usleep(2_000) }
        let output = String(decoding: try Data(contentsOf: outputFile), as: UTF8.self)
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            throw TestFailure(description: "socket-echo did not exit: \(output)")
        }
        process.waitUntilExit()
        let signaled = process.terminationReason == .uncaughtSignal
        return Support.Result(
            status: process.terminationStatus, signal: signaled ? process.terminationStatus : nil,
            output: output,
            errors: String(decoding: try Data(contentsOf: errorFile), as: UTF8.self))
    }
}

/// A blocking host socket on 127.0.0.1 for the test's side, with a 30 s
/// limit on every wait so that a broken kernel fails the test rather than
/// hanging it.
private struct TestSocket {
    let fd: Int32

    static func make(_ type: Int32) throws -> TestSocket {
        let fd = socket(AF_INET, type, 0)
        guard fd >= 0 else { throw TestFailure(description: "socket: \(String(cString: strerror(errno)))") }
        var limit = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        return TestSocket(fd: fd)
    }

    static func loopback(_ port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        return address
    }

    static func connect(port: UInt16) throws -> TestSocket {
        let socket = try make(Int32(SOCK_STREAM.rawValue))
        var address = loopback(port)
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(socket.fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard status == 0 else {
            socket.close()
            throw TestFailure(description: "connect to \(port): \(String(cString: strerror(errno)))")
        }
        return socket
    }

    static func udp() throws -> TestSocket {
        let socket = try make(Int32(SOCK_DGRAM.rawValue))
        try socket.bind(0)
        return socket
    }

    static func listen() throws -> TestSocket {
        let socket = try make(Int32(SOCK_STREAM.rawValue))
        try socket.bind(0)
        guard Glibc.listen(socket.fd, 4) == 0 else { throw TestFailure(description: "listen failed") }
        return socket
    }

    /// A TCP port of 127.0.0.1 that was free a moment ago.
    static func freePort() throws -> UInt16 {
        let socket = try make(Int32(SOCK_STREAM.rawValue))
        defer { socket.close() }
        try socket.bind(0)
        return try socket.localPort()
    }

    func bind(_ port: UInt16) throws {
        var address = Self.loopback(port)
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard status == 0 else { throw TestFailure(description: "bind: \(String(cString: strerror(errno)))") }
    }

    func localPort() throws -> UInt16 {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let status = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard status == 0 else { throw TestFailure(description: "getsockname failed") }
        return UInt16(bigEndian: address.sin_port)
    }

    func accept() throws -> TestSocket {
        let connection = Glibc.accept(fd, nil, nil)
        guard connection >= 0 else { throw TestFailure(description: "accept failed") }
        return TestSocket(fd: connection)
    }

    /// Sends `data` in pieces of the given sizes in turn from another
    /// thread while this one reads the echo; returns what came back.
    func echo(_ data: [UInt8], pieces: [Int]) throws -> [UInt8] {
        let sender = Thread { [fd] in
            var offset = 0
            var piece = 0
            while offset < data.count {
                let size = min(pieces[piece % pieces.count], data.count - offset)
                piece += 1
                let sent = data.withUnsafeBytes {
                    send(fd, $0.baseAddress! + offset, size, Int32(MSG_NOSIGNAL))
                }
                guard sent > 0 else { return }
                offset += sent
            }
        }
        sender.start()
        return try receive(count: data.count)
    }

    /// Reads until `count` bytes or the end of the stream.
    func receive(count: Int) throws -> [UInt8] {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while received.count < count {
            let wanted = min(buffer.count, count - received.count)
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, wanted, 0) }
            if n == 0 { break }
            guard n > 0 else { throw TestFailure(description: "recv: \(String(cString: strerror(errno)))") }
            received += buffer[0..<n]
        }
        return received
    }

    /// Reads until the end of the stream.
    func receiveAll() throws -> [UInt8] {
        try receive(count: .max)
    }

    /// Sends what the socket takes without waiting; nil when it is full.
    func sendNow(_ data: [UInt8]) -> Int? {
        let sent = data.withUnsafeBytes {
            send(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL))
        }
        return sent >= 0 ? sent : nil
    }

    /// Closes with a reset (SO_LINGER with a zero timeout).
    func reset() {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        close()
    }

    func sendDatagram(_ data: [UInt8], port: UInt16) throws {
        var address = Self.loopback(port)
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { target in
                data.withUnsafeBytes {
                    sendto(fd, $0.baseAddress, $0.count, 0, target, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        guard sent == data.count else {
            throw TestFailure(description: "sendto: \(String(cString: strerror(errno)))")
        }
    }

    func receiveDatagram() throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard n >= 0 else { throw TestFailure(description: "recv: \(String(cString: strerror(errno)))") }
        return Array(buffer[0..<n])
    }

    func close() {
        Glibc.close(fd)
    }
}

/// Bytes that differ with position and seed.
private func pattern(_ count: Int, seed: Int) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: ($0 &* 131) ^ ($0 >> 9) &+ seed &* 17) }
}
