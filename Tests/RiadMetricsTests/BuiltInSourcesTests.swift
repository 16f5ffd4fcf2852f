import Riad
import RiadTestSupport
import XCTest

@testable import RiadMetrics

/// Heap, event loop and HTTP sources.
final class BuiltInSourcesTests: XCTestCase {
    private func line(_ metrics: Metrics, _ source: MetricSource) -> String {
        var output: [UInt8] = []
        InfluxLineEncoder().encode(
            source, tags: metrics.effectiveTags(of: source), timestamp: 1, into: &output)
        return String(decoding: output, as: UTF8.self)
    }

    func testHeapIsSampledFromItsClosure() {
        let metrics = Metrics()
        var usage = HeapUsage(inUse: 4096, highWater: 8192)
        let heap = HeapMetrics(metrics: metrics) { usage }
        metrics.sample()
        XCTAssertEqual(line(metrics, heap.source), "heap in_use_bytes=4096i,high_water_bytes=8192i 1\n")
        usage = HeapUsage(inUse: 100, highWater: 9000)
        metrics.sample()
        XCTAssertEqual(line(metrics, heap.source), "heap in_use_bytes=100i,high_water_bytes=9000i 1\n")
    }

    func testLoopIsSampledFromARealEventLoop() {
        let executor = VirtualExecutor()
        let loop = executor.loop
        executor.spawn { try? await loop.sleep(nanoseconds: 40_000_000) }
        loop.run()
        let metrics = Metrics()
        let source = LoopMetrics(metrics: metrics, loop: loop).source
        metrics.sample()
        XCTAssertEqual(line(metrics, source), "loop jobs_run=\(loop.jobsRun)i,idle_ns=40000000i 1\n")
        XCTAssertGreaterThanOrEqual(loop.jobsRun, 2)
    }

    func testHTTPCountsByMethodAndStatusAndTimesRequests() {
        let metrics = Metrics()
        let http = HTTPMetrics(metrics: metrics, tags: [MetricTag("interface", "service")])
        http.record(method: "GET", status: 200, nanoseconds: 2_000_000)
        http.record(method: "GET", status: 200, nanoseconds: 20_000_000)
        http.record(method: Array("POST".utf8), status: 201, nanoseconds: 600_000_000)
        http.record(method: "get", status: 200, nanoseconds: 1)  // methods are case-sensitive
        http.record(method: "GET", status: 999, nanoseconds: 1)
        XCTAssertEqual(http.duration.count, 5)
        XCTAssertEqual((0..<11).map(http.duration.cumulativeCount), [3, 3, 4, 4, 4, 4, 4, 5, 5, 5, 5])
        let counts = metrics.sources.dropFirst().map { source -> String in
            let tags = source.tags.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
            return tags + " " + source.fields.map(\.name).joined() + "=\(source.slot(source.fields[0].slot))"
        }
        XCTAssertEqual(
            counts,
            [
                "interface=service,method=GET,status=200 requests=2",
                "interface=service,method=POST,status=201 requests=1",
                "interface=service,method=OTHER,status=200 requests=1",
                "interface=service,method=GET,status=other requests=1",
            ])
    }

    func testHTTPSeriesAreBounded() {
        let metrics = Metrics()
        let http = HTTPMetrics(metrics: metrics, maximumSeries: 3)
        for status in 200..<210 { http.record(method: "GET", status: status, nanoseconds: 1) }
        // Three pairs, then everything else under OTHER/other.
        XCTAssertEqual(metrics.sources.count, 1 + 3 + 1)
        let overflow = metrics.sources.last!
        XCTAssertEqual(overflow.tags.map(\.value), ["OTHER", "other"])
        XCTAssertEqual(overflow.slot(overflow.fields[0].slot), 7)
        http.record(method: "GET", status: 200, nanoseconds: 1)
        XCTAssertEqual(metrics.sources.count, 5)
    }

    func testHTTPSwitches() {
        let metrics = Metrics()
        let http = HTTPMetrics(metrics: metrics)
        http.record(method: "GET", status: 200, nanoseconds: 1)
        http.record(method: "PUT", status: 200, nanoseconds: 1)
        metrics.disable(tag: "method", value: "GET")
        http.record(method: "GET", status: 200, nanoseconds: 1)
        http.record(method: "PUT", status: 200, nanoseconds: 1)
        XCTAssertEqual(http.duration.count, 4)
        let get = metrics.sources[1]
        let put = metrics.sources[2]
        XCTAssertEqual(get.slot(get.fields[0].slot), 1)
        XCTAssertEqual(put.slot(put.fields[0].slot), 2)
        metrics.disable(source: "http")
        http.record(method: "DELETE", status: 204, nanoseconds: 1)
        XCTAssertEqual(http.duration.count, 4)
        XCTAssertEqual(metrics.sources.count, 3, "nothing registered while off")
    }
}
