import Riad
import RiadTestSupport
import XCTest

@testable import RiadMetrics

/// `--metrics`, `--metrics-interval` and `--name`.
final class MetricsArgumentsTests: XCTestCase {
    private func configure(_ words: [String]) throws -> MetricsConfiguration {
        var arguments = RuntimeArguments(program: "web")
        let declared = MetricsArguments(declaringIn: &arguments)
        guard case .success(let values) = arguments.parse(words) else {
            throw RiadError(.invalidArgument, "RuntimeArguments refused \(words)")
        }
        return try declared.configuration(values)
    }

    func testDefaults() throws {
        let configuration = try configure([])
        guard case .none = configuration.output else { return XCTFail("default output") }
        XCTAssertEqual(configuration.interval, .seconds(10))
        XCTAssertEqual(configuration.name, "web")
        XCTAssertNil(configuration.influxReporter)
        let metrics = Metrics()
        let source = metrics.source("x")
        configuration.apply(to: metrics)
        XCTAssertFalse(source.isEnabled, "--metrics=none turns metrics off")
        XCTAssertEqual(metrics.tags.map(\.value), ["web"])
    }

    func testInfluxOverTCP() throws {
        let configuration = try configure([
            "--metrics=influx-tcp:10.0.0.1:8094", "--name=web1", "--metrics-interval=5",
        ])
        let reporter = try XCTUnwrap(configuration.influxReporter)
        XCTAssertEqual(reporter.sink.host, "10.0.0.1")
        XCTAssertEqual(reporter.sink.port, 8094)
        guard case .tcp = reporter.sink.transport else { return XCTFail("transport") }
        XCTAssertEqual(reporter.interval, .seconds(5))
        let metrics = Metrics()
        let source = metrics.source("x")
        configuration.apply(to: metrics)
        XCTAssertTrue(source.isEnabled)
        XCTAssertEqual(metrics.tags.map { "\($0.key)=\($0.value)" }, ["name=web1"])
    }

    func testInfluxOverHTTPAndPrometheus() throws {
        let http = try XCTUnwrap(
            try configure(["--metrics=influx-http:influx.example:8086/kernels"]).influxReporter)
        XCTAssertEqual(http.sink.host, "influx.example")
        XCTAssertEqual(http.sink.port, 8086)
        guard case .http(let database) = http.sink.transport else { return XCTFail("transport") }
        XCTAssertEqual(database, "kernels")
        guard case .prometheus = try configure(["--metrics=prometheus"]).output else {
            return XCTFail("prometheus")
        }
    }

    func testMistakesAreRefusedWithTheArgumentNamed() {
        for (words, message) in [
            (["--metrics=influx"], "--metrics=influx: expected none, prometheus"),
            (["--metrics=influx-tcp:host"], "--metrics=influx-tcp:host: expected HOST:PORT"),
            (["--metrics=influx-tcp::80"], "expected HOST:PORT"),
            (["--metrics=influx-tcp:host:0"], "the port must be"),
            (["--metrics=influx-tcp:host:65536"], "the port must be"),
            (["--metrics=influx-tcp:host:8o"], "the port must be"),
            (["--metrics=influx-tcp:ho st:80"], "the host must be"),
            (["--metrics=influx-http:host:8086"], "expected influx-http:HOST:PORT/DB"),
            (["--metrics=influx-http:host:8086/"], "expected influx-http:HOST:PORT/DB"),
            (["--metrics-interval=0"], "--metrics-interval must be"),
        ] {
            XCTAssertThrowsError(try configure(words), "\(words)") { error in
                guard let error = error as? RiadError else { return XCTFail("\(error)") }
                XCTAssertEqual(error.kind, .invalidArgument)
                XCTAssertTrue(error.message.contains(message), "\(words): \(error.message)")
            }
        }
    }

    func testThePlatformVariantWritesTheProblem() {
        var arguments = RuntimeArguments(program: "web")
        let declared = MetricsArguments(declaringIn: &arguments)
        guard case .success(let values) = arguments.parse(["--metrics=bogus"]) else {
            return XCTFail("parse")
        }
        let console = TextLog()
        let platform = VirtualPlatform(executor: VirtualExecutor(), console: console)
        XCTAssertNil(declared.configuration(values, platform))
        XCTAssertEqual(
            console.entries,
            [
                "web: --metrics=bogus: expected none, prometheus, influx-tcp:HOST:PORT or influx-http:HOST:PORT/DB; see --help\n"
            ])
        XCTAssertTrue(arguments.help().contains("--metrics-interval=N"))
    }
}
