import Riad
import RiadNet
import _Concurrency

/// One data connection of a test.
final class DataStream<Stream: TCPStream> {
    let connection: Stream
    /// iperf3 numbers streams 1, 3, 4, 5... (iperf_add_stream); the
    /// client matches our results to its streams by these numbers.
    let id: Int64
    /// Bytes received (or, in reverse, written) since the test started,
    /// and the count when the omitted seconds (-O) ended.
    var bytes: UInt64 = 0
    var omittedBytes: UInt64 = 0

    init(connection: Stream, id: Int64) {
        self.connection = connection
        self.id = id
    }
}

/// One client's test, from the cookie on its control connection to
/// IPERF_DONE. The kernel has one thread: the session's tasks (control,
/// data streams, the accept loop handing it streams) share its state
/// without locks, and interleave only where they `await`.
final class Session<P: Platform, S: NetworkStack> {
    let platform: P
    let control: S.Stream
    /// The client's address, for the console.
    let peer: String
    private(set) var cookie: [UInt8] = []
    var parameters = TestParameters()
    /// In the order their cookies arrived.
    var streams: [DataStream<S.Stream>] = []
    /// Whether new connections to the port are taken as this test's data
    /// streams (after CREATE_STREAMS, until all have come).
    private(set) var acceptingStreams = false
    /// Set once the results are sent: the test is over but for the
    /// client's IPERF_DONE, and the next client need not wait for that.
    var concluded = false
    private(set) var finished = false

    /// A client silent this long at a step where it must speak is gone.
    static var stepTimeout: UInt64 { 10_000_000_000 }
    /// How long the client has to connect its data streams.
    static var streamsTimeout: UInt64 { 30_000_000_000 }

    init(platform: P, control: S.Stream) {
        self.platform = platform
        self.control = control
        peer = control.remote.description
        control.setNoDelay(true)
    }

    func log(_ text: String) {
        platform.write("iperf: \(peer): \(text)\n")
    }

    func deadline(after nanoseconds: UInt64) -> UInt64 {
        platform.monotonicNanoseconds() &+ nanoseconds
    }

    /// Runs the test to its end, whichever way it ends, and closes every
    /// connection of it.
    func run() async {
        do throws(RiadError) {
            if let parameters = try await negotiate() {
                self.parameters = parameters
                try await connectStreams()
                try await test()
            }
        } catch {
            log("closed: \(error.message.utf8.isEmpty ? error.description : error.message)")
        }
        finish()
    }

    /// Cookie, PARAM_EXCHANGE and the client's parameters; nil when the
    /// test is refused (the client has been told).
    private func negotiate() async throws(RiadError) -> TestParameters? {
        cookie = try await receive(
            Iperf3.cookieSize, until: deadline(after: Self.stepTimeout), what: "its cookie")
        try await send([IperfState.paramExchange.rawValue])
        let json = try await receiveJSON(limit: Iperf3.maximumParametersSize, what: "parameters")
        switch TestParameters.read(json) {
        case .refused(let refusal):
            log("refused: \(refusal.reason)")
            try await send(Iperf3.serverError(refusal.number))
            return nil
        case .accepted(let parameters):
            let streams = parameters.streams == 1 ? "1 stream" : "\(parameters.streams) streams"
            let length =
                parameters.seconds > 0
                ? "\(parameters.seconds) s"
                : parameters.byteLimit > 0
                    ? "\(parameters.byteLimit) bytes" : "\(parameters.blockLimit) blocks"
            log(
                "iperf \(parameters.clientVersion), TCP, \(streams), "
                    + (parameters.reverse ? "server sending" : "client sending") + ", \(length)")
            return parameters
        }
    }

    /// CREATE_STREAMS, then waits until the accept loop has handed over
    /// every data stream (`adopt`).
    private func connectStreams() async throws(RiadError) {
        acceptingStreams = true
        defer { acceptingStreams = false }
        try await send([IperfState.createStreams.rawValue])
        let limit = deadline(after: Self.streamsTimeout)
        while streams.count < parameters.streams {
            guard platform.monotonicNanoseconds() < limit else {
                throw RiadError(
                    .timedOut,
                    "the client connected \(streams.count) of \(parameters.streams) streams in 30 s")
            }
            // The client says nothing on the control connection now unless
            // it gives up, so look at it in short waits: the streams
            // arrive meanwhile, and are counted between two looks.
            if let state = try await receiveState(until: deadline(after: 2_000_000), during: "CREATE_STREAMS")
            {
                throw unexpected(state, during: "CREATE_STREAMS")
            }
        }
    }

