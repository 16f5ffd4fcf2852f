import Riad
import RiadNet
import _Concurrency

/// Echoes every TCP connection on `--port` (default 7) back to its
/// sender, each on its own task, until the peer closes its side.
struct Echo {
    static func start<P: Platform, S: NetworkStack>(platform: P, service: S) async -> Int32 {
        var arguments = RuntimeArguments(program: "echo")
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
            platform.write("echo: --port=\(values[port]): expected 1 to 65535\n")
            return ExitStatus.usage
        }
        do throws(RiadError) {
            try service.configure(network, from: values)
        } catch {
            platform.write("echo: \(error.message); see --help\n")
            return ExitStatus.usage
        }
        return await service.run {
            await serve(platform: platform, service: service, port: UInt16(values[port]))
        }
    }

    static func serve<P: Platform, S: NetworkStack>(platform: P, service: S, port: UInt16) async -> Int32 {
        let listener: S.Listener
        do throws(RiadError) {
            listener = try service.listen(port: port, backlog: 32)
        } catch {
            platform.write("echo: cannot listen on port \(port): \(error.description)\n")
            return ExitStatus.failure
        }
        platform.write("echo: listening on port \(port)\n")
        await withDiscardingTaskGroup { group in
            while true {
                let stream: S.Stream
                do throws(RiadError) {
                    stream = try await listener.accept()
                } catch {
                    platform.write("echo: accept: \(error.description)\n")
                    return
                }
                group.addTask { await echo(stream) }
            }
        }
        return ExitStatus.failure
    }

    /// Copies what `stream` receives back to it until end of stream.
    static func echo<Stream: TCPStream>(_ stream: Stream) async {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 16384, alignment: 16)
        defer {
            buffer.deallocate()
            stream.close()
        }
        do throws(RiadError) {
            while true {
                let count = try await stream.read(into: buffer)
                if count == 0 { break }
                try await stream.write(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
            }
            try stream.shutdown()
        } catch {
            return
        }
    }
}
