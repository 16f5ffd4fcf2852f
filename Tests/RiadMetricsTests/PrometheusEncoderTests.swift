import Foundation
import Riad
import XCTest

@testable import RiadMetrics

/// The text format against literal text, and against Prometheus's own
/// `promtool check metrics`.
final class PrometheusEncoderTests: XCTestCase {
    private func render(_ metrics: Metrics) -> String {
        String(decoding: PrometheusExporter(metrics: metrics).render(), as: UTF8.self)
    }

    func testFamiliesGroupTheSeriesOfSourcesWithOneName() {
        let metrics = Metrics(tags: [MetricTag("name", "web1")])
        for (interface, frames, up) in [("service", UInt64(42), Int64(1)), ("management", 7, 0)] {
            let net = metrics.source("net", tags: [MetricTag("interface", interface)])
            net.counter("frames_received", help: "Frames received.").increment(by: frames)
            net.gauge("up", help: "Whether the link is up.").set(up)
        }
        XCTAssertEqual(
            render(metrics),
            """
            # HELP riad_net_frames_received_total Frames received.
            # TYPE riad_net_frames_received_total counter
            riad_net_frames_received_total{interface="service",name="web1"} 42
            riad_net_frames_received_total{interface="management",name="web1"} 7
            # HELP riad_net_up Whether the link is up.
            # TYPE riad_net_up gauge
            riad_net_up{interface="service",name="web1"} 1
            riad_net_up{interface="management",name="web1"} 0

            """)
    }

    func testHistogramBucketsAreCumulativeAndEndWithInf() {
        let metrics = Metrics()
        let http = metrics.source("http")
        let duration = http.histogram(
            "request_duration", unit: .seconds, bounds: [0.005, 0.01, 0.5], help: "Time to answer.")
        for value in [0.001, 0.005, 0.007, 0.3, 0.4, 12] { duration.observe(value) }
        XCTAssertEqual(
            render(metrics),
            """
            # HELP riad_http_request_duration_seconds Time to answer.
            # TYPE riad_http_request_duration_seconds histogram
            riad_http_request_duration_seconds_bucket{le="0.005"} 2
            riad_http_request_duration_seconds_bucket{le="0.01"} 3
            riad_http_request_duration_seconds_bucket{le="0.5"} 5
            riad_http_request_duration_seconds_bucket{le="+Inf"} 6
            riad_http_request_duration_seconds_sum 12.713
            riad_http_request_duration_seconds_count 6

            """)
    }

    func testEscapingSanitisingAndSpecialValues() {
        let metrics = Metrics()
        let source = metrics.source(
            "my-app.v2",
            tags: [
                MetricTag("path", "C:\\dir \"x\"\nnext"), MetricTag("2nd", "a"), MetricTag("__meta", "b"),
                MetricTag("le", "c"),
            ])
        source.floatGauge("nan", help: "Back\\slash and\nnewline.").set(.nan)
        source.floatGauge("plus", help: "Quotes \" stay in help.").set(.infinity)
        source.floatGauge("minus").set(-.infinity)
        source.counter("idle", unit: .nanoseconds, help: "Idle time.").set(1_500_000_000)
        source.histogram("size", unit: .bytes, bounds: [1024], help: "Sizes.").observe(10)
        let labels = #"_2nd="a",tag__meta="b",exported_le="c",path="C:\\dir \"x\"\nnext""#
        XCTAssertEqual(
            render(metrics),
            """
            # HELP riad_my_app_v2_nan Back\\\\slash and\\nnewline.
            # TYPE riad_my_app_v2_nan gauge
            riad_my_app_v2_nan{\(labels)} NaN
            # HELP riad_my_app_v2_plus Quotes " stay in help.
            # TYPE riad_my_app_v2_plus gauge
            riad_my_app_v2_plus{\(labels)} +Inf
            # TYPE riad_my_app_v2_minus gauge
            riad_my_app_v2_minus{\(labels)} -Inf
            # HELP riad_my_app_v2_idle_seconds_total Idle time.
            # TYPE riad_my_app_v2_idle_seconds_total counter
            riad_my_app_v2_idle_seconds_total{\(labels)} 1.5
            # HELP riad_my_app_v2_size_bytes Sizes.
            # TYPE riad_my_app_v2_size_bytes histogram
            riad_my_app_v2_size_bytes_bucket{\(labels),le="1024"} 1
            riad_my_app_v2_size_bytes_bucket{\(labels),le="+Inf"} 1
            riad_my_app_v2_size_bytes_sum{\(labels)} 10
            riad_my_app_v2_size_bytes_count{\(labels)} 1

            """)
    }

