import XCTest

@testable import RiadMetrics

/// Sources, fields and switching them on and off at run time.
final class MetricsRegistryTests: XCTestCase {
    func testFieldsUpdateTheirSlots() {
        let metrics = Metrics()
        let source = metrics.source("app")
        let counter = source.counter("events")
        let gauge = source.gauge("level")
        let float = source.floatGauge("ratio")
        counter.increment()
        counter.increment(by: 9)
        gauge.set(5)
        gauge.decrement(by: 7)
        gauge.increment()
        float.set(0.5)
        float.increment(by: 0.25)
        XCTAssertEqual(counter.value, 10)
        XCTAssertEqual(gauge.value, -1)
        XCTAssertEqual(float.value, 0.75)
        counter.set(.max)
        counter.increment(by: 2)
        XCTAssertEqual(counter.value, 1, "counters wrap")
        XCTAssertEqual(source.fields.map(\.name), ["events", "level", "ratio"])
        XCTAssertEqual(source.fields.map(\.kind), [.counter, .gauge, .floatGauge])
    }

    func testValuesSurviveTheStorageGrowing() {
        let metrics = Metrics()
        let source = metrics.source("many")
        let first = source.counter("first")
        first.increment(by: 7)
        let histogram = source.histogram("h", bounds: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
        histogram.observe(3)
        let counters = (0..<40).map { source.counter("c\($0)") }
        for (index, counter) in counters.enumerated() { counter.increment(by: UInt64(index)) }
        XCTAssertEqual(first.value, 7)
        XCTAssertEqual(histogram.count, 1)
        XCTAssertEqual(counters.map(\.value), (0..<40).map { UInt64($0) })
    }

    func testHistogramBuckets() {
        let metrics = Metrics()
        let histogram = metrics.source("h").histogram("v", bounds: [1, 5, 10])
        for value in [0.5, 1, 1.0000001, 5, 10, 10.5, -3, .nan] { histogram.observe(value) }
        XCTAssertEqual(histogram.count, 7, "NaN is ignored")
        XCTAssertEqual(histogram.sum, 0.5 + 1 + 1.0000001 + 5 + 10 + 10.5 - 3, accuracy: 1e-9)
        // A value equal to a bound is in that bound's bucket.
        XCTAssertEqual((0..<3).map(histogram.cumulativeCount), [3, 5, 6])
    }

    func testDisabledSourcesIgnoreUpdatesAndKeepTheirValues() {
        let metrics = Metrics()
        let source = metrics.source("app")
        let counter = source.counter("events")
        let histogram = source.histogram("h", bounds: [1])
        counter.increment(by: 3)
        metrics.disable(source: "app")
        XCTAssertFalse(source.isEnabled)
        counter.increment(by: 100)
        histogram.observe(0.5)
        XCTAssertEqual(counter.value, 3)
        XCTAssertEqual(histogram.count, 0)
        metrics.enable(source: "app")
        counter.increment()
        XCTAssertEqual(counter.value, 4)
    }

    func testSwitchingBySourceAndTagLastRuleWins() {
        let metrics = Metrics(tags: [MetricTag("name", "web1")])
        let service = metrics.source("net", tags: [MetricTag("interface", "service")])
        let management = metrics.source("net", tags: [MetricTag("interface", "management")])
        let tcp = metrics.source("tcp")
        let heap = metrics.source("heap")
        func states() -> [Bool] { [service, management, tcp, heap].map(\.isEnabled) }
        XCTAssertEqual(states(), [true, true, true, true])

        metrics.disable(tag: "interface", value: "management")
        XCTAssertEqual(states(), [true, false, true, true])
        metrics.disable(source: "tcp")
        XCTAssertEqual(states(), [true, false, false, true])
        metrics.disable(tag: "interface")
        XCTAssertEqual(states(), [false, false, false, true])
        // Later rules win over earlier ones for the sources they match.
        metrics.enable(source: "net")
        XCTAssertEqual(states(), [true, true, false, true])
        // Setting a rule again moves it last.
        metrics.disable(tag: "interface")
        XCTAssertEqual(states(), [false, false, false, true])
        // The kernel-wide tags match too.
        metrics.disable(tag: "name", value: "web1")
        XCTAssertEqual(states(), [false, false, false, false])
        metrics.enable(tag: "name")
        XCTAssertEqual(states(), [true, true, true, true])

        metrics.disableAll()
        XCTAssertEqual(states(), [false, false, false, false])
        metrics.enable(source: "heap")
        XCTAssertEqual(states(), [false, false, false, true])
        // Sources registered later follow the rules in force.
        let later = metrics.source("net", tags: [MetricTag("interface", "backup")])
        XCTAssertFalse(later.isEnabled)
        let laterHeap = metrics.source("heap", tags: [MetricTag("zone", "dma")])
        XCTAssertTrue(laterHeap.isEnabled)
        metrics.enableAll()
        XCTAssertEqual(states() + [later.isEnabled], [true, true, true, true, true])
    }

    func testSamplersRunOnlyForEnabledSources() {
        let metrics = Metrics()
        let sampled = metrics.source("sampled")
        let value = sampled.gauge("value")
        var calls = 0
        sampled.sampler = {
            calls += 1
            value.set(Int64(calls) * 10)
        }
        metrics.sample()
        XCTAssertEqual(value.value, 10)
        metrics.disable(source: "sampled")
        metrics.sample()
        XCTAssertEqual(calls, 1)
        metrics.enableAll()
        metrics.sample()
        XCTAssertEqual(value.value, 20)
    }

    func testKernelTagsMergeWithSourceTags() {
        let metrics = Metrics(tags: [MetricTag("name", "web1"), MetricTag("zone", "eu")])
        let source = metrics.source("x", tags: [MetricTag("zone", "us"), MetricTag("a", "1")])
        XCTAssertEqual(
            metrics.effectiveTags(of: source).map { "\($0.key)=\($0.value)" },
            ["a=1", "name=web1", "zone=us"])
        metrics.setTag("name", "web2")
        metrics.setTag("b", "2")
        XCTAssertEqual(metrics.tags.map(\.key), ["b", "name", "zone"])
        XCTAssertEqual(
            metrics.effectiveTags(of: source).map { "\($0.key)=\($0.value)" },
            ["a=1", "b=2", "name=web2", "zone=us"])
    }
}
