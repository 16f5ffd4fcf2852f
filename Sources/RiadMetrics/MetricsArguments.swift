import Riad

/// The runtime arguments of metrics, declared on the kernel's
/// `RuntimeArguments`:
///
/// - `--metrics=SPEC`: where metrics go. `none` (the default: every source
///   off), `prometheus` (sources on, nothing pushed: the application serves
///   `/metrics`), `influx-tcp:HOST:PORT` (line protocol over TCP, as
///   Telegraf's socket_listener takes it) or `influx-http:HOST:PORT/DB`
///   (InfluxDB 1.x's `POST /write?db=DB`). HOST is a name or a dotted quad.
/// - `--metrics-interval=SECONDS`: time between two pushes (default 10).
/// - `--name=NAME`: the kernel-wide tag `name` on every source (default:
///   the program's name).
///
/// ```swift
/// var arguments = RuntimeArguments(program: "web")
/// let metricsArguments = MetricsArguments(declaringIn: &arguments)
/// guard case .run(let values) = arguments.parse(platform.arguments, platform) else { … }
/// guard let config = metricsArguments.configuration(values, platform) else { return ExitStatus.usage }
/// config.apply(to: metrics)
/// ```
public struct MetricsArguments {
    let output: RuntimeArguments.Handle<String>
    let interval: RuntimeArguments.Handle<UInt64>
    let name: RuntimeArguments.Handle<String>
    let program: String

    /// Declares the three arguments.
    public init(declaringIn arguments: inout RuntimeArguments) {
        program = arguments.program
        output = arguments.string(
            "metrics", default: "none",
            help: "where metrics go: none, prometheus, influx-tcp:HOST:PORT or influx-http:HOST:PORT/DB")
        interval = arguments.unsigned(
            "metrics-interval", default: 10, help: "seconds between two metrics reports")
        name = arguments.string(
            "name", default: arguments.program, help: "the kernel's name, a tag on every metric")
    }

    /// The configuration the parsed `values` say.
    ///
    /// - Throws: `.invalidArgument` with a message naming the argument.
    public func configuration(_ values: RuntimeArguments.Values) throws(RiadError) -> MetricsConfiguration {
        let spec = values[output]
        let parsed: MetricsConfiguration.Output
        do {
            parsed = try MetricsConfiguration.parseOutput(spec)
        } catch {
            throw RiadError(.invalidArgument, "--metrics=" + spec + ": " + error.message)
        }
        let seconds = values[interval]
        guard seconds > 0, seconds <= 86_400 else {
            throw RiadError(.invalidArgument, "--metrics-interval must be from 1 to 86400 seconds")
        }
        return MetricsConfiguration(output: parsed, interval: .seconds(seconds), name: values[name])
    }

    /// The configuration, or nil after writing why not to the console as
    /// `RuntimeArguments` does (the kernel should exit with
    /// `ExitStatus.usage`).
    public func configuration<P: Platform>(_ values: RuntimeArguments.Values, _ platform: P)
        -> MetricsConfiguration?
    {
        do {
            return try configuration(values)
        } catch {
            platform.write(program + ": " + error.message + "; see --help\n")
            return nil
        }
    }
}

/// What `--metrics`, `--metrics-interval` and `--name` said.
public struct MetricsConfiguration: Sendable {
    public enum Output: Sendable {
        /// Metrics off.
        case none
        /// Sources on; the application serves `/metrics`.
        case prometheus
        /// Sources on, pushed to this sink.
        case influx(InfluxSink)
    }

    public var output: Output
    public var interval: Duration
    public var name: String

    public init(output: Output, interval: Duration, name: String) {
        self.output = output
        self.interval = interval
        self.name = name
    }

    /// Sets the `name` tag, and turns every source off for `none`.
    public func apply(to metrics: Metrics) {
        metrics.setTag("name", name)
        if case .none = output { metrics.disableAll() }
    }

    /// The reporter's configuration for an Influx output; nil otherwise.
    public var influxReporter: InfluxReporterConfiguration? {
        guard case .influx(let sink) = output else { return nil }
        var configuration = InfluxReporterConfiguration(sink: sink)
        configuration.interval = interval
        return configuration
    }

    /// Parses `--metrics`'s value.
    ///
    /// - Throws: `.invalidArgument`, with what is wrong.
    public static func parseOutput(_ spec: String) throws(RiadError) -> Output {
        let bytes = Array(spec.utf8)
        if bytes.elementsEqual("none".utf8) { return .none }
        if bytes.elementsEqual("prometheus".utf8) { return .prometheus }
        if bytes.starts(with: "influx-tcp:".utf8) {
            let (host, port) = try hostAndPort(bytes[11...])
            return .influx(InfluxSink(host: host, port: port, transport: .tcp))
        }
        if bytes.starts(with: "influx-http:".utf8) {
            let rest = bytes[12...]
            guard let slash = rest.firstIndex(of: UInt8(ascii: "/")), slash + 1 < rest.endIndex else {
                throw RiadError(.invalidArgument, "expected influx-http:HOST:PORT/DB")
            }
            let (host, port) = try hostAndPort(rest[..<slash])
            let database = String(decoding: rest[(slash + 1)...], as: UTF8.self)
            return .influx(InfluxSink(host: host, port: port, transport: .http(database: database)))
        }
        throw RiadError(
            .invalidArgument, "expected none, prometheus, influx-tcp:HOST:PORT or influx-http:HOST:PORT/DB")
    }

    private static func hostAndPort(_ bytes: ArraySlice<UInt8>) throws(RiadError) -> (String, UInt16) {
        guard let colon = bytes.lastIndex(of: UInt8(ascii: ":")), colon > bytes.startIndex else {
            throw RiadError(.invalidArgument, "expected HOST:PORT")
        }
        let host = bytes[..<colon]
        for byte in host {
            let allowed =
                (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
            guard allowed else {
                throw RiadError(.invalidArgument, "the host must be a name or a dotted quad")
            }
        }
        let digits = bytes[(colon + 1)...]
        var port = 0
        for byte in digits {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9"), port <= 65535 else {
                throw RiadError(.invalidArgument, "the port must be a number from 1 to 65535")
            }
            port = port * 10 + Int(byte - UInt8(ascii: "0"))
        }
        guard !digits.isEmpty, port >= 1, port <= 65535 else {
            throw RiadError(.invalidArgument, "the port must be a number from 1 to 65535")
        }
        return (String(decoding: host, as: UTF8.self), UInt16(port))
    }
}
