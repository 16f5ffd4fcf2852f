/// Runtime arguments, as MirageOS has them: the application and each library
/// declare typed arguments with a default and a line of help; the kernel's
/// command line is parsed once at boot; `--help` lists them all; an unknown
/// argument or a bad value stops the kernel with a message and
/// `ExitStatus.usage` (64), the same on every target.
///
///     var arguments = RuntimeArguments(program: "hello")
///     let count = arguments.unsigned("count", default: 4, help: "lines to print")
///     guard case .run(let values) = arguments.parse(platform.arguments, platform) else { … }
///     let n = values[count]
///
/// Every kernel also has `-l SPEC`/`--logs=SPEC` (log levels per source,
/// e.g. `*:info,tcp:debug`, see `LogLevels`) and `--help`.
public struct RuntimeArguments {
    /// A declared argument's value, typed by its handle.
    public struct Handle<Value> {
        let index: Int
    }

    enum Kind {
        case unsigned
        case string
        case flag
    }

    enum Value {
        case unsigned(UInt64)
        case string(String)
        case flag(Bool)
    }

    struct Declaration {
        let name: String
        let kind: Kind
        let help: String
        let defaultValue: Value
    }

    public let program: String
    var declarations: [Declaration] = []

    public init(program: String) {
        self.program = program
    }

    /// Declares `--NAME=N`, a non-negative integer.
    public mutating func unsigned(_ name: String, default value: UInt64, help: String) -> Handle<UInt64> {
        declare(name, .unsigned, help, .unsigned(value))
    }

    /// Declares `--NAME=TEXT`.
    public mutating func string(_ name: String, default value: String, help: String) -> Handle<String> {
        declare(name, .string, help, .string(value))
    }

    /// Declares `--NAME`, a switch (also `--NAME=true` or `--NAME=false`).
    public mutating func flag(_ name: String, help: String) -> Handle<Bool> {
        declare(name, .flag, help, .flag(false))
    }

    private mutating func declare<T>(_ name: String, _ kind: Kind, _ help: String, _ value: Value) -> Handle<
        T
    > {
        precondition(
            !declarations.contains { $0.name.utf8.elementsEqual(name.utf8) }, "argument declared twice")
        declarations.append(Declaration(name: name, kind: kind, help: help, defaultValue: value))
        return Handle(index: declarations.count - 1)
    }

    /// What the kernel does after parsing.
    public enum Outcome {
        /// Go on with these values.
        case run(Values)
        /// Stop now with this status: `--help` was given (0, the help is
        /// printed) or the command line was wrong (64, the reason printed).
        case exit(Int32)
    }

    /// Parses `words` (the kernel's command line), printing help or errors
    /// through `platform`.
    public func parse<P: Platform>(_ words: [String], _ platform: P) -> Outcome {
        switch parse(words) {
        case .success(let values):
            return .run(values)
        case .failure(let problem):
            if problem.isHelp {
                platform.write(help())
                return .exit(ExitStatus.success)
            }
            platform.write("\(program): \(problem.message); see --help\n")
            return .exit(ExitStatus.usage)
        }
    }

    /// Why parsing stopped: `--help`, or a mistake.
    public struct Problem: Error {
        public let message: String
        public var isHelp: Bool { message.utf8.isEmpty }
    }

    /// Parses `words` without printing anything. Applies `-l`/`--logs`.
    public func parse(_ words: [String]) -> Result<Values, Problem> {
        var values = Values(values: declarations.map { $0.defaultValue })
        var index = 0
        while index < words.count {
            let word = words[index]
            index += 1
            // Byte comparisons: String's == would link Unicode tables (32 KB).
            if isOne(of: ["--help", "-h"], word) { return .failure(Problem(message: "")) }
            if isOne(of: ["-l"], word) {
                guard index < words.count else { return .failure(Problem(message: "-l needs a log spec")) }
                if let problem = applyLogs(words[index]) { return .failure(problem) }
                index += 1
                continue
            }
            let (name, value) = split(word)
            guard let name else {
                return .failure(Problem(message: "unexpected argument `\(word)`"))
            }
            if isOne(of: ["logs"], name) {
                guard let value else {
                    return .failure(Problem(message: "--logs needs a value: --logs=SPEC"))
                }
                if let problem = applyLogs(value) { return .failure(problem) }
                continue
            }
            guard let position = declarations.firstIndex(where: { $0.name.utf8.elementsEqual(name.utf8) })
            else {
                return .failure(Problem(message: "unknown argument --\(name)"))
            }
            switch convert(value, for: declarations[position]) {
            case .success(let converted): values.values[position] = converted
            case .failure(let problem): return .failure(problem)
            }
        }
        return .success(values)
    }

