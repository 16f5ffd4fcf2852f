import Foundation
import Glibc
import XCTest

// What MonitoringTests runs beside a kernel: its own InfluxDB 1.x and
// Prometheus (Debian's `influxdb` and `prometheus`), each with a temporary
// configuration and data folder and no system service; a plain TCP listener
// standing in for Telegraf; and readers for what they answer.

/// A temporary folder, removed with the value.
final class ScratchFolder {
    let url: URL

    init(_ name: String) throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("riad-\(name)-\(getpid())")
        try? FileManager.default.removeItem(at: url)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: url)
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
}

/// A server process started by a test, stopped (and waited for) with the
/// value; what it prints goes to a file for failure messages.
final class ServerProcess {
    let process = Process()
    let log: String

    init(_ executable: String, _ arguments: [String], log: String) throws {
        self.log = log
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
    }

    deinit {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }

    var output: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
}

/// Polls `probe` every 200 ms until `condition` holds for what it returns; throws after `timeout`
/// seconds with `what` and the last value seen. Waiting for a server to
/// start or for data to arrive, not measuring anything.
func waitUntil<T>(
    _ what: String, timeout: TimeInterval = 60, probe: () throws -> T, until condition: (T) -> Bool
) throws -> T {
    let deadline = Date().addingTimeInterval(timeout)
    var last: T?
    var lastError: Error?
    while Date() < deadline {
        do {
            let value = try probe()
            if condition(value) { return value }
            last = value
        } catch {
            lastError = error
        }
        usleep(200_000)
    }
    throw TestFailure(
        description: "gave up waiting for \(what) after \(Int(timeout)) s; last seen: "
            + (last.map { "\($0)" } ?? lastError.map { "\($0)" } ?? "nothing"))
}

/// An HTTP exchange through curl: the status (0 when there was no answer)
/// and the body.
struct CurlResult {
    let status: Int
    let body: String
}

enum Curl {
    static func request(_ arguments: [String], timeout: Int = 10) throws -> CurlResult {
        let marker = "\n@@riad-status:"
        let result = try Support.run(
            "/usr/bin/curl",
            ["-sS", "--max-time", "\(timeout)", "-w", marker + "%{http_code}"] + arguments,
            timeout: TimeInterval(timeout + 5))
        guard let range = result.output.range(of: marker, options: .backwards) else {
            return CurlResult(status: 0, body: result.errors)
        }
        return CurlResult(
            status: Int(result.output[range.upperBound...].trimmingCharacters(in: .whitespacesAndNewlines))
                ?? 0,
            body: String(result.output[..<range.lowerBound]))
    }

    static func get(_ url: String) throws -> CurlResult { try request([url]) }

    /// A GET whose JSON answer is decoded.
    static func json(_ arguments: [String]) throws -> [String: Any] {
        let result = try request(arguments)
        guard result.status == 200,
            let object = try JSONSerialization.jsonObject(with: Data(result.body.utf8)) as? [String: Any]
        else { throw TestFailure(description: "\(arguments): \(result.status) \(result.body)") }
        return object
    }
}

/// InfluxDB 1.x (`influxd`) with its HTTP API on `address:8086` and its RPC
/// port on `address:8088`, data, meta and WAL in a scratch folder.
final class InfluxDBServer {
    let address: String
    let folder: ScratchFolder
    private var server: ServerProcess?

    var url: String { "http://\(address):8086" }

    init(address: String) throws {
        self.address = address
        folder = try ScratchFolder("influxdb")
        let configuration = """
            reporting-disabled = true
            bind-address = "\(address):8088"
            [meta]
              dir = "\(folder.path("meta"))"
            [data]
              dir = "\(folder.path("data"))"
              wal-dir = "\(folder.path("wal"))"
              query-log-enabled = false
            [monitor]
              store-enabled = false
            [http]
              bind-address = "\(address):8086"
              log-enabled = false
            [continuous_queries]
              enabled = false

            """
        try configuration.write(toFile: folder.path("influxdb.conf"), atomically: true, encoding: .utf8)
        server = try ServerProcess(
            "/usr/bin/influxd", ["-config", folder.path("influxdb.conf")], log: folder.path("influxd.log"))
        _ = try waitUntil(
            "influxd to answer /ping", probe: { try Curl.get(url + "/ping").status }, until: { $0 == 204 })
    }

