// libFuzzer target for the kernel's command-line parsers (docs/fuzzing.md):
// the input, split at NUL bytes into words (invalid UTF-8 replaced), is a
// kernel command line for `RuntimeArguments` (with -l/--logs, which go to
// `LogLevels`) and for `Arguments`. None may trap on any words. (The help
// text depends on the declarations only, not on the input: it is not fuzzed.)

import Riad

/// A kernel's declarations: a number, a text and a switch.
nonisolated(unsafe) let declared = {
    var arguments = RuntimeArguments(program: "fuzz")
    let count = arguments.unsigned("count", default: 4, help: "lines to print")
    let name = arguments.string("name", default: "riad", help: "a name")
    let verbose = arguments.flag("verbose", help: "say more")
    return (arguments: arguments, count: count, name: name, verbose: verbose)
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let words = UnsafeBufferPointer(start: data, count: size).split(
        separator: 0, omittingEmptySubsequences: false
    ).map { String(decoding: $0, as: UTF8.self) }
    // -l and --logs set the global levels: start each input afresh.
    Log.levels = LogLevels()
    defer { Log.levels = LogLevels() }

    let (arguments, count, name, verbose) = declared
    let simple = Arguments(words)
    _ = simple.unknown(known: ["count", "name", "verbose"])
    if case .success(let values) = arguments.parse(words) {
        _ = (values[count], values[name], values[verbose])
        // The last --count given is the value, as `Arguments` finds it too.
        if let given = simple.value("count") {
            check(
                Arguments.parseUnsigned(given) == values[count],
                "--count=\(given) parsed as \(values[count])")
        }
    }
    for word in words {
        _ = Arguments.parseUnsigned(word)
        if let levels = try? LogLevels.parse(word) { _ = levels.description }
    }
    return 0
}

/// Stops the run, which libFuzzer records as a crash, if `condition` fails.
func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError("fuzz-runtime-arguments: " + message()) }
}
