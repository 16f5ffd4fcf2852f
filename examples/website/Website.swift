import Riad
import RiadHTTP
import RiadMetrics
import RiadNet
import _Concurrency

/// Serves `htdocs/` (compiled into the kernel) on `--port` (default 80):
/// content types by extension, ETag and If-None-Match, 404 for the rest.
/// With `--metrics=prometheus` it also serves its metrics at /metrics;
/// with `--metrics=influx-…` it pushes them to InfluxDB or Telegraf.
struct Website {
    static func start<P: Platform, S: NetworkStack, Store: KeyValueStore>(
        platform: P, service: S, htdocs: Store
    ) async -> Int32 {
        var arguments = RuntimeArguments(program: "website")
        let port = arguments.unsigned("port", default: 80, help: "the HTTP port")
        let network = service.declareArguments(&arguments)
        let monitoring = MetricsArguments(declaringIn: &arguments)
        let values: RuntimeArguments.Values
        switch arguments.parse(platform.arguments, platform) {
        case .run(let parsed): values = parsed
        case .exit(let status): return status
        }
        guard values[port] > 0, values[port] <= 65535 else {
            platform.write("website: --port=\(values[port]): expected 1 to 65535\n")
            return ExitStatus.usage
        }
        do throws(RiadError) {
            try service.configure(network, from: values)
        } catch {
            platform.write("website: \(error.message); see --help\n")
            return ExitStatus.usage
        }
        guard let metricsConfiguration = monitoring.configuration(values, platform) else {
            return ExitStatus.usage
        }
        let kernel = KernelMetrics(configuration: metricsConfiguration, platform: platform, stack: service)

        let files = HTTPStaticFiles(store: htdocs)
        var router = HTTPRouter()
        router.add(.get, prefix: "/") { request in files.respond(to: request) }
        kernel.route(&router)
        let server = HTTPServer(clock: PlatformClock(platform), router: router)
        kernel.observe(server)

        return await service.run {
            await kernel.run {
                platform.write("website: serving on port \(values[port])\n")
                do throws(RiadError) {
                    try await server.run(on: service, port: UInt16(values[port]))
                } catch {
                    platform.write("website: \(error.description)\n")
                }
                return ExitStatus.failure
            }
        }
    }
}
