import Riad
import XCTest

final class TimeTests: XCTestCase {
    func testDurationNameIsRiadsInImportingModules() {
        // `Duration` here is Riad.Duration: no ambiguity with Swift.Duration.
        let duration: Duration = .milliseconds(5)
        XCTAssertEqual(duration.nanoseconds, 5_000_000)
        let swift: Swift.Duration = .milliseconds(5)
        XCTAssertEqual(Duration(swift), duration)
        XCTAssertEqual(duration.swiftDuration, swift)
    }

    func testConstructors() {
        XCTAssertEqual(Duration.nanoseconds(7).nanoseconds, 7)
        XCTAssertEqual(Duration.microseconds(7).nanoseconds, 7_000)
        XCTAssertEqual(Duration.milliseconds(-7).nanoseconds, -7_000_000)
        XCTAssertEqual(Duration.seconds(UInt8(7)).nanoseconds, 7_000_000_000)
        XCTAssertEqual(Duration.zero.nanoseconds, 0)
    }

    func testConstructorsSaturate() {
        XCTAssertEqual(Duration.seconds(Int64.max), .max)
        XCTAssertEqual(Duration.seconds(10_000_000_000), .max)
        XCTAssertEqual(Duration.milliseconds(-Int64.max), .min)
        XCTAssertEqual(Duration.nanoseconds(UInt64.max), .max)
        XCTAssertEqual(Duration.microseconds(Int.min), .min)
    }

    func testArithmeticSaturates() {
        XCTAssertEqual(Duration.seconds(1) + .milliseconds(500), .milliseconds(1500))
        XCTAssertEqual(Duration.seconds(1) - .seconds(3), .seconds(-2))
        XCTAssertEqual(Duration.max + .nanoseconds(1), .max)
        XCTAssertEqual(Duration.min + .nanoseconds(-1), .min)
        XCTAssertEqual(Duration.min - .nanoseconds(1), .min)
        XCTAssertEqual(Duration.max - .nanoseconds(-1), .max)
        XCTAssertEqual(Duration.zero - .min, .max)
        XCTAssertEqual(-Duration.min, .max)
        XCTAssertEqual(-Duration.seconds(2), .seconds(-2))
        XCTAssertEqual(Duration.seconds(2) * 3, .seconds(6))
        XCTAssertEqual(Duration.max * 2, .max)
        XCTAssertEqual(Duration.max * -2, .min)
        XCTAssertEqual(Duration.seconds(3) / 2, .milliseconds(1500))
        XCTAssertEqual(Duration.seconds(3) / 0, .max)
        XCTAssertEqual(Duration.seconds(-3) / 0, .min)
        XCTAssertEqual(Duration.zero / 0, .zero)
        XCTAssertEqual(Duration.min / -1, .max)
        XCTAssertEqual(Duration.seconds(3) / Duration.seconds(2), 1.5)
        XCTAssertLessThan(Duration.milliseconds(999), .seconds(1))
    }

    func testInstantArithmeticSaturates() {
        let start = Instant(nanoseconds: 1_000)
        XCTAssertEqual(start.advanced(by: .nanoseconds(500)).nanoseconds, 1_500)
        XCTAssertEqual(start.advanced(by: .nanoseconds(-400)).nanoseconds, 600)
        XCTAssertEqual(start.advanced(by: .nanoseconds(-5_000)), .zero)
        XCTAssertEqual(start.advanced(by: .min), .zero)
        XCTAssertEqual(Instant.distantFuture.advanced(by: .nanoseconds(1)), .distantFuture)
        XCTAssertEqual(Instant(nanoseconds: .max - 10) + .seconds(1), .distantFuture)
        XCTAssertEqual(start + .max - .max, Instant(nanoseconds: 1_000))
        XCTAssertEqual(start - .nanoseconds(1_000), .zero)
        var moving = start
        moving += .microseconds(1)
        moving -= .nanoseconds(500)
        XCTAssertEqual(moving.nanoseconds, 1_500)
    }

    func testInstantDifferences() {
        let early = Instant(nanoseconds: 1_000)
        let late = Instant(nanoseconds: 4_000)
        XCTAssertEqual(late - early, .nanoseconds(3_000))
        XCTAssertEqual(early - late, .nanoseconds(-3_000))
        XCTAssertEqual(early.duration(to: late), .nanoseconds(3_000))
        XCTAssertEqual(Instant.distantFuture - .zero, .max)
        XCTAssertEqual(Instant.zero - .distantFuture, .min)
        XCTAssertEqual(Instant(nanoseconds: 1 << 63) - .zero, .max)
        XCTAssertEqual(Instant.zero - Instant(nanoseconds: 1 << 63), .min)
        XCTAssertEqual(Instant.zero - Instant(nanoseconds: (1 << 63) - 1), .nanoseconds(-Int64.max))
        XCTAssertLessThan(early, late)
    }

    func testDescriptions() {
        XCTAssertEqual(Duration.zero.description, "0 ns")
        XCTAssertEqual(Duration.nanoseconds(750).description, "750 ns")
        XCTAssertEqual(Duration.microseconds(1).description, "1 µs")
        XCTAssertEqual(Duration.nanoseconds(12_340).description, "12.34 µs")
        XCTAssertEqual(Duration.microseconds(1500).description, "1.5 ms")
        XCTAssertEqual(Duration.microseconds(1050).description, "1.05 ms")
        XCTAssertEqual(Duration.milliseconds(1001).description, "1.001 s")
        XCTAssertEqual(Duration.nanoseconds(999_999_999).description, "999.999 ms")
        XCTAssertEqual(Duration.milliseconds(-2250).description, "-2.25 s")
        XCTAssertEqual(Duration.seconds(3600).description, "3600 s")
        XCTAssertEqual(Duration.min.description, "-9223372036.854 s")
        XCTAssertEqual(Instant(nanoseconds: 1_500_000_000).description, "boot+1.5 s")
    }

    func testSwiftDurationConversionSaturates() {
        XCTAssertEqual(Duration(Swift.Duration.seconds(Int64.max)), .max)
        XCTAssertEqual(Duration(Swift.Duration.seconds(Int64.min)), .min)
        XCTAssertEqual(Duration(Swift.Duration.nanoseconds(-3)), .nanoseconds(-3))
        XCTAssertEqual(Duration(.microseconds(2) + .nanoseconds(1)), .nanoseconds(2_001))
    }

    func testStandardProtocols() {
        func total<D: DurationProtocol>(_ durations: [D]) -> D { durations.reduce(.zero, +) }
        XCTAssertEqual(total([Duration.seconds(1), .milliseconds(250)]), .milliseconds(1250))
        func later<I: InstantProtocol>(_ instant: I, by duration: I.Duration) -> I {
            instant.advanced(by: duration)
        }
        XCTAssertEqual(later(Instant.zero, by: .seconds(2)).nanoseconds, 2_000_000_000)
    }
}