    /// Takes `connection` as a data stream if it begins with this test's
    /// cookie while streams are expected; refuses it as iperf3 does
    /// (ACCESS_DENIED) otherwise.
    func adopt(_ connection: S.Stream) async {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Iperf3.cookieSize, alignment: 1)
        defer { buffer.deallocate() }
        var count = 0
        let limit = deadline(after: Self.stepTimeout)
        while count < buffer.count {
            guard
                let read = try? await connection.read(
                    into: UnsafeMutableRawBufferPointer(rebasing: buffer[count...]), until: limit), read > 0
            else { break }
            count += read
        }
        let matches = count == buffer.count && buffer.elementsEqual(cookie)
        guard matches, acceptingStreams, !finished, streams.count < parameters.streams else {
            platform.write(
                "iperf: \(connection.remote.description): refused: "
                    + (matches ? "no more streams expected" : "not a data stream of the running test") + "\n")
            await Iperf.refuse(connection, platform: platform)
            return
        }
        let id: Int64 = streams.isEmpty ? 1 : Int64(streams.count) + 2
        streams.append(DataStream(connection: connection, id: id))
    }

    private func finish() {
        finished = true
        acceptingStreams = false
        for stream in streams { stream.connection.close() }
        streams = []
        control.close()
    }

    // MARK: The control connection

    func send(_ bytes: [UInt8]) async throws(RiadError) {
        try await control.write(bytes)
    }

    /// Exactly `count` bytes, or an error naming `what` was expected.
    func receive(_ count: Int, until deadline: UInt64, what: String) async throws(RiadError) -> [UInt8] {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 1)
        defer { buffer.deallocate() }
        var received = 0
        while received < count {
            let read: Int
            do throws(RiadError) {
                read = try await control.read(
                    into: UnsafeMutableRawBufferPointer(rebasing: buffer[received...]), until: deadline)
            } catch {
                if error.kind == .timedOut {
                    throw RiadError(.timedOut, "the client did not send \(what) in time")
                }
                throw error
            }
            guard read > 0 else {
                throw RiadError(.closed, "the client closed the connection instead of sending \(what)")
            }
            received += read
        }
        return Array(UnsafeRawBufferPointer(buffer))
    }

    /// A 4-byte big-endian length and that much JSON, parsed.
    func receiveJSON(limit: Int, what: String) async throws(RiadError) -> JSONValue {
        let header = try await receive(
            4, until: deadline(after: Self.stepTimeout), what: "the length of its \(what)")
        var length: UInt32 = 0
        for byte in header { length = length << 8 | UInt32(byte) }
        guard length > 0, length <= UInt32(limit) else {
            throw RiadError(.protocolError, "\(what) of \(length) bytes (expected 1 to \(limit))")
        }
        let json = try await receive(
            Int(length), until: deadline(after: Self.stepTimeout), what: "its \(what)")
        do throws(RiadError) {
            return try JSONReader.parse(json)
        } catch {
            throw RiadError(.protocolError, "\(what): \(error.message)")
        }
    }

    /// The next state byte; nil if none came by `deadline`. `step` says
    /// what was going on, should the client close the connection.
    func receiveState(until deadline: UInt64, during step: String) async throws(RiadError) -> UInt8? {
        do throws(RiadError) {
            return try await receive(1, until: deadline, what: "a message")[0]
        } catch {
            switch error.kind {
            case .timedOut: return nil
            case .closed: throw RiadError(.closed, "the client closed the control connection during \(step)")
            default: throw error
            }
        }
    }

    func unexpected(_ state: UInt8, during step: String) -> RiadError {
        if state == IperfState.clientTerminate.rawValue {
            return RiadError(.cancelled, "the client terminated the test")
        }
        return RiadError(.protocolError, "unexpected message \(state) during \(step)")
    }
}
