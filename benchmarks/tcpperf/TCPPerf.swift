import Riad
import RiadNet
import _Concurrency

/// Discards what clients send on `--discard-port` (RFC 863) and sends
/// zeros without end to clients of `--source-port` (RFC 864's idea), so
/// that the host can time TCP in each direction.
struct TCPPerf {
    static func start<P: Platform, S: NetworkStack>(platform: P, service: S) async -> Int32 {
        var arguments = RuntimeArguments(program: "tcpperf")
        let discardPort = arguments.unsigned("discard-port", default: 5001, help: "port that reads and drops")
        let sourcePort = arguments.unsigned("source-port", default: 5002, help: "port that sends zeros")
        let network = service.declareArguments(&arguments)
        let values: RuntimeArguments.Values
        switch arguments.parse(platform.arguments, platform) {
        case .run(let parsed): values = parsed
        case .exit(let status): return status
        }
        do throws(RiadError) {
            try service.configure(network, from: values)
        } catch {
            platform.write("tcpperf: \(error.message)\n")
            return ExitStatus.usage
        }
        return await service.run {
            let discard: S.Listener
            let source: S.Listener
            do throws(RiadError) {
                discard = try service.listen(
                    port: UInt16(truncatingIfNeeded: values[discardPort]), backlog: 8)
                source = try service.listen(port: UInt16(truncatingIfNeeded: values[sourcePort]), backlog: 8)
            } catch {
                platform.write("tcpperf: listen: \(error.description)\n")
                return ExitStatus.failure
            }
            platform.write("tcpperf: ready\n")
            await withDiscardingTaskGroup { group in
                group.addTask { await serve(discard) { stream in await drain(stream) } }
                group.addTask { await serve(source) { stream in await fill(stream) } }
            }
            return ExitStatus.failure
        }
    }

    static func serve<L: TCPListener>(_ listener: L, _ handler: @escaping (L.Stream) async -> Void) async {
        await withDiscardingTaskGroup { group in
            while true {
                guard let stream = try? await listener.accept() else { return }
                group.addTask { await handler(stream) }
            }
        }
    }

    static func drain<Stream: TCPStream>(_ stream: Stream) async {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536, alignment: 16)
        defer {
            buffer.deallocate()
            stream.close()
        }
        while let count = try? await stream.read(into: buffer), count > 0 {}
    }

    static func fill<Stream: TCPStream>(_ stream: Stream) async {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 65536, alignment: 16)
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
        defer {
            buffer.deallocate()
            stream.close()
        }
        while (try? await stream.write(UnsafeRawBufferPointer(buffer))) != nil {}
    }
}
