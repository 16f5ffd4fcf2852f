import Foundation

/// What riad prints about itself goes to standard error, prefixed "riad:";
/// on a terminal the prefix is dimmed and errors are red, elsewhere (a
/// log, a pipe, CI) the text is plain. The kernel's own output is never
/// touched: it goes straight through.
enum Terminal {
    static let colour: Bool =
        isatty(STDERR_FILENO) == 1 && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
        && ProcessInfo.processInfo.environment["TERM"] != "dumb"

    /// A progress or information line.
    static func note(_ text: String) {
        write(colour ? "\u{1b}[2mriad:\u{1b}[0m \(text)\n" : "riad: \(text)\n")
    }

    /// An error line.
    static func error(_ text: String) {
        write(colour ? "\u{1b}[1;31mriad: error:\u{1b}[0m \(text)\n" : "riad: error: \(text)\n")
    }

    private static func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
