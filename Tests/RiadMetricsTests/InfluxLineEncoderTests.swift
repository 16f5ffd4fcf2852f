import XCTest

@testable import RiadMetrics

/// Line protocol against literal lines: escaping, every field type,
/// histograms, values line protocol cannot carry, and the strict parser.
final class InfluxLineEncoderTests: XCTestCase {
    let timestamp: UInt64 = 1_700_000_000_123_456_789

    private func encode(_ metrics: Metrics, _ encoder: InfluxLineEncoder = InfluxLineEncoder()) -> String {
        var output: [UInt8] = []
        encoder.encode(metrics, timestamp: timestamp, into: &output)
        return String(decoding: output, as: UTF8.self)
    }

    func testEveryFieldTypeOnOneLine() throws {
        let metrics = Metrics(tags: [MetricTag("name", "web1")])
        let source = metrics.source("net", tags: [MetricTag("interface", "service")])
        let frames = source.counter("frames_received", help: "Frames received.")
        let inFlight = source.gauge("in_flight")
        let ratio = source.floatGauge("ratio")
        let latency = source.histogram("latency", unit: .seconds, bounds: [0.005, 0.1, 1])
        let inUse = source.gauge("in_use", unit: .bytes)
        frames.increment(by: 40)
        frames.increment()
        frames.increment()
        inFlight.set(-3)
        ratio.set(0.25)
        inUse.set(65536)
        for value in [0.001, 0.05, 0.1, 2] { latency.observe(value) }

        let text = encode(metrics)
        XCTAssertEqual(
            text,
            "net,interface=service,name=web1 frames_received=42i,in_flight=-3i,ratio=0.25,"
                + "latency_seconds_count=4i,latency_seconds_sum=2.151,latency_seconds_le_0.005=1i,"
                + "latency_seconds_le_0.1=3i,latency_seconds_le_1=3i,in_use_bytes=65536i 1700000000123456789\n"
        )
        let point = try XCTUnwrap(LineProtocolParser.parse(text).first)
        XCTAssertEqual(point.measurement, "net")
        XCTAssertEqual(point.tags, ["interface": "service", "name": "web1"])
        XCTAssertEqual(point.fields["frames_received"], .integer(42))
        XCTAssertEqual(point.fields["ratio"], .float(0.25))
        XCTAssertEqual(point.timestamp, 1_700_000_000_123_456_789)
    }

    func testEscapingPerElement() throws {
        let metrics = Metrics(tags: [MetricTag("name", "web 1")])
        let source = metrics.source(
            "my app,v2",
            tags: [
                MetricTag("path", "/a=b,c d"), MetricTag("key with=", "x"), MetricTag("multi", "line\nbreak"),
                MetricTag("windows", "C:\\temp\\"), MetricTag("empty", ""),
            ])
        source.counter("hits=all, really").increment(by: 3)
        let text = encode(metrics)
        XCTAssertEqual(
            text,
            #"my\ app\,v2,key\ with\="#
                + #"=x,multi=line\ break,name=web\ 1,path=/a\=b\,c\ d,windows=C:/temp/ "#
                + #"hits\=all\,\ really=3i 1700000000123456789"# + "\n")
        let point = try XCTUnwrap(LineProtocolParser.parse(text).first)
        XCTAssertEqual(point.measurement, "my app,v2")
        XCTAssertEqual(point.tags["path"], "/a=b,c d")
        XCTAssertEqual(point.tags["key with="], "x")
        XCTAssertNil(point.tags["empty"], "empty tag values are left out")
        XCTAssertEqual(point.fields["hits=all, really"], .integer(3))
        XCTAssertEqual(point.tagOrder, point.tagOrder.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
    }

    func testUnsignedEncodings() {
        let metrics = Metrics()
        let source = metrics.source("big")
        source.counter("count").set(.max)
        XCTAssertEqual(encode(metrics), "big count=9223372036854775807i 1700000000123456789\n")
        XCTAssertEqual(
            encode(metrics, InfluxLineEncoder(unsignedEncoding: .unsigned)),
            "big count=18446744073709551615u 1700000000123456789\n")
    }

    func testValuesLineProtocolCannotCarryAreLeftOut() throws {
        let metrics = Metrics()
        let mixed = metrics.source("mixed")
        mixed.floatGauge("nan").set(.nan)
        mixed.floatGauge("ok").set(-1.5e-7)
        mixed.floatGauge("infinite").set(.infinity)
        let onlyNaN = metrics.source("only_nan")
        onlyNaN.floatGauge("value").set(.nan)
        let sumIsInfinite = metrics.source("sums")
        sumIsInfinite.histogram("h", bounds: [1]).observe(.infinity)
        _ = metrics.source("no_fields")
        let text = encode(metrics)
        XCTAssertEqual(
            text,
            "mixed ok=-1.5e-7 1700000000123456789\n" + "sums h_count=1i,h_le_1=0i 1700000000123456789\n")
        XCTAssertEqual(try LineProtocolParser.parse(text).count, 2)
    }

    func testUnitSuffixes() {
        let metrics = Metrics()
        let source = metrics.source("units")
        source.gauge("in_use_bytes", unit: .bytes).set(1)
        source.counter("idle", unit: .nanoseconds).set(1_500_000_000)
        source.floatGauge("uptime", unit: .seconds).set(2.5)
        XCTAssertEqual(
            encode(metrics),
            "units in_use_bytes=1i,idle_ns=1500000000i,uptime_seconds=2.5 1700000000123456789\n")
    }

    func testDisabledSourcesAreNotWritten() {
        let metrics = Metrics()
        metrics.source("a").counter("n").increment()
        metrics.source("b").counter("n").increment(by: 2)
        metrics.disable(source: "a")
        XCTAssertEqual(encode(metrics), "b n=2i 1700000000123456789\n")
    }

    func testStrictParserRefusesWhatLineProtocolDoesNot() {
        for bad in [
            "m f=1i", "m,t= f=1i 1", "m f=NaN 1", "m f=+Inf 1", "m f=1.5.2 1", "m f=1i,f=2i 1", "m 1",
            "m,t=a\\ f=1i 1", "#m f=1i 1", "m f=9223372036854775808i 1",
        ] {
            XCTAssertThrowsError(try LineProtocolParser.parseLine(Array(bad.utf8)), bad)
        }
        XCTAssertNoThrow(try LineProtocolParser.parseLine(Array("m,t=a\\ b f=1.5e+20,g=-2i,h=3u 1".utf8)))
    }
}