    deinit {
        server = nil
    }

    var log: String { server?.output ?? "" }

    func createDatabase(_ name: String) throws {
        let answer = try Curl.request([
            "-XPOST", url + "/query", "--data-urlencode", "q=CREATE DATABASE \(name)",
        ])
        guard answer.status == 200 else { throw TestFailure(description: "CREATE DATABASE: \(answer.body)") }
    }

    /// One series of an InfluxQL answer.
    struct Series {
        let name: String
        let tags: [String: String]
        let columns: [String]
        let values: [[Any]]

        /// The last row's value in `column`, as a number.
        func last(_ column: String) -> Double? {
            guard let index = columns.firstIndex(of: column), let row = values.last, index < row.count else {
                return nil
            }
            return (row[index] as? NSNumber)?.doubleValue
        }
    }

    /// Runs one InfluxQL statement on `database`; throws if InfluxDB
    /// reports an error.
    func query(_ statement: String, database: String = "riad") throws -> [Series] {
        let answer = try Curl.json([
            "-G", url + "/query", "--data-urlencode", "db=\(database)", "--data-urlencode", "q=\(statement)",
        ])
        guard let result = (answer["results"] as? [[String: Any]])?.first else {
            throw TestFailure(description: "\(statement): no result in \(answer)")
        }
        if let error = result["error"] as? String { throw TestFailure(description: "\(statement): \(error)") }
        return (result["series"] as? [[String: Any]] ?? []).map { series in
            Series(
                name: series["name"] as? String ?? "", tags: series["tags"] as? [String: String] ?? [:],
                columns: series["columns"] as? [String] ?? [], values: series["values"] as? [[Any]] ?? [])
        }
    }
}

/// Prometheus scraping `target` (HOST:PORT, path /metrics) every second,
/// its API on 127.0.0.1 at a free port, its TSDB in a scratch folder.
final class PrometheusServer {
    let folder: ScratchFolder
    let port: Int
    private var server: ServerProcess?

    var url: String { "http://127.0.0.1:\(port)" }

    init(target: String) throws {
        folder = try ScratchFolder("prometheus")
        port = try freeLocalPort()
        let configuration = """
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
              evaluation_interval: 1s
            scrape_configs:
              - job_name: riad
                static_configs:
                  - targets: ['\(target)']

            """
        try configuration.write(toFile: folder.path("prometheus.yml"), atomically: true, encoding: .utf8)
        server = try ServerProcess(
            "/usr/bin/prometheus",
            [
                "--config.file=\(folder.path("prometheus.yml"))",
                "--storage.tsdb.path=\(folder.path("data"))",
                "--web.listen-address=127.0.0.1:\(port)",
            ], log: folder.path("prometheus.log"))
        _ = try waitUntil(
            "Prometheus to be ready", probe: { try Curl.get(url + "/-/ready").status }, until: { $0 == 200 })
    }

    deinit {
        server = nil
    }

    var log: String { server?.output ?? "" }

    /// An instant query: each series' labels and value. Throws if
    /// Prometheus reports an error (a query that does not parse).
    func query(_ expression: String) throws -> [(labels: [String: String], value: Double)] {
        let answer = try Curl.json(["-G", url + "/api/v1/query", "--data-urlencode", "query=\(expression)"])
        guard answer["status"] as? String == "success", let data = answer["data"] as? [String: Any] else {
            throw TestFailure(description: "\(expression): \(answer)")
        }
        return (data["result"] as? [[String: Any]] ?? []).map { series in
            let value = (series["value"] as? [Any])?.last as? String
            return (series["metric"] as? [String: String] ?? [:], value.flatMap(Double.init) ?? .nan)
        }
    }
}

/// A TCP port on 127.0.0.1 that nothing listens on now (the kernel picks
/// it, the socket is closed at once).
func freeLocalPort() throws -> Int {
    // SOCK_STREAM is 1 on Linux; its imported name is not found in every build.
    let socket = Glibc.socket(AF_INET, 1, 0)
    guard socket >= 0 else { throw TestFailure(description: "socket: \(errno)") }
    defer { close(socket) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0
        }
    }
    guard bound else { throw TestFailure(description: "bind: \(errno)") }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// A plain TCP listener (`nc -lk`) in place of Telegraf's socket_listener:
