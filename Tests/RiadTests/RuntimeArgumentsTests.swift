import Riad
import XCTest

final class RuntimeArgumentsTests: XCTestCase {
    private func declare() -> (
        RuntimeArguments, RuntimeArguments.Handle<UInt64>, RuntimeArguments.Handle<String>,
        RuntimeArguments.Handle<Bool>
    ) {
        var arguments = RuntimeArguments(program: "k")
        let count = arguments.unsigned("count", default: 4, help: "lines")
        let name = arguments.string("name", default: "riad", help: "a name")
        let verbose = arguments.flag("verbose", help: "say more")
        return (arguments, count, name, verbose)
    }

    func testDefaultsAndValues() throws {
        let (arguments, count, name, verbose) = declare()
        let defaults = try arguments.parse([]).get()
        XCTAssertEqual(defaults[count], 4)
        XCTAssertEqual(defaults[name], "riad")
        XCTAssertFalse(defaults[verbose])
        let given = try arguments.parse(["--count=7", "--name=a=b", "--verbose"]).get()
        XCTAssertEqual(given[count], 7)
        XCTAssertEqual(given[name], "a=b")
        XCTAssertTrue(given[verbose])
        XCTAssertFalse(try arguments.parse(["--verbose=false"]).get()[verbose])
    }

    func testMistakes() {
        let (arguments, _, _, _) = declare()
        let cases: [([String], String)] = [
            (["--colour=red"], "unknown argument --colour"),
            (["--count=x"], "--count=x: expected a non-negative integer"),
            (["--count=-1"], "--count=-1: expected a non-negative integer"),
            (["--count"], "--count needs a value: --count=N"),
            (["--verbose=maybe"], "--verbose=maybe: expected true or false"),
            (["stray"], "unexpected argument `stray`"),
            (["-l"], "-l needs a log spec"),
            (["--logs=tcp:loud"], "--logs=tcp:loud: invalid argument"),
        ]
        for (words, expected) in cases {
            switch arguments.parse(words) {
            case .success: XCTFail("\(words) was accepted")
            case .failure(let problem):
                XCTAssertTrue(problem.message.hasPrefix(expected), "\(words): \(problem.message)")
            }
        }
    }

    func testHelpListsEveryArgument() {
        let (arguments, _, _, _) = declare()
        guard case .failure(let problem) = arguments.parse(["--count=1", "--help"]) else {
            return XCTFail("--help did not stop parsing")
        }
        XCTAssertTrue(problem.isHelp)
        let help = arguments.help()
        for line in [
            "usage: k [ARGUMENTS]", "--count=N", "lines (default 4)", "--name=TEXT", "(default \"riad\")",
            "--verbose", "-l, --logs=SPEC", "-h, --help",
        ] {
            XCTAssertTrue(help.contains(line), "missing \(line) in\n\(help)")
        }
    }

    func testLogsSetLevels() throws {
        let (arguments, _, _, _) = declare()
        _ = try arguments.parse(["-l", "*:warning,tcp:debug"]).get()
        XCTAssertEqual(Log.levels.level(for: "tcp"), .debug)
        XCTAssertEqual(Log.levels.level(for: "arp"), .warning)
        _ = try arguments.parse(["--logs=*:info"]).get()
        XCTAssertEqual(Log.levels.level(for: "arp"), .info)
    }
}
