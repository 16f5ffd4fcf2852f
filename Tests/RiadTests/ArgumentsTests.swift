import Riad
import XCTest

final class ArgumentsTests: XCTestCase {
    func testPairsFlagsAndPositional() {
        let arguments = Arguments(["--count=2", "--verbose", "file", "--name=a=b", "", "-x"])
        XCTAssertEqual(arguments.value("count"), "2")
        XCTAssertEqual(arguments.value("verbose"), "")
        XCTAssertEqual(arguments.value("name"), "a=b")
        XCTAssertNil(arguments.value("missing"))
        XCTAssertEqual(arguments.positional, ["file", "-x"])
    }

    func testLastValueWins() {
        XCTAssertEqual(Arguments(["--count=1", "--count=3"]).value("count"), "3")
    }

    func testUnknown() {
        let arguments = Arguments(["--count=1", "--colour=red", "--sleep-ms=3"])
        XCTAssertEqual(arguments.unknown(known: ["count", "sleep-ms"]), ["colour"])
    }

    func testParseUnsigned() {
        XCTAssertEqual(Arguments.parseUnsigned("0"), 0)
        XCTAssertEqual(Arguments.parseUnsigned("18446744073709551615"), UInt64.max)
        XCTAssertNil(Arguments.parseUnsigned("18446744073709551616"))
        XCTAssertNil(Arguments.parseUnsigned("-1"))
        XCTAssertNil(Arguments.parseUnsigned(""))
        XCTAssertNil(Arguments.parseUnsigned("12a"))
        XCTAssertNil(Arguments.parseUnsigned("999999999999999999999"))
    }
}
