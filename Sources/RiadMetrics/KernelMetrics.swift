import Riad
import RiadHTTP
import RiadNet
import _Concurrency

/// A kernel's monitoring in one value: the registry with every built-in
/// source (heap, loop, the network stack's `net` and `tcp`, `http`, and
/// `tender` under a riad-hvt that reports its counters),
/// configured from the runtime arguments (`MetricsArguments`), and what
/// reports it: `/metrics` for Prometheus, or the Influx reporter's task.
///
/// ```swift
/// let kernel = KernelMetrics(configuration: configuration, platform: platform, stack: service)
/// kernel.route(&router)          // GET /metrics, when --metrics=prometheus
/// kernel.observe(server)         // requests by method and status, latency
/// await kernel.run { ... }       // the Influx reporter beside the application
/// ```
public final class KernelMetrics<P: Platform, Stack: NetworkStack> {
    public let metrics: Metrics
    public let configuration: MetricsConfiguration
    public let http: HTTPMetrics
    public let network: NetworkMetrics
    let platform: P
    let stack: Stack

    public init(configuration: MetricsConfiguration, platform: P, stack: Stack, interface: String = "service")
    {
        self.configuration = configuration
        self.platform = platform
        self.stack = stack
        metrics = Metrics()
        configuration.apply(to: metrics)
        _ = HeapMetrics(metrics: metrics) {
            let figures = platform.runtimeStatistics
            return HeapUsage(inUse: figures?.heapInUse ?? 0, highWater: figures?.heapHighWater ?? 0)
        }
        _ = LoopMetrics(metrics: metrics) {
            let figures = platform.runtimeStatistics
            return LoopStatistics(
                jobsRun: figures?.jobsRun ?? 0, idleNanoseconds: figures?.idleNanoseconds ?? 0)
        }
        if platform.runtimeStatistics?.host != nil {
            _ = TenderMetrics(metrics: metrics) { platform.runtimeStatistics?.host }
        }
        network = NetworkMetrics(metrics: metrics, stack: stack, interface: interface)
        http = HTTPMetrics(metrics: metrics)
    }

    /// Adds `GET /metrics` (Prometheus's text format) when the output is
    /// Prometheus.
    public func route(_ router: inout HTTPRouter) {
        guard case .prometheus = configuration.output else { return }
        let exporter = PrometheusExporter(metrics: metrics)
        router.add(.get, "/metrics") { _ in
            .bytes(exporter.render(), contentType: PrometheusExporter.contentType)
        }
    }

    /// Counts `server`'s requests by method and status, with their latency.
    public func observe<Clock: HTTPClock>(_ server: HTTPServer<Clock>) {
        let http = self.http
        server.observer = { exchange in
            http.record(
                method: exchange.method?.name ?? "OTHER", status: exchange.status.code,
                nanoseconds: exchange.durationNanoseconds)
        }
    }

    /// Runs `body` with the Influx reporter's task beside it when the
    /// output is InfluxDB or Telegraf; the reporter stops when `body`
    /// returns.
    public func run<Result>(_ body: @escaping () async -> Result) async -> Result {
        guard let reporterConfiguration = configuration.influxReporter else { return await body() }
        let reporter = InfluxReporter(
            metrics: metrics, stack: stack, platform: platform, configuration: reporterConfiguration)
        let task = Task { await reporter.run() }
        let result = await body()
        task.cancel()
        await task.value
        return result
    }
}
