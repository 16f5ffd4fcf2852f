import Foundation
import XCTest

/// examples/clock: three tasks ticking at different periods interleave the
/// same way on unix and on hvt, decided by the event loop's timers.
final class ClockExampleTests: XCTestCase {
    static let expected = """
        fast tick 1 at 3
        medium tick 1 at 5
        fast tick 2 at 6
        slow tick 1 at 7
        fast tick 3 at 9
        medium tick 2 at 10
        fast tick 4 at 12
        slow tick 2 at 14
        medium tick 3 at 15
        fast tick 5 at 15
        fast tick 6 at 18
        medium tick 4 at 20
        slow tick 3 at 21
        fast tick 7 at 21
        done

        """

    func testClockOnUnix() throws {
        let clock = try Support.unixKernel("clock", examples: true)
        let result = try Support.run(clock.path, [])
        XCTAssertEqual(result.status, 0, result.errors)
        XCTAssertEqual(result.output, Self.expected)
    }

    func testClockOnHvt() throws {
        try Support.requireKVM()
        let clock = try Support.kernel("clock", examples: true)
        let result = try Support.boot(clock, tender: ["--mem=2"])
        XCTAssertEqual(result.status, 0, result.errors)
        XCTAssertEqual(result.output, Self.expected)
    }
}
