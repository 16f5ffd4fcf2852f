import Riad
import RiadHTTP
import RiadMetrics
import RiadNet
import _Concurrency

/// Serves a page on `--port` (default 80) that counts its visits, and its
/// metrics: always at `/metrics` (Prometheus's text format), and pushed
/// to InfluxDB or Telegraf every `--metrics-interval` seconds when
/// `--metrics=influx-http:HOST:PORT/DB` or `influx-tcp:HOST:PORT` is given.
/// `--name` tags every series with the kernel's name.
struct Monitor {
    static func start<P: Platform, S: NetworkStack>(platform: P, service: S) async -> Int32 {
        var arguments = RuntimeArguments(program: "monitor")
        let port = arguments.unsigned("port", default: 80, help: "the HTTP port")
        let network = service.declareArguments(&arguments)
        let monitoring = MetricsArguments(declaringIn: &arguments)
        let values: RuntimeArguments.Values
        switch arguments.parse(platform.arguments, platform) {
        case .run(let parsed): values = parsed
        case .exit(let status): return status
        }
        guard values[port] > 0, values[port] <= 65535 else {
            platform.write("monitor: --port=\(values[port]): expected 1 to 65535\n")
            return ExitStatus.usage
        }
        do throws(RiadError) {
            try service.configure(network, from: values)
        } catch {
            platform.write("monitor: \(error.message); see --help\n")
            return ExitStatus.usage
        }
        guard var configuration = monitoring.configuration(values, platform) else { return ExitStatus.usage }
        // This kernel exists to be watched: metrics are on unless pushed.
        if case .none = configuration.output { configuration.output = .prometheus }
        let kernel = KernelMetrics(configuration: configuration, platform: platform, stack: service)
        let exporter = PrometheusExporter(metrics: kernel.metrics)
        let visits = kernel.metrics.source("app").counter("visits", help: "Visits of the page.")

        var router = HTTPRouter()
        router.get("/") { _ in
            visits.increment(by: 1)
            return .text(
                "<!doctype html><title>Riad monitor</title><h1>Riad monitor</h1>"
                    + "<p>Metrics: <a href=\"/metrics\">/metrics</a>.</p>\n",
                contentType: "text/html; charset=utf-8")
        }
        router.get("/metrics") { _ in .bytes(exporter.render(), contentType: PrometheusExporter.contentType) }
        let server = HTTPServer(clock: PlatformClock(platform), router: router)
        kernel.observe(server)

        return await service.run {
            await kernel.run {
                platform.write("monitor: serving on port \(values[port])\n")
                do throws(RiadError) {
                    try await server.run(on: service, port: UInt16(values[port]))
                } catch {
                    platform.write("monitor: \(error.description)\n")
                }
                return ExitStatus.failure
            }
        }
    }
}
