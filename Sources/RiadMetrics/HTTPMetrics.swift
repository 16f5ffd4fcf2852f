/// The HTTP server's metrics, for its observer hook to call once per
/// answered request with the method, the status and how long it took.
///
/// - Source `http` (with `tags`): `request_duration`, a histogram in seconds
///   (`riad_http_request_duration_seconds` in Prometheus) with Prometheus's
///   default buckets, 5 ms to 10 s.
/// - Sources `http` with `tags` plus `method` and `status`: a counter
///   `requests` each (`riad_http_requests_total{method="GET",status="200"}`).
///   Methods are those of RFC 9110 section 9 and PATCH (RFC 5789), others
///   counted as `OTHER`; statuses outside 100-599 as `other`.
///
/// A request with a method and status not seen before registers that pair's
/// source: one allocation, the first time only. After `maximumSeries`
/// pairs, new pairs are counted under `method=OTHER,status=other`, so a
/// client sending made-up methods cannot grow the registry.
///
/// ```swift
/// let http = HTTPMetrics(metrics: metrics, tags: [MetricTag("interface", "service")])
/// server.observer = { method, status, nanoseconds in
///     http.record(method: method, status: status, nanoseconds: nanoseconds)
/// }
/// ```
public final class HTTPMetrics {
    /// Prometheus's default buckets, in seconds.
    public static let defaultBuckets: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    /// The methods with a series of their own; the last, `OTHER`, takes the
    /// rest.
    static let methods: [StaticString] = [
        "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "OTHER",
    ]

    public let source: MetricSource
    public let duration: Histogram
    public let maximumSeries: Int

    private let metrics: Metrics
    private let tags: [MetricTag]
    private var series: [(method: Int, status: Int, requests: Counter)] = []

    public init(
        metrics: Metrics, tags: [MetricTag] = [], buckets: [Double] = HTTPMetrics.defaultBuckets,
        maximumSeries: Int = 64
    ) {
        self.metrics = metrics
        self.tags = tags
        self.maximumSeries = maximumSeries
        source = metrics.source("http", tags: tags)
        duration = source.histogram(
            "request_duration", unit: .seconds, bounds: buckets, help: "Time to answer an HTTP request.")
    }

    /// Counts one answered request.
    ///
    /// - Parameters:
    ///   - method: The request's method, as received (case-sensitive, RFC
    ///     9110 section 9.1).
    ///   - status: The response's status code.
    ///   - nanoseconds: From the request's first byte to the response's
    ///     last.
    public func record<Method: Collection>(method: Method, status: Int, nanoseconds: UInt64)
    where Method.Element == UInt8 {
        guard source.isEnabled else { return }
        duration.observe(Double(nanoseconds) / 1e9)
        var methodIndex = HTTPMetrics.methods.count - 1
        for (index, known) in HTTPMetrics.methods.enumerated().dropLast()
        where method.elementsEqual(
            UnsafeBufferPointer(start: known.utf8Start, count: known.utf8CodeUnitCount))
        {
            methodIndex = index
            break
        }
        let statusKey = (100...599).contains(status) ? status : 0
        requests(methodIndex, statusKey).increment()
    }

    /// Counts one answered request; `method` as a string.
    public func record(method: String, status: Int, nanoseconds: UInt64) {
        record(method: method.utf8, status: status, nanoseconds: nanoseconds)
    }

    /// The counter of a method and status, registered the first time.
    private func requests(_ method: Int, _ status: Int) -> Counter {
        for entry in series where entry.method == method && entry.status == status { return entry.requests }
        var method = method
        var status = status
        if series.count >= maximumSeries {
            method = HTTPMetrics.methods.count - 1
            status = 0
            for entry in series where entry.method == method && entry.status == status {
                return entry.requests
            }
        }
        let name = HTTPMetrics.methods[method]
        var statusText: [UInt8] = []
        if status == 0 {
            statusText = Array("other".utf8)
        } else {
            DecimalText.append(UInt64(status), to: &statusText)
        }
        let pair = metrics.source(
            "http",
            tags: tags + [
                MetricTag(
                    "method",
                    String(
                        decoding: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount),
                        as: UTF8.self)),
                MetricTag("status", String(decoding: statusText, as: UTF8.self)),
            ])
        let counter = pair.counter("requests", help: "HTTP requests answered, by method and status.")
        series.append((method, status, counter))
        return counter
    }
}
