import Foundation
import Riad
import RiadNet
import RiadTestSupport
import XCTest

@testable import RiadMetrics

/// The Grafana dashboards in docs/grafana name only series a kernel emits,
/// with labels or tags those series have, and show every one of them:
/// `riad.json` (PromQL) against the Prometheus encoder's output,
/// `riad-influxdb.json` (InfluxQL) against the line protocol encoder's, both
/// for a registry built as a kernel builds it (KernelMetrics and the Influx
/// reporter's own source). The queries themselves run against a real
/// Prometheus and InfluxDB in IntegrationTests/MonitoringTests.
final class GrafanaDashboardTests: XCTestCase {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("docs/grafana")

    /// Every built-in source, as in a kernel run with
    /// `--metrics=influx-http:...`: heap, loop, net, tcp and http from
    /// `KernelMetrics`, `influx` from the reporter; one request counted, so
    /// that http has its method and status series.
    private func kernelRegistry() -> Metrics {
        let executor = VirtualExecutor()
        let stack = FakeStack(executor: executor, sink: FakeSink(mode: .http))
        let platform = VirtualPlatform(executor: executor, console: TextLog())
        let sink = InfluxSink(host: "influx.example", port: 8086, transport: .http(database: "riad"))
        let configuration = MetricsConfiguration(output: .influx(sink), interval: .seconds(10), name: "web1")
        let kernel = KernelMetrics(configuration: configuration, platform: platform, stack: stack)
        kernel.http.record(method: "GET", status: 200, nanoseconds: 3_000_000)
        _ = InfluxReporter(
            metrics: kernel.metrics, stack: stack, platform: platform,
            configuration: configuration.influxReporter!)
        return kernel.metrics
    }

