/// How much a log source says, from least to most.
public enum LogLevel: UInt8, Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Something failed and the kernel could not do what it was asked.
    case error
    /// Something is wrong but the kernel carries on.
    case warning
    /// What an operator wants to see: start-up, addresses, connections.
    case info
    /// What a developer wants to see: every decision, every packet.
    case debug

    /// A message at `self` is shown when the source's level is `self` or more
    /// verbose: `.error < .warning < .info < .debug`.
    public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool {
        lhs.rawValue < rhs.rawValue
    }

    /// The level's name as a log specification spells it.
    public var description: String {
        switch self {
        case .error: return "error"
        case .warning: return "warning"
        case .info: return "info"
        case .debug: return "debug"
        }
    }

    /// The level named `name` ("error", "warning" or "warn", "info",
    /// "debug"; lower case), nil for any other name.
    public init?(_ name: String) {
        self.init(name: Array(name.utf8)[...])
    }

    init?(name: ArraySlice<UInt8>) {
        for level in [LogLevel.error, .warning, .info, .debug]
        where name.elementsEqual(level.description.utf8) {
            self = level
            return
        }
        if name.elementsEqual("warn".utf8) {
            self = .warning
            return
        }
        return nil
    }
}

/// A log level for every source: a default, and exceptions by source name.
///
/// A specification (what `-l`/`--logs` takes) is a comma-separated list of
/// items, applied in order:
///
/// * `source:level` sets the level of the source named `source`;
/// * `*:level`, or a bare `level`, sets the default for all other sources.
///
/// ```swift
/// let levels = try LogLevels.parse("*:warning,tcp:debug")
/// levels.level(for: "tcp")  // .debug
/// levels.level(for: "arp")  // .warning
/// ```
public struct LogLevels: Sendable, CustomStringConvertible {
    /// The level of every source without one of its own.
    public var defaultLevel: LogLevel {
        didSet { updateMostVerbose() }
    }
    /// Sources with their own level, in the order they were first set.
    private var sources: [(name: [UInt8], level: LogLevel)] = []
    /// The most verbose level of any source: a message more verbose than
    /// this is off everywhere, and `Logger` drops it without a lookup.
    public private(set) var mostVerbose: LogLevel

    /// Every source at `defaultLevel`.
    public init(default defaultLevel: LogLevel = .info) {
        self.defaultLevel = defaultLevel
        self.mostVerbose = defaultLevel
    }

    /// The level of `source`.
    public func level(for source: String) -> LogLevel {
        for entry in sources where source.utf8.elementsEqual(entry.name) {
            return entry.level
        }
        return defaultLevel
    }

    /// Gives `source` a level of its own.
    public mutating func setLevel(_ level: LogLevel, for source: String) {
        setLevel(level, for: Array(source.utf8))
    }

    private mutating func setLevel(_ level: LogLevel, for name: [UInt8]) {
        if let index = sources.firstIndex(where: { $0.name == name }) {
            sources[index].level = level
        } else {
            sources.append((name, level))
        }
        updateMostVerbose()
    }

    private mutating func updateMostVerbose() {
        mostVerbose = sources.reduce(defaultLevel) { Swift.max($0, $1.level) }
    }

    /// The levels a specification describes, starting from `.info` for all.
    ///
    /// - Throws: `RiadError` of kind `.invalidArgument` if `spec` is empty,
    ///   has an empty item or source, or names an unknown level.
    public static func parse(_ spec: String) throws(RiadError) -> LogLevels {
        var levels = LogLevels()
        try levels.apply(spec)
        return levels
    }

    /// Applies a specification on top of the current levels. On an error,
    /// nothing changes.
    ///
    /// - Throws: `RiadError` of kind `.invalidArgument`, as `parse` does.
    public mutating func apply(_ spec: String) throws(RiadError) {
        let bytes = Array(spec.utf8)
        guard !trimmed(bytes[...]).isEmpty else {
            throw RiadError(.invalidArgument, "empty log specification")
        }
        var result = self
        for rawItem in bytes.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false) {
            let item = trimmed(rawItem)
            guard !item.isEmpty else {
                throw RiadError(.invalidArgument, "empty item in log specification '\(spec)'")
            }
            let source: ArraySlice<UInt8>
            let levelName: ArraySlice<UInt8>
            if let colon = item.firstIndex(of: UInt8(ascii: ":")) {
                source = trimmed(item[..<colon])
                levelName = trimmed(item[(colon + 1)...])
            } else {
                source = [UInt8(ascii: "*")]
                levelName = item
            }
            guard !source.isEmpty else {
                throw RiadError(.invalidArgument, "empty source in log specification item '\(text(item))'")
            }
            guard let level = LogLevel(name: levelName) else {
                throw RiadError(
                    .invalidArgument,
                    "unknown log level '\(text(levelName))' (expected error, warning, info or debug)")
            }
            if source.elementsEqual([UInt8(ascii: "*")]) {
                result.defaultLevel = level
            } else {
                result.setLevel(level, for: Array(source))
            }
        }
        self = result
    }

    /// The levels as a specification that `parse` reads back:
    /// "*:info,tcp:debug".
    public var description: String {
        var spec = "*:" + defaultLevel.description
        for entry in sources {
            spec += "," + String(decoding: entry.name, as: UTF8.self) + ":" + entry.level.description
        }
        return spec
    }
}

/// `bytes` without leading and trailing spaces and tabs.
private func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
    func isSpace(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
    guard let first = bytes.firstIndex(where: { !isSpace($0) }),
        let last = bytes.lastIndex(where: { !isSpace($0) })
    else { return [] }
    return bytes[first...last]
}

private func text(_ bytes: ArraySlice<UInt8>) -> String {
    String(decoding: bytes, as: UTF8.self)
}