    private func isOne(of choices: [StaticString], _ text: String) -> Bool {
        choices.contains { choice in
            text.utf8.elementsEqual(
                UnsafeBufferPointer(start: choice.utf8Start, count: choice.utf8CodeUnitCount))
        }
    }

    private func applyLogs(_ spec: String) -> Problem? {
        do {
            try Log.configure(spec)
            return nil
        } catch {
            return Problem(message: "--logs=\(spec): \(error.description)")
        }
    }

    /// `--name=value` → (name, value); `--name` → (name, nil); else nil.
    private func split(_ word: String) -> (String?, String?) {
        let bytes = Array(word.utf8)
        guard bytes.count > 2, bytes[0] == UInt8(ascii: "-"), bytes[1] == UInt8(ascii: "-") else {
            return (nil, nil)
        }
        guard let equals = bytes.firstIndex(of: UInt8(ascii: "=")) else {
            return (String(decoding: bytes[2...], as: UTF8.self), nil)
        }
        return (
            String(decoding: bytes[2..<equals], as: UTF8.self),
            String(decoding: bytes[(equals + 1)...], as: UTF8.self)
        )
    }

    private func convert(_ text: String?, for declaration: Declaration) -> Result<Value, Problem> {
        let name = declaration.name
        switch declaration.kind {
        case .flag:
            guard let text, !isOne(of: ["true"], text) else { return .success(.flag(true)) }
            if isOne(of: ["false"], text) { return .success(.flag(false)) }
            return .failure(Problem(message: "--\(name)=\(text): expected true or false"))
        case .unsigned:
            guard let text else { return .failure(Problem(message: "--\(name) needs a value: --\(name)=N")) }
            guard let number = Arguments.parseUnsigned(text) else {
                return .failure(Problem(message: "--\(name)=\(text): expected a non-negative integer"))
            }
            return .success(.unsigned(number))
        case .string:
            guard let text else {
                return .failure(Problem(message: "--\(name) needs a value: --\(name)=TEXT"))
            }
            return .success(.string(text))
        }
    }

    /// The text `--help` prints: every argument with its default and help.
    public func help() -> String {
        var text = "usage: \(program) [ARGUMENTS]\n\narguments:\n"
        var lines: [(String, String)] = declarations.map { declaration in
            let name = declaration.name
            switch declaration.defaultValue {
            case .unsigned(let value): return ("--\(name)=N", "\(declaration.help) (default \(value))")
            case .string(let value): return ("--\(name)=TEXT", "\(declaration.help) (default \"\(value)\")")
            case .flag: return ("--\(name)", declaration.help)
            }
        }
        lines.append(("-l, --logs=SPEC", "log levels per source, e.g. *:info,tcp:debug (default *:info)"))
        lines.append(("-h, --help", "show this help"))
        let width = lines.map { $0.0.utf8.count }.max() ?? 0
        for (left, right) in lines {
            let padding = String(repeating: " ", count: width - left.utf8.count + 2)
            text += "  \(left)\(padding)\(right)\n"
        }
        return text
    }

    /// The parsed values, read by handle.
    public struct Values {
        var values: [Value]

        public subscript(handle: Handle<UInt64>) -> UInt64 {
            if case .unsigned(let value) = values[handle.index] { return value }
            return 0
        }

        public subscript(handle: Handle<String>) -> String {
            if case .string(let value) = values[handle.index] { return value }
            return ""
        }

        public subscript(handle: Handle<Bool>) -> Bool {
            if case .flag(let value) = values[handle.index] { return value }
            return false
        }
    }
}