    func testANameTakenByAnotherKindIsLeftOut() {
        let metrics = Metrics()
        metrics.source("x", tags: [MetricTag("n", "1")]).gauge("value").set(1)
        metrics.source("x", tags: [MetricTag("n", "2")]).floatGauge("value").set(2)
        XCTAssertEqual(render(metrics), "# TYPE riad_x_value gauge\nriad_x_value{n=\"1\"} 1\n")
    }

    func testContentTypeAndByteBuffer() {
        XCTAssertEqual(PrometheusExporter.contentType, "text/plain; version=0.0.4")
        let metrics = Metrics()
        metrics.source("a").gauge("b").set(3)
        var buffer = ByteBuffer()
        PrometheusExporter(metrics: metrics).render(into: &buffer)
        XCTAssertEqual(buffer.readString(length: buffer.readableBytes), "# TYPE riad_a_b gauge\nriad_a_b 3\n")
    }

    /// A kernel's worth of sources, built-in ones included, through
    /// promtool: it parses the text as Prometheus does and lints names,
    /// help, counters' `_total` and units.
    func testPromtoolAcceptsAKernelsMetrics() throws {
        let metrics = Metrics(tags: [MetricTag("name", "web \"one\"")])
        let heap = HeapMetrics(metrics: metrics) { HeapUsage(inUse: 1 << 20, highWater: 3 << 20) }
        XCTAssertTrue(heap.source.isEnabled)
        _ = LoopMetrics(metrics: metrics) { LoopStatistics(jobsRun: 12345, idleNanoseconds: 9_876_543_210) }
        let http = HTTPMetrics(metrics: metrics, tags: [MetricTag("interface", "service")])
        for (method, status, nanoseconds) in [
            ("GET", 200, UInt64(3_000_000)), ("GET", 404, 400_000), ("POST", 201, 70_000_000),
            ("BREW", 418, 1),
            ("GET", 200, 30_000_000_000),
        ] {
            http.record(method: method, status: status, nanoseconds: nanoseconds)
        }
        for interface in ["service", "management"] {
            let net = metrics.source("net", tags: [MetricTag("interface", interface)])
            net.counter("frames_received", help: "Frames received.").increment(by: 10)
            net.counter("received", unit: .bytes, help: "Bytes received.").increment(by: 1500)
        }
        let odd = metrics.source(
            "odd", tags: [MetricTag("path", "a\\b\n\"c\""), MetricTag("le", "x"), MetricTag("quantile", "y")])
        odd.floatGauge("temperature", help: "A value.").set(.nan)
        odd.floatGauge("ratio", help: "Another.").set(-.infinity)
        odd.floatGauge("small", help: "A small one.").set(1.5e-12)

        let text = render(metrics)
        let (status, output) = try runPromtool(text)
        XCTAssertEqual(status, 0, "promtool check metrics:\n\(output)\n--- input:\n\(text)")
        XCTAssertEqual(output.trimmingCharacters(in: .whitespacesAndNewlines), "", output)
        XCTAssertTrue(text.contains("riad_http_requests_total{interface=\"service\",method=\"OTHER\""))
        XCTAssertTrue(text.contains("\nriad_net_received_bytes_total{interface=\"management\""))
        XCTAssertTrue(text.contains("riad_loop_idle_seconds_total{name=\"web \\\"one\\\"\"} 9.87654321"))
    }

    /// Runs `promtool check metrics` with `text` on its standard input.
    private func runPromtool(_ text: String) throws -> (Int32, String) {
        let candidates = ["/usr/bin/promtool", "/usr/local/bin/promtool"]
        guard let path = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw PromtoolMissing()
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["check", "metrics"]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        try process.run()
        input.fileHandleForWriting.write(Data(text.utf8))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

struct PromtoolMissing: Error, CustomStringConvertible {
    var description: String {
        "promtool is missing: install Debian's package prometheus (apt-get install -y prometheus)"
    }
}