    private func dashboard(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: Self.folder.appendingPathComponent(name))
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any], name)
    }

    /// The panels, rows' nested panels included.
    private func panels(_ dashboard: [String: Any]) -> [[String: Any]] {
        let top = dashboard["panels"] as? [[String: Any]] ?? []
        return top + top.flatMap { $0["panels"] as? [[String: Any]] ?? [] }
    }

    /// The text of every query: panel targets (`key`) and variables.
    private func queries(_ dashboard: [String: Any], key: String) -> [String] {
        var texts = panels(dashboard).flatMap { panel in
            (panel["targets"] as? [[String: Any]] ?? []).compactMap { $0[key] as? String }
        }
        let variables = (dashboard["templating"] as? [String: Any])?["list"] as? [[String: Any]] ?? []
        for variable in variables where variable["type"] as? String == "query" {
            if let query = variable["query"] as? String { texts.append(query) }
            if let query = (variable["query"] as? [String: Any])?["query"] as? String { texts.append(query) }
        }
        return texts
    }

    private func matches(_ pattern: String, in text: String, group: Int = 1) -> [String] {
        let expression = try! NSRegularExpression(pattern: pattern)
        let range = NSRange(text.startIndex..., in: text)
        return expression.matches(in: text, range: range).compactMap {
            Range($0.range(at: group), in: text).map { String(text[$0]) }
        }
    }

    /// The double-quoted identifiers of InfluxQL text, left to right,
    /// without those after `AS` (aliases) if asked.
    private func quotedIdentifiers(_ text: String, skippingAliases: Bool = false) -> [String] {
        let expression = try! NSRegularExpression(pattern: #"(AS\s+)?"([^"]+)""#)
        return expression.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap {
            match in
            if skippingAliases && match.range(at: 1).location != NSNotFound { return nil }
            return Range(match.range(at: 2), in: text).map { String(text[$0]) }
        }
    }

    // MARK: Layout

    /// Import needs unique ids; the grid is 24 columns and panels must not
    /// overlap; every query uses the `datasource` variable.
    private func checkLayout(_ name: String, pluginId: String) throws {
        let board = try dashboard(name)
        let all = panels(board)
        XCTAssertEqual(Set(all.compactMap { $0["id"] as? Int }).count, all.count, "\(name): panel ids repeat")
        var taken: Set<[Int]> = []
        for panel in all {
            let grid = try XCTUnwrap(panel["gridPos"] as? [String: Int], "\(name): a panel has no gridPos")
            let (x, y, w, h) = (grid["x"]!, grid["y"]!, grid["w"]!, grid["h"]!)
            XCTAssert(
                x >= 0 && w > 0 && x + w <= 24 && h > 0, "\(name): \(panel["title"] ?? "") leaves the grid")
            for column in x..<(x + w) {
                for row in y..<(y + h) {
                    XCTAssert(
                        taken.insert([column, row]).inserted, "\(name): panels overlap at \(column),\(row)")
                }
            }
            guard panel["type"] as? String != "row" else { continue }
            let datasource = panel["datasource"] as? [String: String]
            XCTAssertEqual(datasource?["uid"], "${datasource}", "\(name): \(panel["title"] ?? "")")
            XCTAssertEqual(datasource?["type"], pluginId)
            XCTAssertFalse(
                (panel["targets"] as? [Any] ?? []).isEmpty, "\(name): \(panel["title"] ?? "") has no query")
        }
        let variables = (board["templating"] as? [String: Any])?["list"] as? [[String: Any]] ?? []
        XCTAssert(
            variables.contains {
                $0["name"] as? String == "datasource" && $0["query"] as? String == pluginId
            },
            "\(name): no datasource variable for \(pluginId)")
    }

    func testPrometheusDashboardLayout() throws {
        try checkLayout("riad.json", pluginId: "prometheus")
    }

    func testInfluxDBDashboardLayout() throws {
        try checkLayout("riad-influxdb.json", pluginId: "influxdb")
    }

    // MARK: Prometheus

    /// Families the encoder writes, with their kind and label names.
    private func prometheusFamilies() -> [String: (kind: String, labels: Set<String>)] {
        var text: [UInt8] = []
        let metrics = kernelRegistry()
        metrics.sample()
        PrometheusEncoder().encode(metrics, into: &text)
        var families: [String: (kind: String, labels: Set<String>)] = [:]
        for line in String(decoding: text, as: UTF8.self).split(separator: "\n") {
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                families[String(parts[2])] = (String(parts[3]), [])
            } else if !line.hasPrefix("#") {
                let series = String(line.prefix { $0 != "{" && $0 != " " })
                let family =
                    families[series] != nil
                    ? series
                    : ["_bucket", "_sum", "_count"].compactMap { suffix in
                        series.hasSuffix(suffix) ? String(series.dropLast(suffix.count)) : nil
                    }.first { families[$0]?.kind == "histogram" } ?? series
                for label in matches(#"([a-zA-Z_][a-zA-Z0-9_]*)=""#, in: String(line)) where label != "le" {
                    families[family]?.labels.insert(label)
                }
            }
        }
        return families
    }

    func testPrometheusDashboardNamesEveryFamilyAndOnlyThose() throws {
        let families = prometheusFamilies()
        XCTAssertEqual(
            Set(families.keys.compactMap { $0.split(separator: "_").dropFirst().first.map(String.init) }),
            ["heap", "loop", "net", "tcp", "http", "influx"])
        var used: Set<String> = []
        let expressions = queries(try dashboard("riad.json"), key: "expr")
        XCTAssertGreaterThan(expressions.count, 30)
        for expression in expressions {
            // The families this expression reads, and the label names its
            // matchers, `by` and `on` clauses and legend rely on.
            var read: [(family: String, bucket: Bool)] = []
            for name in matches(#"\b(riad_[a-zA-Z0-9_]+)"#, in: expression) {
                if families[name] != nil {
                    read.append((name, false))
                } else if let base = ["_bucket", "_sum", "_count"].compactMap({ suffix in
                    name.hasSuffix(suffix) ? String(name.dropLast(suffix.count)) : nil
                }).first(where: { families[$0]?.kind == "histogram" }) {
                    read.append((base, name.hasSuffix("_bucket")))
                } else {
                    XCTFail("riad.json reads \(name), which no kernel emits: \(expression)")
                }
            }
            XCTAssertFalse(read.isEmpty, "riad.json: \(expression) reads no riad series")
            var labels = Set(matches(#"([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*""#, in: expression))
            for list in matches(#"\b(?:by|on|without|ignoring)\s*\(([^)]*)\)"#, in: expression) {
                for label in list.split(separator: ",") {
                    labels.insert(label.trimmingCharacters(in: .whitespaces))
                }
            }
            for (family, bucket) in read {
                used.insert(family)
                for label in labels where !(label == "le" && bucket) {
                    XCTAssert(
                        families[family]!.labels.contains(label),
                        "riad.json: \(family) has no label \(label): \(expression)")
                }
            }
        }
        XCTAssertEqual(
            used, Set(families.keys), "families the dashboard does not show, or shows but no kernel emits")
    }

    // MARK: InfluxDB

    func testInfluxDBDashboardNamesEveryFieldAndOnlyThose() throws {
        var text: [UInt8] = []
        let metrics = kernelRegistry()
        metrics.sample()
        _ = InfluxLineEncoder().encode(metrics, timestamp: 1, into: &text)
        var fields: [String: Set<String>] = [:]
        var tags: [String: Set<String>] = [:]
        for point in try LineProtocolParser.parse(String(decoding: text, as: UTF8.self)) {
            fields[point.measurement, default: []].formUnion(point.fieldOrder)
            tags[point.measurement, default: []].formUnion(point.tagOrder)
        }
        XCTAssertEqual(Set(fields.keys), ["heap", "loop", "net", "tcp", "http", "influx"])
        var used: Set<String> = []
        let statements = queries(try dashboard("riad-influxdb.json"), key: "query")
        XCTAssertGreaterThan(statements.count, 15)
        for statement in statements {
            let measurement = try XCTUnwrap(
                matches(#"\bFROM "([^"]+)""#, in: statement).first, "no FROM in \(statement)")
            guard let known = fields[measurement] else {
                XCTFail("riad-influxdb.json reads measurement \(measurement), which no kernel writes")
                continue
            }
            let parts = statement.components(separatedBy: " FROM ")
            // In SELECT, quoted identifiers are fields, except aliases
            // (after AS); after FROM, they are tags.
            for field in quotedIdentifiers(parts[0], skippingAliases: true) {
                XCTAssert(known.contains(field), "\(measurement) has no field \(field): \(statement)")
                used.insert(measurement + "." + field)
            }
            for tag in quotedIdentifiers(parts.dropFirst().joined(separator: " FROM ")).dropFirst() {
                XCTAssert(tags[measurement]!.contains(tag), "\(measurement) has no tag \(tag): \(statement)")
            }
        }
        let emitted = Set(fields.flatMap { measurement, names in names.map { measurement + "." + $0 } })
        XCTAssertEqual(used, emitted, "fields the dashboard does not show, or shows but no kernel writes")
    }
}
