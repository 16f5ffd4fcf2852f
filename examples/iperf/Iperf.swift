import Riad
import RiadNet
import _Concurrency

/// An iperf3 server (`iperf3 -s`) on `--port` (default 5201): Debian's
/// unmodified `iperf3 -c` measures this kernel's TCP as it measures
/// Linux's. TCP only, one test at a time, one client after another,
/// forever; a second client during a test is told the server is busy.
struct Iperf {
    static func start<P: Platform, S: NetworkStack>(platform: P, service: S) async -> Int32 {
        var arguments = RuntimeArguments(program: "iperf")
        // --port, from unikernel.toml's [[argument]].
        let declared = UnikernelArguments.declare(&arguments)
        let port = declared.port
        let network = service.declareArguments(&arguments)
        let values: RuntimeArguments.Values
        switch arguments.parse(platform.arguments, platform) {
        case .run(let parsed): values = parsed
        case .exit(let status): return status
        }
        guard values[port] > 0, values[port] <= 65535 else {
            platform.write("iperf: --port=\(values[port]): expected 1 to 65535\n")
            return ExitStatus.usage
        }
        do throws(RiadError) {
            try service.configure(network, from: values)
        } catch {
            platform.write("iperf: \(error.message); see --help\n")
            return ExitStatus.usage
        }
        return await service.run {
            await serve(platform: platform, service: service, port: UInt16(values[port]))
        }
    }

    /// The test in progress, if any: the accept loop asks it whether a
    /// new connection is one of its data streams.
    final class Server<P: Platform, S: NetworkStack> {
        var session: Session<P, S>? = nil
    }

    static func serve<P: Platform, S: NetworkStack>(platform: P, service: S, port: UInt16) async -> Int32 {
        let listener: S.Listener
        do throws(RiadError) {
            // Room for -P 128's streams connecting at once.
            listener = try service.listen(port: port, backlog: 128)
        } catch {
            platform.write("iperf: cannot listen on port \(port): \(error.description)\n")
            return ExitStatus.failure
        }
        platform.write("iperf: listening on port \(port)\n")
        let server = Server<P, S>()
        await withDiscardingTaskGroup { group in
            while true {
                let connection: S.Stream
                do throws(RiadError) {
                    connection = try await listener.accept()
                } catch {
                    platform.write("iperf: accept: \(error.description)\n")
                    // The listener is gone: nothing more will come.
                    if error.kind == .closed || error.kind == .cancelled { return }
                    // Out of descriptors or memory, say: connections that
                    // end free some; do not spin meanwhile.
                    try? await platform.sleep(nanoseconds: 100_000_000)
                    continue
                }
                // A session that has sent its results waits only for
                // IPERF_DONE: the next client is served meanwhile.
                if let session = server.session, !session.concluded {
                    if session.acceptingStreams {
                        group.addTask { await session.adopt(connection) }
                    } else {
                        platform.write(
                            "iperf: \(connection.remote.description): refused: a test is running "
                                + "(for \(session.peer))\n")
                        group.addTask { await refuse(connection, platform: platform) }
                    }
                    continue
                }
                let session = Session<P, S>(platform: platform, control: connection)
                server.session = session
                group.addTask {
                    await session.run()
                    if server.session === session { server.session = nil }
                }
            }
        }
        return ExitStatus.failure
    }

    /// ACCESS_DENIED, as iperf3 answers a connection it does not expect;
    /// then what the client sent (its cookie) is read before closing, so
    /// that the close is a FIN and the client reads the answer rather
    /// than a reset.
    static func refuse<P: Platform, Stream: TCPStream>(_ connection: Stream, platform: P) async {
        defer { connection.close() }
        do throws(RiadError) {
            try await connection.write([IperfState.accessDenied.rawValue])
            try connection.shutdown()
        } catch {
            return
        }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 1)
        defer { buffer.deallocate() }
        // Bounded: 2 s or 64 KiB, whichever first; a peer that goes on
        // sending is reset.
        let deadline = platform.monotonicNanoseconds() &+ 2_000_000_000
        var drained = 0
        while drained < 65536, let count = try? await connection.read(into: buffer, until: deadline),
            count > 0
        {
            drained += count
        }
    }
}