/// whatever arrives is appended to a file.
final class LineListener {
    let folder: ScratchFolder
    private var server: ServerProcess?

    init(address: String, port: Int) throws {
        folder = try ScratchFolder("lines")
        server = try ServerProcess("/bin/nc", ["-lk", address, "\(port)"], log: folder.path("lines.txt"))
        // Listening once `ss` shows the socket.
        _ = try waitUntil(
            "nc to listen on \(address):\(port)",
            probe: { try Support.run("/bin/ss", ["-Htln", "src", "\(address):\(port)"]).output },
            until: { !$0.isEmpty })
    }

    deinit {
        server = nil
    }

    /// The complete lines received so far.
    var lines: [String] {
        let text = server?.output ?? ""
        guard let end = text.lastIndex(of: "\n") else { return [] }
        return text[..<end].split(separator: "\n").map(String.init)
    }
}

/// A point of InfluxDB line protocol as the kernel writes it: measurement,
/// tags, fields (integers with `i`, floats), timestamp. Backslash escapes
/// are undone; strings and booleans, which the kernel never writes, are
/// refused.
struct LinePoint {
    var measurement: String
    var tags: [String: String]
    var fields: [String: Double]
    var timestamp: Int64

    init(_ line: String) throws {
        let bytes = Array(line.utf8)
        var index = 0
        // Reads up to an unescaped byte of `stops`, undoing escapes.
        func element(_ stops: Set<UInt8>) -> String {
            var out: [UInt8] = []
            while index < bytes.count, !stops.contains(bytes[index]) {
                if bytes[index] == UInt8(ascii: "\\"), index + 1 < bytes.count {
                    index += 1
                }
                out.append(bytes[index])
                index += 1
            }
            return String(decoding: out, as: UTF8.self)
        }
        let comma = UInt8(ascii: ",")
        let space = UInt8(ascii: " ")
        let equals = UInt8(ascii: "=")
        measurement = element([comma, space])
        tags = [:]
        while index < bytes.count, bytes[index] == comma {
            index += 1
            let key = element([equals])
            index += 1
            tags[key] = element([comma, space])
        }
        guard index < bytes.count, bytes[index] == space else {
            throw TestFailure(description: "no fields in `\(line)`")
        }
        fields = [:]
        repeat {
            index += 1
            let key = element([equals])
            index += 1
            var text = element([comma, space])
            if text.hasSuffix("i") { text.removeLast() }
            guard let value = Double(text) else {
                throw TestFailure(description: "field \(key) in `\(line)`")
            }
            fields[key] = value
        } while index < bytes.count && bytes[index] == comma
        guard index < bytes.count, let stamp = Int64(String(decoding: bytes[(index + 1)...], as: UTF8.self))
        else { throw TestFailure(description: "no timestamp in `\(line)`") }
        timestamp = stamp
    }
}

/// A sample of Prometheus's text format: `name{labels} value`.
struct PrometheusSample {
    let name: String
    let labels: [String: String]
    let value: Double

    /// The samples of a /metrics page (comments skipped). Label values the
    /// kernel writes need no unescaping in these tests.
    static func parse(_ text: String) -> [PrometheusSample] {
        text.split(separator: "\n").compactMap { line in
            guard !line.hasPrefix("#"), let space = line.lastIndex(of: " ") else { return nil }
            let series = line[..<space]
            let value = Double(line[line.index(after: space)...]) ?? .nan
            guard let brace = series.firstIndex(of: "{") else {
                return PrometheusSample(name: String(series), labels: [:], value: value)
            }
            var labels: [String: String] = [:]
            for pair in series[series.index(after: brace)..<series.index(before: series.endIndex)]
                .split(separator: ",")
            {
                guard let equals = pair.firstIndex(of: "=") else { continue }
                labels[String(pair[..<equals])] = String(
                    pair[pair.index(equals, offsetBy: 2)..<pair.index(before: pair.endIndex)])
            }
            return PrometheusSample(name: String(series[..<brace]), labels: labels, value: value)
        }
    }
}

extension [PrometheusSample] {
    /// The value of the one sample named `name` whose labels include
    /// `labels`.
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        let found = filter { sample in
            sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value }
        }
        return found.count == 1 ? found[0].value : nil
    }
}
