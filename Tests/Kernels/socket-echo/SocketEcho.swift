import PlatformUnix
import Riad
import RiadNet
import _Concurrency

/// An echo server over the host's sockets (`SocketStack`), unix only: what
/// a client sends on TCP `--port` comes back, and so does every datagram
/// sent to the UDP port it prints. Before serving it can resolve names
/// (`--resolve`) and connect out (`--connect-to`), printing the outcomes.
/// It exits 0 once `--connections` connections have ended; with
/// `--port=0` it does only the checks.
///
/// It prints, in this order:
///
///     resolve NAME: ADDRESS | ERROR KIND
///     connect 127.0.0.1:PORT: connected from ADDRESS:PORT | ERROR KIND
///     listening tcp=ADDRESS:PORT udp=ADDRESS:PORT ipv4=ADDRESS/32|any
///     connection N from ADDRESS:PORT: echoed N bytes | ERROR KIND after N bytes
///     udp: echoed N datagrams
struct SocketEcho {
    static func start(platform: UnixPlatform) async -> Int32 {
        let stack = SocketStack(platform: platform)
        var arguments = RuntimeArguments(program: "socket-echo")
        let port = arguments.unsigned("port", default: 7, help: "the TCP port to echo on (0: do not serve)")
        let connections = arguments.unsigned(
            "connections", default: 0, help: "exit after this many connections have ended (0: never)")
        let connectTo = arguments.unsigned(
            "connect-to", default: 0, help: "first connect to this port of 127.0.0.1, say hello and close")
        let readTimeout = arguments.unsigned(
            "read-timeout-ms", default: 0, help: "end a connection silent for this long (0: never)")
        let resolve = arguments.string(
            "resolve", default: "", help: "names to resolve first, comma-separated")
        let options = stack.declareArguments(&arguments)
        let values: RuntimeArguments.Values
        switch arguments.parse(platform.arguments, platform) {
        case .run(let parsed): values = parsed
        case .exit(let status): return status
        }
        do throws(RiadError) {
            try stack.configure(options, from: values)
        } catch {
            platform.write("socket-echo: \(error.description)\n")
            return ExitStatus.usage
        }
        guard values[port] <= 65_535, values[connectTo] <= 65_535 else {
            platform.write("socket-echo: ports are at most 65535\n")
            return ExitStatus.usage
        }
        let settings = Settings(
            port: UInt16(values[port]), connections: values[connections],
            connectTo: UInt16(values[connectTo]),
            readTimeout: values[readTimeout] * 1_000_000, names: values[resolve])
        return await stack.run { await run(stack, platform, settings) }
    }

    struct Settings {
        let port: UInt16
        let connections: UInt64
        let connectTo: UInt16
        let readTimeout: UInt64
        let names: String
    }

    static func run(_ stack: SocketStack, _ platform: UnixPlatform, _ settings: Settings) async -> Int32 {
        for name in settings.names.utf8.split(separator: UInt8(ascii: ",")) {
            let text = String(decoding: name, as: UTF8.self)
            do throws(RiadError) {
                let address = try await stack.resolve(text)
                platform.write("resolve \(text): \(address)\n")
            } catch {
                platform.write("resolve \(text): \(error.kind)\n")
            }
        }
        if settings.connectTo != 0 {
            let remote = SocketAddress(.loopback, settings.connectTo)
            do throws(RiadError) {
                let stream = try await stack.connect(to: remote)
                platform.write("connect \(remote): connected from \(stream.local)\n")
                try await stream.write("hello from riad\n")
                stream.close()
            } catch {
                platform.write("connect \(remote): \(error.kind)\n")
            }
        }
        guard settings.port != 0 else { return ExitStatus.success }
        do throws(RiadError) {
            let listener = try stack.listen(port: settings.port, backlog: 16)
            let udp = try stack.bindUDP(port: 0)
            platform.write(
                "listening tcp=\(listener.local) udp=\(udp.local) ipv4=\(stack.ipv4?.description ?? "any")\n")
            await serve(listener, udp, platform, settings)
            return ExitStatus.success
        } catch {
            platform.write("socket-echo: \(error.description)\n")
            return ExitStatus.failure
        }
    }

    /// Echoes datagrams in one task and each connection in one task, until
    /// `settings.connections` connections have ended.
    static func serve(
        _ listener: SocketTCPListener, _ udp: SocketUDPSocket, _ platform: UnixPlatform, _ settings: Settings
    ) async {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await echoDatagrams(udp, platform)
                return false
            }
            var accepted: UInt64 = 0
            while settings.connections == 0 || accepted < settings.connections {
                let stream: SocketTCPStream
                do throws(RiadError) {
                    stream = try await listener.accept()
                } catch {
                    platform.write("accept: \(error.kind)\n")
                    break
                }
                accepted += 1
                let number = accepted
                group.addTask {
                    await echo(stream, number, platform, settings.readTimeout)
                    return true
                }
            }
            listener.close()
            var ended: UInt64 = 0
            while ended < accepted, let connection = await group.next() {
                if connection { ended += 1 }
            }
            // Closing wakes the datagram task, which ends with `.closed`.
            udp.close()
            await group.waitForAll()
        }
    }

    static func echo(_ stream: SocketTCPStream, _ number: UInt64, _ platform: UnixPlatform, _ timeout: UInt64)
        async
    {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
        defer {
            buffer.deallocate()
            stream.close()
        }
        let peer = "connection \(number) from \(stream.remote)"
        var total = 0
        do throws(RiadError) {
            while true {
                let deadline = timeout == 0 ? UInt64.max : platform.monotonicNanoseconds() + timeout
                let count = try await stream.read(into: buffer, until: deadline)
                if count == 0 { break }
                try await stream.write(UnsafeRawBufferPointer(rebasing: buffer[..<count]), until: .max)
                total += count
            }
            platform.write("\(peer): echoed \(total) bytes\n")
        } catch {
            platform.write("\(peer): \(error.kind) after \(total) bytes\n")
        }
    }

    static func echoDatagrams(_ udp: SocketUDPSocket, _ platform: UnixPlatform) async {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65_536, alignment: 16)
        defer { buffer.deallocate() }
        var echoed = 0
        while true {
            let length: Int
            let sender: SocketAddress
            do throws(RiadError) {
                (length, sender) = try await udp.receive(into: buffer)
            } catch {
                if error.kind != .closed { platform.write("udp: \(error.kind)\n") }
                break
            }
            do throws(RiadError) {
                try udp.send(UnsafeRawBufferPointer(rebasing: buffer[..<length]), to: sender)
                echoed += 1
            } catch {
                platform.write("udp: sending to \(sender): \(error.kind)\n")
            }
        }
        platform.write("udp: echoed \(echoed) datagrams\n")
    }
}
