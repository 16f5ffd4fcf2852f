import Foundation
import XCTest

/// The monitor example end to end, over a tap: its metrics pushed to a real
/// InfluxDB 1.x (`--metrics=influx-http:...`) and to a plain TCP listener
/// (`influx-tcp:...`, as Telegraf's socket_listener would take them),
/// scraped from /metrics by a real Prometheus, and the Grafana dashboards'
/// queries run against both; then the kernel with its sink down: pages still
/// answered, the reporter's queue bounded, drops counted.
final class MonitoringTests: XCTestCase {
    /// `InfluxReporterConfiguration.queueCapacity`'s default.
    static let queueCapacity = 256 * 1024

    override func setUp() async throws {
        try TapFixture.requireTap()
        for tool in ["/usr/bin/curl", "/bin/nc", "/bin/ss"] {
            try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: tool), "\(tool) is missing")
        }
    }

    private func requireInfluxDB() throws {
        try XCTSkipUnless(
            FileManager.default.isExecutableFile(atPath: "/usr/bin/influxd"),
            "influxd is missing (Debian: apt-get install influxdb)")
    }

    private func requirePrometheus() throws {
        for tool in ["/usr/bin/prometheus", "/usr/bin/promtool"] {
            try XCTSkipUnless(
                FileManager.default.isExecutableFile(atPath: tool),
                "\(tool) is missing (Debian: apt-get install prometheus)")
        }
    }

    /// Starts examples/monitor on the tap with `arguments` and waits until
    /// it serves.
    private func startMonitor(hvt: Bool, on tap: TapFixture, _ arguments: [String]) throws {
        if hvt {
            try Support.requireKVM()
            let image = try Support.kernel("monitor", examples: true)
            try tap.start(
                Support.tender,
                ["--mem=32", "--net:service=\(tap.name)", image.path] + tap.addressArguments + arguments)
        } else {
            let executable = try Support.unixKernel("monitor", examples: true)
            try tap.start(
                executable.path, ["--net:service=\(tap.name)", "--"] + tap.addressArguments + arguments)
        }
        try tap.waitForOutput(containing: "monitor: serving on port 80")
    }

    /// GETs `path` from the kernel `count` times, expecting `status`.
    private func get(_ path: String, from tap: TapFixture, times count: Int, expecting status: Int) throws {
        for _ in 0..<count {
            let answer = try Curl.get("http://\(tap.kernelAddress)\(path)")
            XCTAssertEqual(answer.status, status, "GET \(path): \(answer.body)\n" + tap.output)
        }
    }

    // MARK: InfluxDB over HTTP

    func testInfluxDBStoresTheKernelsPointsOnHvt() throws {
        try influxDB(hvt: true, prefix: "riadmih", subnet: 73)
    }

    func testInfluxDBStoresTheKernelsPointsOnUnix() throws {
        try influxDB(hvt: false, prefix: "riadmiu", subnet: 74)
    }

    /// influxd bound to the tap's host address, the kernel pushing to it
    /// every second; 5 pages and 2 misses; then InfluxQL finds the points
    /// with their tags and the counts exactly, and every query of the
    /// InfluxDB dashboard answers.
    private func influxDB(hvt: Bool, prefix: String, subnet: Int) throws {
        try requireInfluxDB()
        let tap = try TapFixture(prefix: prefix, subnet: subnet)
        let influx = try InfluxDBServer(address: tap.hostAddress)
        try influx.createDatabase("riad")
        try startMonitor(
            hvt: hvt, on: tap,
            ["--metrics=influx-http:\(tap.hostAddress):8086/riad", "--metrics-interval=1", "--name=e2e"])
        try get("/", from: tap, times: 5, expecting: 200)
        try get("/missing", from: tap, times: 2, expecting: 404)

        // Points arrive every second; wait for one counting every visit,
        // and for a few more so that rates have two points to work on.
        let recent = #"WHERE "name" = 'e2e' AND time > now() - 10m"#
        _ = try waitUntil(
            "the visits in InfluxDB",
            probe: { try influx.query(#"SELECT last("visits") FROM "app" "# + recent).first?.last("last") },
            until: { $0 == 5 })
        let seen = try waitUntil(
            "three batches in InfluxDB",
            probe: {
                try influx.query(#"SELECT count("jobs_run") FROM "loop" "# + recent).first?.last("count") ?? 0
            },
            until: { $0 >= 3 })
        XCTAssertGreaterThanOrEqual(seen, 3)

        // Requests by method and status: nothing but this test asked.
        let requests = try influx.query(
            #"SELECT last("requests") FROM "http" "# + recent + #" GROUP BY "method", "status""#)
        var counts: [String: Double] = [:]
        for series in requests {
            counts["\(series.tags["method"] ?? "") \(series.tags["status"] ?? "")"] = series.last("last")
        }
        XCTAssertEqual(counts, ["GET 200": 5, "GET 404": 2], influx.log)
        let duration = try influx.query(
            #"SELECT last("request_duration_seconds_count") AS "count", last("request_duration_seconds_le_10") AS "le10" FROM "http" "#
                + recent)
        XCTAssertEqual(duration.first?.last("count"), 7)
        XCTAssertEqual(duration.first?.last("le10"), 7)

        // The interface's source, tagged with the kernel's name and the
        // interface: bytes both ways, at least the pages' worth out.
        let net = try influx.query(
            #"SELECT last("received_bytes") AS "in", last("sent_bytes") AS "out", last("frames_received") AS "frames" FROM "net" WHERE time > now() - 10m GROUP BY *"#
        )
        XCTAssertEqual(net.count, 1)
        XCTAssertEqual(net.first?.tags, ["interface": "service", "name": "e2e"])
        XCTAssertGreaterThan(net.first?.last("in") ?? 0, 0)
        XCTAssertGreaterThan(net.first?.last("out") ?? 0, 5 * 100)
        XCTAssertGreaterThan(net.first?.last("frames") ?? 0, 0)
        let interfaces = try influx.query(#"SHOW TAG VALUES FROM "net" WITH KEY = "interface""#)
        XCTAssertEqual(interfaces.first?.values.compactMap { $0.last as? String }, ["service"])
        let tcp = try influx.query(#"SELECT last("listen") FROM "tcp" "# + recent)
        XCTAssertEqual(tcp.first?.last("last"), 1)
        let heap = try influx.query(
            #"SELECT last("in_use_bytes") AS "used", last("high_water_bytes") AS "high" FROM "heap" "#
                + recent)
        XCTAssertGreaterThan(heap.first?.last("used") ?? 0, 0)
        XCTAssertGreaterThanOrEqual(heap.first?.last("high") ?? 0, heap.first?.last("used") ?? .infinity)

        // The reporter's own source: sent, nothing dropped, tagged with
        // its sink.
        let reporter = try influx.query(
            #"SELECT last("batches_sent") AS "sent", last("batches_dropped") AS "dropped" FROM "influx" "#
                + recent
                + " GROUP BY *")
        XCTAssertEqual(reporter.first?.tags, ["name": "e2e", "sink": "\(tap.hostAddress):8086"])
        XCTAssertGreaterThanOrEqual(reporter.first?.last("sent") ?? 0, 2)
        XCTAssertEqual(reporter.first?.last("dropped"), 0)

        // Every query of the InfluxDB dashboard parses and finds data.
        for statement in try GrafanaDashboard.queries("riad-influxdb.json", key: "query") {
            let concrete =
                statement
                .replacingOccurrences(of: "$timeFilter", with: "time > now() - 10m")
                .replacingOccurrences(of: "$__interval", with: "1s")
                .replacingOccurrences(of: "$name", with: "e2e")
            XCTAssertFalse(try influx.query(concrete).isEmpty, "no data for \(concrete)")
        }
        XCTAssertFalse(tap.output.contains("retrying"), tap.output)
    }

    // MARK: Line protocol over TCP

    /// A plain TCP listener in place of Telegraf: batches of lines, one
    /// timestamp each, a second apart, every source there with its tags.
    func testLineProtocolOverTCPOnHvt() throws {
        let tap = try TapFixture(prefix: "riadmt", subnet: 75)
        let listener = try LineListener(address: tap.hostAddress, port: 8094)
        try startMonitor(
            hvt: true, on: tap,
            ["--metrics=influx-tcp:\(tap.hostAddress):8094", "--metrics-interval=1", "--name=e2e-tcp"])
        try get("/", from: tap, times: 3, expecting: 200)
        let lines = try waitUntil(
            "three batches after the visits", probe: { listener.lines },
            until: { lines in
                guard let visits = lines.firstIndex(where: { $0.hasPrefix("app,name=e2e-tcp visits=3i ") })
                else {
                    return false
                }
                return lines[visits...].filter { $0.hasPrefix("heap,") }.count >= 3
            })
        let points = try lines.map(LinePoint.init)
        XCTAssertEqual(
            // `tender`: riad-hvt's own counters of the run (TENDER_STATS).
            Set(points.map(\.measurement)),
            ["heap", "loop", "net", "tcp", "http", "app", "influx", "tender"],
            lines.joined(separator: "\n"))
        XCTAssert(points.allSatisfy { $0.tags["name"] == "e2e-tcp" })
        XCTAssert(
            points.filter { $0.measurement == "net" || $0.measurement == "tcp" }.allSatisfy {
                $0.tags["interface"] == "service"
            })
        XCTAssert(
            points.filter { $0.measurement == "influx" }.allSatisfy {
                $0.tags["sink"] == "\(tap.hostAddress):8094"
            })
        XCTAssertEqual(
            points.last { $0.measurement == "http" && $0.tags["method"] == "GET" }?.fields["requests"], 3)
        XCTAssertEqual(
            points.last { $0.measurement == "http" && $0.tags["method"] == nil }?.fields[
                "request_duration_seconds_count"], 3)

        // One timestamp per batch (a heap line starts each), later each
        // time, from the kernel's wall clock: within the hour of the host's.
        var batches: [[LinePoint]] = []
        for point in points {
            if point.measurement == "heap" { batches.append([]) }
            batches[batches.count - 1].append(point)
        }
        XCTAssertGreaterThanOrEqual(batches.count, 3)
        for batch in batches {
            XCTAssertEqual(Set(batch.map(\.timestamp)).count, 1)
        }
        let stamps = batches.map { $0[0].timestamp }
        XCTAssertEqual(stamps, stamps.sorted())
        XCTAssertEqual(Set(stamps).count, stamps.count)
        let now = Int64(Date().timeIntervalSince1970 * 1e9)
        XCTAssertLessThan(abs(stamps.last! - now), 3_600_000_000_000)
        // The reporter counts what it sent: batch n reports n - 1 batches sent before it.
        let sent = batches.compactMap { batch in
            batch.first { $0.measurement == "influx" }?.fields["batches_sent"]
        }
        XCTAssertEqual(sent, (0..<sent.count).map(Double.init))
    }

    // MARK: Prometheus

    /// Prometheus scrapes /metrics every second (the kernel also pushes to
    /// a TCP listener, so that the reporter's own source is there): the
    /// series arrive with the kernel's labels and Prometheus's; promtool
    /// passes the live page; every query of the Prometheus dashboard finds
    /// data.
    func testPrometheusScrapesTheKernelOnHvt() throws {
        try requirePrometheus()
        let tap = try TapFixture(prefix: "riadmp", subnet: 76)
        let listener = try LineListener(address: tap.hostAddress, port: 8094)
        try startMonitor(
            hvt: true, on: tap,
            ["--metrics=influx-tcp:\(tap.hostAddress):8094", "--metrics-interval=1", "--name=e2e"])

        // The live page passes promtool's parser and lint.
        let page = try Curl.get("http://\(tap.kernelAddress)/metrics")
        XCTAssertEqual(page.status, 200)
        let file = try ScratchFolder("metrics-page")
        try page.body.write(toFile: file.path("metrics.txt"), atomically: true, encoding: .utf8)
        let check = try Support.run(
            "/bin/sh", ["-c", "/usr/bin/promtool check metrics < \(file.path("metrics.txt"))"])
        XCTAssertEqual(check.status, 0, check.output + check.errors)
        XCTAssertEqual(check.output + check.errors, "", page.body)

        let prometheus = try PrometheusServer(target: "\(tap.kernelAddress):80")
        try get("/", from: tap, times: 4, expecting: 200)
        try get("/missing", from: tap, times: 1, expecting: 404)
        _ = try waitUntil(
            "the visits in Prometheus",
            probe: { try prometheus.query(#"riad_app_visits_total{name="e2e"}"#).first?.value },
            until: { $0 == 4 })
        _ = try waitUntil(
            "five scrapes",
            probe: { try prometheus.query(#"count_over_time(up{job="riad"}[1m])"#).first?.value ?? 0 },
            until: { $0 >= 5 })

        let target = ["job": "riad", "instance": "\(tap.kernelAddress):80", "name": "e2e"]
        XCTAssertEqual(try prometheus.query(#"up{job="riad"}"#).first?.value, 1, prometheus.log)
        let requests = try prometheus.query("riad_http_requests_total")
        XCTAssertEqual(
            Set(requests.map { $0.labels }),
            Set(
                [["method": "GET", "status": "200"], ["method": "GET", "status": "404"]].map {
                    $0.merging(target) { a, _ in a }.merging(["__name__": "riad_http_requests_total"]) {
                        a, _ in a
                    }
                }))
        // Scrapes are GETs too, answered 200: at least the 4 pages.
        XCTAssertGreaterThanOrEqual(requests.first { $0.labels["status"] == "200" }?.value ?? 0, 4)
        XCTAssertEqual(requests.first { $0.labels["status"] == "404" }?.value, 1)
        let net = try prometheus.query("riad_net_received_bytes_total")
        XCTAssertEqual(net.first?.labels["interface"], "service")
        XCTAssertEqual(net.first?.labels["name"], "e2e")
        XCTAssertGreaterThan(net.first?.value ?? 0, 0)
        XCTAssertEqual(try prometheus.query(#"riad_tcp_listen{interface="service"}"#).first?.value, 1)
        // Prometheus's connection and the reporter's.
        XCTAssertGreaterThanOrEqual(try prometheus.query("riad_tcp_established").first?.value ?? 0, 2)
        let sent = try prometheus.query("riad_influx_batches_sent_total")
        XCTAssertEqual(sent.first?.labels["sink"], "\(tap.hostAddress):8094")
        XCTAssertGreaterThan(sent.first?.value ?? 0, 0)
        let latency = try prometheus.query(
            #"histogram_quantile(0.5, sum by (le) (rate(riad_http_request_duration_seconds_bucket[1m])))"#)
        XCTAssertGreaterThan(latency.first?.value ?? 0, 0)
        XCTAssertLessThanOrEqual(latency.first?.value ?? .infinity, 10)

        for expression in try GrafanaDashboard.queries("riad.json", key: "expr") {
            let concrete =
                expression
                .replacingOccurrences(of: "$__rate_interval", with: "1m")
                .replacingOccurrences(of: "$name", with: "e2e")
            XCTAssertFalse(try prometheus.query(concrete).isEmpty, "no data for \(concrete)")
        }
        XCTAssertFalse(listener.lines.isEmpty)
    }

    // MARK: Sink down

    /// The Influx sink is a closed port: pages are answered all along, the
    /// reporter's queue fills to its bound and no further, and the batches
    /// it drops are counted at /metrics. A long `--name` (1500 bytes, on
    /// every line) makes a batch about 13 KB, so the 256 KiB queue fills in
    /// about 20 ticks rather than 180.
    func testPagesAnswerWhileTheInfluxSinkIsDownOnHvt() throws {
        let tap = try TapFixture(prefix: "riadmd", subnet: 77)
        // A port on the tap's host address that nothing listens on: Linux
        // answers the kernel's SYN with a reset.
        let closedPort = 5
        XCTAssertEqual(
            try Support.run("/bin/ss", ["-Htln", "src", "\(tap.hostAddress):\(closedPort)"]).output, "")
        let name = String(repeating: "k", count: 1500)
        try startMonitor(
            hvt: true, on: tap,
            [
                "--metrics=influx-http:\(tap.hostAddress):\(closedPort)/riad", "--metrics-interval=1",
                "--name=\(name)",
            ])

        struct Reading: CustomStringConvertible {
            var queued: Double
            var batches: Double
            var dropped: Double
            var pointsDropped: Double
            var sent: Double
            var connectFailures: Double
            var description: String {
                "queued \(queued) B in \(batches), dropped \(dropped) (\(pointsDropped) points), sent \(sent), "
                    + "connect failures \(connectFailures)"
            }
        }
        var readings: [Reading] = []
        var pages = 0
        let sink = ["sink": "\(tap.hostAddress):\(closedPort)", "name": name]
        // A page and a reading every quarter second or so, until drops
        // have been seen to grow three times (about 20 s).
        _ = try waitUntil(
            "the drops to grow", timeout: 240,
            probe: {
                let page = try Curl.get("http://\(tap.kernelAddress)/")
                XCTAssertEqual(page.status, 200, page.body)
                if page.status == 200 { pages += 1 }
                let metrics = try Curl.get("http://\(tap.kernelAddress)/metrics")
                XCTAssertEqual(metrics.status, 200)
                let samples = PrometheusSample.parse(metrics.body)
                let reading = Reading(
                    queued: samples.value("riad_influx_queued_bytes", sink) ?? .nan,
                    batches: samples.value("riad_influx_queued_batches", sink) ?? .nan,
                    dropped: samples.value("riad_influx_batches_dropped_total", sink) ?? .nan,
                    pointsDropped: samples.value("riad_influx_points_dropped_total", sink) ?? .nan,
                    sent: samples.value("riad_influx_batches_sent_total", sink) ?? .nan,
                    connectFailures: samples.value("riad_influx_connect_failures_total", sink) ?? .nan)
                readings.append(reading)
                return readings
            },
            until: { readings in Set(readings.map(\.dropped).filter { $0 > 0 }).count >= 3 })

        let summary = readings.map(\.description).joined(separator: "\n")
        for reading in readings {
            XCTAssertLessThanOrEqual(reading.queued, Double(Self.queueCapacity), summary)
            XCTAssertEqual(reading.sent, 0, summary)
        }
        let dropped = readings.map(\.dropped)
        XCTAssertEqual(dropped, dropped.sorted(), "drops are a counter")
        XCTAssertEqual(dropped.first, 0, "nothing dropped before the queue filled")
        let last = readings.last!
        // Once dropping, the queue is full: the next batch did not fit.
        XCTAssertGreaterThan(last.queued, Double(Self.queueCapacity) * 0.9, summary)
        // Every batch has a point per source: heap, loop, net, tcp, http,
        // app, influx, and the requests' http series.
        XCTAssertGreaterThanOrEqual(last.pointsDropped, last.dropped * 7, summary)
        XCTAssertGreaterThanOrEqual(last.connectFailures, 1)
        // The page's own counter saw every page, the kernel served them all.
        let visits = PrometheusSample.parse(try Curl.get("http://\(tap.kernelAddress)/metrics").body)
        XCTAssertEqual(visits.value("riad_app_visits_total"), Double(pages))
        XCTAssertEqual(pages, readings.count)
        // One warning for the outage, not one per attempt.
        XCTAssertEqual(tap.output.components(separatedBy: "retrying").count - 1, 1, tap.output)
    }
}

/// The queries of a dashboard in docs/grafana.
enum GrafanaDashboard {
    static func queries(_ file: String, key: String) throws -> [String] {
        let data = try Data(contentsOf: Support.root.appendingPathComponent("docs/grafana/\(file)"))
        let dashboard = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
        let panels = dashboard["panels"] as? [[String: Any]] ?? []
        let queries = (panels + panels.flatMap { $0["panels"] as? [[String: Any]] ?? [] }).flatMap { panel in
            (panel["targets"] as? [[String: Any]] ?? []).compactMap { $0[key] as? String }
        }
        guard !queries.isEmpty else { throw TestFailure(description: "no queries in \(file)") }
        return queries
    }
}
