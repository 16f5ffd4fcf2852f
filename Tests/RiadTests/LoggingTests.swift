import Riad
import XCTest

final class LogLevelsTests: XCTestCase {
    func testDefaultIsInfo() {
        let levels = LogLevels()
        XCTAssertEqual(levels.level(for: "tcp"), .info)
        XCTAssertEqual(levels.mostVerbose, .info)
    }

    func testParseDefaultAndSources() throws {
        let levels = try LogLevels.parse("*:warning,tcp:debug,arp:error")
        XCTAssertEqual(levels.defaultLevel, .warning)
        XCTAssertEqual(levels.level(for: "tcp"), .debug)
        XCTAssertEqual(levels.level(for: "arp"), .error)
        XCTAssertEqual(levels.level(for: "dhcp"), .warning)
        XCTAssertEqual(levels.level(for: "tc"), .warning)
        XCTAssertEqual(levels.mostVerbose, .debug)
    }

    func testBareLevelSetsTheDefault() throws {
        XCTAssertEqual(try LogLevels.parse("debug").defaultLevel, .debug)
        XCTAssertEqual(try LogLevels.parse("warn").defaultLevel, .warning)
    }

    func testOrderSpacesAndOverrides() throws {
        let levels = try LogLevels.parse(" tcp : debug , *:error,tcp:info ")
        XCTAssertEqual(levels.level(for: "tcp"), .info)
        XCTAssertEqual(levels.defaultLevel, .error)
        // `*` sets the default only; sources keep their own level.
        let later = try LogLevels.parse("tcp:debug,*:error")
        XCTAssertEqual(later.level(for: "tcp"), .debug)
    }

    func testBadSpecifications() {
        for spec in [
            "", "  ", "tcp:verbose", ":debug", " :debug", "tcp:debug,", ",tcp:debug", ",,", "tcp:",
            "tcp:debug:x", "INFO", "*:", "tcp debug",
        ] {
            XCTAssertThrowsError(try LogLevels.parse(spec), "spec '\(spec)'") { error in
                XCTAssertEqual((error as? RiadError)?.kind, .invalidArgument)
                XCTAssertFalse((error as? RiadError)?.message.isEmpty ?? true)
            }
        }
    }

    func testErrorMessagesSayWhatIsWrong() {
        do {
            _ = try LogLevels.parse("*:info,tcp:verbose")
            XCTFail("parsed")
        } catch {
            XCTAssertEqual(
                error.description,
                "invalid argument: unknown log level 'verbose' (expected error, warning, info or debug)")
        }
        do {
            _ = try LogLevels.parse(":debug")
            XCTFail("parsed")
        } catch {
            XCTAssertEqual(
                error.description, "invalid argument: empty source in log specification item ':debug'")
        }
    }

    func testApplyIsAllOrNothing() throws {
        var levels = try LogLevels.parse("tcp:debug")
        XCTAssertThrowsError(try levels.apply("*:error,udp:nope"))
        XCTAssertEqual(levels.defaultLevel, .info)
        XCTAssertEqual(levels.level(for: "udp"), .info)
        try levels.apply("udp:warning")
        XCTAssertEqual(levels.level(for: "udp"), .warning)
        XCTAssertEqual(levels.level(for: "tcp"), .debug)
    }

    func testDescriptionParsesBack() throws {
        let levels = try LogLevels.parse("tcp:debug,*:warning,arp:error,tcp:info")
        XCTAssertEqual(levels.description, "*:warning,tcp:info,arp:error")
        let again = try LogLevels.parse(levels.description)
        XCTAssertEqual(again.description, levels.description)
    }

    func testLevelNamesAndOrder() {
        XCTAssertEqual(LogLevel("debug"), .debug)
        XCTAssertNil(LogLevel("Debug"))
        XCTAssertLessThan(LogLevel.error, .warning)
        XCTAssertLessThan(LogLevel.info, .debug)
        XCTAssertEqual(LogLevel.warning.description, "warning")
    }
}

final class LoggerTests: XCTestCase {
    private var lines: [(LogLevel, String)] = []
    private var savedLevels = LogLevels()

    override func setUp() {
        savedLevels = Log.levels
        lines = []
        Log.sink = { [unowned self] level, line in self.lines.append((level, line)) }
    }

    override func tearDown() {
        Log.levels = savedLevels
        Log.sink = { _, line in print(line) }
        Log.timestamp = nil
    }

    func testLineFormatAndLevels() throws {
        try Log.configure("*:warning,tcp:debug")
        let tcp = Logger(source: "tcp")
        let arp = Logger(source: "arp")
        tcp.debug("SYN from 10.0.0.2")
        arp.info("not shown")
        arp.warning("table full")
        arp.error("gone")
        XCTAssertEqual(
            lines.map { $0.1 },
            ["tcp: debug: SYN from 10.0.0.2", "arp: warning: table full", "arp: error: gone"])
        XCTAssertEqual(lines.map { $0.0 }, [.debug, .warning, .error])
        XCTAssertTrue(tcp.isEnabled(.debug))
        XCTAssertFalse(arp.isEnabled(.info))
    }

    func testDisabledMessagesAreNotBuilt() {
        Log.levels = LogLevels(default: .info)
        var built = 0
        func message() -> String {
            built += 1
            return "expensive"
        }
        let log = Logger(source: "dns")
        log.debug(message())
        XCTAssertEqual(built, 0)
        log.info(message())
        XCTAssertEqual(built, 1)
        Log.levels.setLevel(.debug, for: "other")
        log.debug(message())  // some source is at debug, but not this one
        XCTAssertEqual(built, 1)
        XCTAssertEqual(lines.count, 1)
    }

    func testTimestamp() {
        Log.levels = LogLevels()
        Log.timestamp = { 12_345_678_901 }
        Logger(source: "net").info("up")
        XCTAssertEqual(lines.first?.1, "[12.345678] net: info: up")
        XCTAssertEqual(
            Log.format(source: "a", level: .error, message: "b", nanoseconds: 5_000), "[0.000005] a: error: b"
        )
        XCTAssertEqual(Log.format(source: "a", level: .error, message: "b"), "a: error: b")
    }

    func testConfigureKeepsLevelsOnError() throws {
        try Log.configure("tcp:debug")
        XCTAssertThrowsError(try Log.configure("tcp:loud"))
        XCTAssertEqual(Log.levels.level(for: "tcp"), .debug)
    }
}

final class RiadErrorTests: XCTestCase {
    func testDescription() {
        XCTAssertEqual(RiadError(.timedOut).description, "timed out")
        XCTAssertEqual(RiadError(.notFound, "no key 'x'").description, "not found: no key 'x'")
        XCTAssertEqual(RiadError.Kind.addressInUse.description, "address in use")
    }

    func testTypedThrows() {
        func fails() throws(RiadError) -> Int { throw RiadError(.wouldBlock) }
        do {
            _ = try fails()
            XCTFail("did not throw")
        } catch {
            XCTAssertEqual(error.kind, .wouldBlock)  // `error` is a RiadError, no cast
        }
    }
}
