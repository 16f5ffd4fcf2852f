/// Logging for kernel-side code: named sources, a level per source, and one
/// sink the platform sets.
///
/// ```swift
/// let log = Logger(source: "tcp")
/// log.debug("SYN from \(address)")  // the string is built only if tcp is at debug
/// ```
///
/// A line reads `tcp: debug: SYN from 10.0.0.2`, preceded by the time since
/// boot (`[12.345678] `) when `Log.timestamp` is set.
///
/// The configuration is global: `Log.levels`, `Log.sink` and `Log.timestamp`
/// are plain variables. A Riad kernel runs on one thread (one cooperative
/// executor), so they are `nonisolated(unsafe)`: set them at start-up, or
/// from kernel code, never from another thread. (Ordinary Swift tests that
/// change them must not run in parallel with each other.)
public enum Log {
    /// The level of every source. `-l`/`--logs` sets it with
    /// `Log.configure(_:)`.
    nonisolated(unsafe) public static var levels = LogLevels()

    /// Where finished lines go, without a trailing newline. The platform
    /// sets it (to its console, for instance); by default it prints.
    nonisolated(unsafe) public static var sink: (_ level: LogLevel, _ line: String) -> Void = { _, line in
        print(line)
    }

    /// Nanoseconds since boot for the start of each line, or nil for lines
    /// without a time. The platform sets it once its clock works.
    nonisolated(unsafe) public static var timestamp: (() -> UInt64)? = nil

    /// Replaces the levels with those of a specification such as
    /// `*:info,tcp:debug` (see `LogLevels`). On an error, nothing changes.
    ///
    /// - Throws: `RiadError` of kind `.invalidArgument` for a bad
    ///   specification; its message says what is wrong.
    public static func configure(_ spec: String) throws(RiadError) {
        levels = try LogLevels.parse(spec)
    }

    /// The line for a message: "[12.345678] tcp: debug: message" (the time
    /// only when `nanoseconds` is given).
    public static func format(
        source: String, level: LogLevel, message: String, nanoseconds: UInt64? = nil
    ) -> String {
        var line = ""
        if let nanoseconds {
            var micros = "\(nanoseconds % 1_000_000_000 / 1_000)"
            while micros.utf8.count < 6 { micros = "0" + micros }
            line = "[\(nanoseconds / 1_000_000_000)." + micros + "] "
        }
        return line + source + ": " + level.description + ": " + message
    }
}

/// A named source of log messages.
///
/// Messages are `@autoclosure`s: when the source's level is less verbose
/// than the message, the message is never built, and the check costs one
/// comparison when no source at all is that verbose.
public struct Logger: Sendable {
    /// The source's name, as log specifications refer to it ("tcp", "dhcp").
    public let source: String

    /// A logger for `source`.
    public init(source: String) {
        self.source = source
    }

    /// Whether a message at `level` would be written.
    public func isEnabled(_ level: LogLevel) -> Bool {
        level <= Log.levels.mostVerbose && level <= Log.levels.level(for: source)
    }

    /// Writes `message` at `level` if the source's level allows it.
    public func log(_ level: LogLevel, _ message: @autoclosure () -> String) {
        guard isEnabled(level) else { return }
        let line = Log.format(source: source, level: level, message: message(), nanoseconds: Log.timestamp?())
        Log.sink(level, line)
    }

    /// Something failed: always written.
    public func error(_ message: @autoclosure () -> String) {
        log(.error, message())
    }

    /// Something is wrong but the kernel carries on.
    public func warning(_ message: @autoclosure () -> String) {
        log(.warning, message())
    }

    /// What an operator wants to see.
    public func info(_ message: @autoclosure () -> String) {
        log(.info, message())
    }

    /// What a developer wants to see.
    public func debug(_ message: @autoclosure () -> String) {
        log(.debug, message())
    }
}
