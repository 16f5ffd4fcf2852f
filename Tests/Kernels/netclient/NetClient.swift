import Riad
import RiadNet
import _Concurrency

/// Resolves `--host`, connects to it on `--port`, sends "hello from riad\n",
/// prints the first line it reads back and exits 0; on an error prints
/// its kind and exits 1.
struct NetClient {
    static func start<P: Platform, S: NetworkStack>(platform: P, service: S) async -> Int32 {
        var arguments = RuntimeArguments(program: "netclient")
        let host = arguments.string("host", default: "10.0.0.1", help: "the name or address to connect to")
        let port = arguments.unsigned("port", default: 7, help: "the TCP port")
        let network = service.declareArguments(&arguments)
        let values: RuntimeArguments.Values
        switch arguments.parse(platform.arguments, platform) {
        case .run(let parsed): values = parsed
        case .exit(let status): return status
        }
        do throws(RiadError) {
            try service.configure(network, from: values)
        } catch {
            platform.write("netclient: \(error.message)\n")
            return ExitStatus.usage
        }
        return await service.run {
            do throws(RiadError) {
                let address = try await service.resolve(values[host])
                platform.write("netclient: \(values[host]) is \(address)\n")
                let stream = try await service.connect(
                    to: SocketAddress(address, UInt16(truncatingIfNeeded: values[port])))
                defer { stream.close() }
                try await stream.write("hello from riad\n")
                var line: [UInt8] = []
                let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256, alignment: 1)
                defer { buffer.deallocate() }
                while !line.contains(UInt8(ascii: "\n")) {
                    let count = try await stream.read(into: buffer)
                    if count == 0 { break }
                    line += buffer[..<count]
                }
                platform.write("netclient: got \(String(decoding: line, as: UTF8.self))")
                return ExitStatus.success
            } catch {
                platform.write("netclient: \(error.description)\n")
                return ExitStatus.failure
            }
        }
    }
}
