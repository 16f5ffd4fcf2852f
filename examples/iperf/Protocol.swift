import Riad

// iperf3's control protocol, as its server speaks it (esnet/iperf,
// src/iperf_api.h and iperf_server_api.c): the client connects to the
// port and sends a 37-byte cookie; then each side moves the test on with
// one-byte states, and the parameters and results travel as JSON behind a
// 4-byte big-endian length. Data streams connect to the same port and
// begin with the same cookie.

/// The one-byte messages of the control connection (iperf3's `signed
/// char` states; the two negative ones as their bytes on the wire).
enum IperfState: UInt8 {
    case testStart = 1
    case testRunning = 2
    case testEnd = 4
    case paramExchange = 9
    case createStreams = 10
    case serverTerminate = 11
    case clientTerminate = 12
    case exchangeResults = 13
    case displayResults = 14
    case iperfDone = 16
    /// -1: the server is busy with another client's test.
    case accessDenied = 0xFF
    /// -2: followed by iperf3's error number and an errno, each 4 bytes.
    case serverError = 0xFE
}

enum Iperf3 {
    /// An ASCII cookie of 36 characters and its terminating NUL.
    static let cookieSize = 37
    /// iperf3 refuses larger parameter messages (MAX_PARAMS_JSON_STRING).
    static let maximumParametersSize = 8 * 1024
    /// The client's results: some 200 bytes per stream, at most 128 streams.
    static let maximumResultsSize = 64 * 1024
    /// iperf3's limits (src/iperf.h).
    static let maximumStreams: Int64 = 128
    static let maximumBlockSize: Int64 = 1 << 20
    static let maximumSeconds: Int64 = 86400
    static let maximumOmitSeconds: Int64 = 600
    static let defaultBlockSize = 128 * 1024

    /// iperf3's error numbers (`i_errno`) that follow SERVER_ERROR; the
    /// client prints its own text for each.
    enum ErrorNumber {
        static let duration: Int32 = 5  // IEDURATION
        static let streams: Int32 = 6  // IENUMSTREAMS
        static let blockSize: Int32 = 7  // IEBLOCKSIZE
        static let omit: Int32 = 12  // IEOMIT
        static let notImplemented: Int32 = 13  // IEUNIMP
        static let parameters: Int32 = 114  // IERECVPARAMS
    }

    /// SERVER_ERROR, the error number and errno 0: what iperf3's server
    /// sends when it cannot run the test the client asked for.
    static func serverError(_ number: Int32) -> [UInt8] {
        var message = [IperfState.serverError.rawValue]
        appendBigEndian(UInt32(bitPattern: number), to: &message)
        appendBigEndian(0, to: &message)
        return message
    }

    static func appendBigEndian(_ value: UInt32, to bytes: inout [UInt8]) {
        bytes.append(UInt8(truncatingIfNeeded: value >> 24))
        bytes.append(UInt8(truncatingIfNeeded: value >> 16))
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
        bytes.append(UInt8(truncatingIfNeeded: value))
    }
}

/// What the client asked for, from its parameter JSON. Keys this server
/// does not use (window, MSS, congestion, title...) are ignored, as
/// iperf3's server ignores those its platform lacks.
struct TestParameters {
    /// `-R`: the server sends.
    var reverse = false
    var streams = 1
    /// `-l`: the size of each write when the server sends.
    var blockSize = Iperf3.defaultBlockSize
    /// `-t`; 0 when `-n` or `-k` ends the test.
    var seconds: UInt64 = 10
    /// `-O`: seconds at the start left out of the results.
    var omitSeconds: UInt64 = 0
    /// `-n` and `-k`: the end of a test the server sends in.
    var byteLimit: UInt64 = 0
    var blockLimit: UInt64 = 0
    /// For the console: printable ASCII only, at most 32 bytes.
    var clientVersion = "unknown"

    /// Why a request is refused: iperf3's error number for the client,
    /// and words for the console.
    struct Refusal {
        let number: Int32
        let reason: String
    }

    enum Outcome {
        case accepted(TestParameters)
        case refused(Refusal)
    }

    /// Reads `json`, iperf3's way: a flag counts when its key is present
    /// (unless it is `false` or `null`), numbers are integers.
    static func read(_ json: JSONValue) -> Outcome {
        guard case .object = json else {
            return .refused(
                Refusal(number: Iperf3.ErrorNumber.parameters, reason: "the parameters are not an object"))
        }
        func flag(_ key: String) -> Bool {
            switch json[key] {
            case .none, .null, .bool(false): return false
            default: return true
            }
        }
        if flag("udp") || flag("sctp") {
            return .refused(
                Refusal(
                    number: Iperf3.ErrorNumber.notImplemented,
                    reason: "only TCP tests are supported (not -u or --sctp)"
                ))
        }
        if flag("bidirectional") {
            return .refused(
                Refusal(number: Iperf3.ErrorNumber.notImplemented, reason: "--bidir is not supported"))
        }
        var parameters = TestParameters()
        parameters.reverse = flag("reverse")
        var refusal: Refusal? = nil
        /// The integer at `key` if it is in `range`; `fallback` if absent.
        func integer(_ key: String, _ range: ClosedRange<Int64>, _ fallback: Int64, _ number: Int32) -> Int64
        {
            guard let value = json[key] else { return fallback }
            guard let integer = value.integer, range.contains(integer) else {
                if refusal == nil {
                    refusal = Refusal(
                        number: number,
                        reason: "\"\(key)\" is not an integer from \(range.lowerBound) to \(range.upperBound)"
                    )
                }
                return fallback
            }
            return integer
        }
        let parameterError = Iperf3.ErrorNumber.parameters
        parameters.streams = Int(
            integer("parallel", 1...Iperf3.maximumStreams, 1, Iperf3.ErrorNumber.streams))
        parameters.blockSize = Int(
            integer(
                "len", 1...Iperf3.maximumBlockSize, Int64(Iperf3.defaultBlockSize),
                Iperf3.ErrorNumber.blockSize))
        parameters.seconds = UInt64(
            integer("time", 0...Iperf3.maximumSeconds, 10, Iperf3.ErrorNumber.duration))
        parameters.omitSeconds = UInt64(
            integer("omit", 0...Iperf3.maximumOmitSeconds, 0, Iperf3.ErrorNumber.omit))
        parameters.byteLimit = UInt64(integer("num", 0...Int64.max, 0, parameterError))
        parameters.blockLimit = UInt64(integer("blockcount", 0...Int64.max, 0, parameterError))
        if let refusal { return .refused(refusal) }
        if case .string(let version) = json["client_version"] {
            parameters.clientVersion = printable(version)
        }
        return .accepted(parameters)
    }

    /// `bytes` safe for the console: printable ASCII, at most 32 bytes.
    static func printable(_ bytes: [UInt8]) -> String {
        var text: [UInt8] = []
        for byte in bytes.prefix(32) { text.append(byte >= 0x20 && byte < 0x7F ? byte : UInt8(ascii: "?")) }
        return String(decoding: text, as: UTF8.self)
    }
}
