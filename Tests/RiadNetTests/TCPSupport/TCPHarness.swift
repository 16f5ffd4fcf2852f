import Riad
import RiadNet
import XCTest

/// A segment a layer emitted, parsed back with its checksum verified.
struct EmittedSegment: CustomStringConvertible {
    var repr: TCPRepr
    var payload: [UInt8]
    var source: IPv4Address
    var destination: IPv4Address

    /// All control bits, ACK included.
    var flags: TCPFlags { repr.controlBits }
    var seq: UInt32 { repr.sequenceNumber.rawValue }
    var ack: UInt32? { repr.acknowledgmentNumber?.rawValue }
    var window: UInt16 { repr.window }
    var description: String { repr.description }
}

extension TCPConfiguration {
    /// Small buffers and no options, so that literal tests read simply:
    /// windows of 8192 unscaled, plain 20-byte headers.
    static var plain: TCPConfiguration {
        var configuration = TCPConfiguration()
        configuration.sendBufferSize = 8192
        configuration.receiveBufferSize = 8192
        configuration.windowScaling = false
        configuration.timestamps = false
        configuration.sack = false
        return configuration
    }
}

extension TCPOptions {
    /// Just an MSS option.
    static func mss(_ value: UInt16) -> TCPOptions {
        var options = TCPOptions()
        options.maximumSegmentSize = value
        return options
    }
}

/// One `TCPLayer` (the host, 10.0.0.1) and a scripted peer (10.0.0.2,
/// port 40000) that speaks in literal segments; the clock moves only when
/// a test moves it.
struct TCPHarness {
    static let host = IPv4Address(10, 0, 0, 1)
    static let peer = IPv4Address(10, 0, 0, 2)
    static let peerPort: UInt16 = 40000
    static let hostPort: UInt16 = 80
    static let peerISS: UInt32 = 1000

    var layer: TCPLayer
    var now: UInt64 = 1_000_000_000
    /// Set by the fixtures: the connection and the host's ISS.
    var id = TCPConnectionID(slot: 0, generation: 0)
    var iss: UInt32 = 0
    var listener: TCPListenerID?
    /// The host's port in the fixture's connection.
    var port = TCPHarness.hostPort

    init(_ configuration: TCPConfiguration = .plain, seed: UInt64 = 1) {
        layer = TCPLayer(configuration: configuration, seed: seed)
    }

    /// Delivers a segment from the peer. `ack` sets the ACK bit.
    mutating func deliver(
        _ flags: TCPFlags, seq: UInt32, ack: UInt32? = nil, window: UInt16 = 8192,
        options: TCPOptions = TCPOptions(), payload: [UInt8] = [], from source: UInt16 = peerPort,
        to destination: UInt16? = nil
    ) {
        let repr = TCPRepr(
            sourcePort: source, destinationPort: destination ?? port,
            sequenceNumber: TCPSeqNumber(rawValue: seq),
            acknowledgmentNumber: ack.map { TCPSeqNumber(rawValue: $0) },
            flags: flags, window: window, options: options)
        deliver(bytes: Self.emit(repr, payload: payload, from: Self.peer, to: Self.host))
    }

    /// Delivers raw bytes as a segment from the peer.
    mutating func deliver(bytes: [UInt8], checksumVerified: Bool = false) {
        let time = now
        bytes.withUnsafeBytes {
            layer.receive(
                segment: $0, source: Self.peer, destination: Self.host, now: time,
                checksumVerified: checksumVerified)
        }
    }

    /// The bytes of `repr` with `payload`, checksum included.
    static func emit(_ repr: TCPRepr, payload: [UInt8], from source: IPv4Address, to destination: IPv4Address)
        -> [UInt8]
    {
        var bytes = [UInt8](repeating: 0, count: repr.headerLength + payload.count)
        bytes.withUnsafeMutableBytes { buffer in
            payload.withUnsafeBytes { data in
                _ = repr.emit(into: buffer, payload: data, source: source, destination: destination)
            }
        }
        return bytes
    }

    /// Polls at the current time and returns what the layer sent.
    mutating func poll(refusingAfter limit: Int = .max) -> [EmittedSegment] {
        var emitted: [EmittedSegment] = []
        let time = now
        layer.poll(now: time) { source, destination, length, fill in
            guard emitted.count < limit else { return false }
            var bytes = [UInt8](repeating: 0xee, count: length)
            bytes.withUnsafeMutableBytes { fill($0) }
            emitted.append(Self.parse(bytes, from: source, to: destination))
            return true
        }
        return emitted
    }

    /// Parses an emitted segment; a segment that does not parse (or whose
    /// checksum is wrong) fails the test.
    static func parse(_ bytes: [UInt8], from source: IPv4Address, to destination: IPv4Address)
        -> EmittedSegment
    {
        bytes.withUnsafeBytes { raw in
            do throws(WireError) {
                let repr = try TCPRepr.parse(raw, source: source, destination: destination)
                return EmittedSegment(
                    repr: repr, payload: Array(raw[repr.payload]), source: source, destination: destination)
            } catch {
                XCTFail("emitted a segment that does not parse: \(error)")
                return EmittedSegment(
                    repr: TCPRepr(
                        sourcePort: 1, destinationPort: 1, sequenceNumber: TCPSeqNumber(rawValue: 0),
                        window: 0),
                    payload: [], source: source, destination: destination)
            }
        }
    }

    /// Moves the clock by `nanoseconds` and polls.
    mutating func advance(by nanoseconds: UInt64) -> [EmittedSegment] {
        now += nanoseconds
        return poll()
    }

    /// Moves the clock to the layer's next deadline (if it is later) and polls.
    mutating func advanceToDeadline() -> [EmittedSegment] {
        if let deadline = layer.nextDeadline(), deadline > now { now = deadline }
        return poll()
    }

    var state: TCPState? { layer.state(id) }

    /// Sends `count` bytes 0, 1, 2... (mod 256) starting at `first`; fails
    /// the test unless all are taken.
    mutating func send(_ count: Int, first: Int = 0, file: StaticString = #filePath, line: UInt = #line) {
        let bytes = (0..<count).map { UInt8(truncatingIfNeeded: first + $0) }
        do {
            let taken = try bytes.withUnsafeBytes { try layer.send(id, $0) }
            XCTAssertEqual(taken, count, "bytes taken", file: file, line: line)
        } catch {
            XCTFail("send threw \(error)", file: file, line: line)
        }
    }

    /// Reads whatever is there (up to `maximum` bytes): nil (nothing yet),
    /// [] (end of stream) or the bytes; a thrown error fails the test.
    mutating func read(maximum: Int = 65536, file: StaticString = #filePath, line: UInt = #line) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: maximum)
        do {
            let count = try buffer.withUnsafeMutableBytes { try layer.receive(id, into: $0) }
            return count.map { Array(buffer[0..<$0]) }
        } catch {
            XCTFail("receive threw \(error)", file: file, line: line)
            return nil
        }
    }

    /// The error `receive` throws now, if any.
    mutating func readError() -> RiadError.Kind? {
        var buffer = [UInt8](repeating: 0, count: 16)
        do {
            _ = try buffer.withUnsafeMutableBytes { try layer.receive(id, into: $0) }
            return nil
        } catch {
            return (error as? RiadError)?.kind
        }
    }

    // MARK: Fixtures

    /// LISTEN on port 80 and a connection from the peer (ISS 1000) through
    /// a literal three-way handshake, accepted: ESTABLISHED. The peer's
    /// next sequence number is 1001, the host's `iss + 1`.
    mutating func openPassive(
        options: TCPOptions = .mss(1460), window: UInt16 = 8192, file: StaticString = #filePath,
        line: UInt = #line
    ) {
        listener = try? layer.listen(port: Self.hostPort, backlog: 8)
        port = Self.hostPort
        deliver(.syn, seq: Self.peerISS, window: window, options: options)
        let synAck = poll()
        XCTAssertEqual(synAck.count, 1, "one SYN-ACK", file: file, line: line)
        iss = synAck.first?.seq ?? 0
        deliver([], seq: Self.peerISS + 1, ack: iss &+ 1, window: window)
        XCTAssertEqual(poll().count, 0, "nothing after the handshake", file: file, line: line)
        guard let listener, let accepted = layer.accept(listener) else {
            XCTFail("no connection to accept", file: file, line: line)
            return
        }
        id = accepted
    }

    /// A connection from the host to the peer through a literal handshake:
    /// the peer answers with ISS 5000 (next 5001), `options` and `window`.
    mutating func openActive(
        options: TCPOptions = .mss(1460), window: UInt16 = 8192, file: StaticString = #filePath,
        line: UInt = #line
    ) {
        guard
            let connection = try? layer.connect(
                from: Self.host, to: SocketAddress(Self.peer, Self.peerPort), now: now)
        else {
            XCTFail("connect failed", file: file, line: line)
            return
        }
        id = connection
        port = layer.local(connection)?.port ?? 0
        let syn = poll()
        XCTAssertEqual(syn.count, 1, "one SYN", file: file, line: line)
        iss = syn.first?.seq ?? 0
        deliver(.syn, seq: 5000, ack: iss &+ 1, window: window, options: options)
        let ack = poll()
        XCTAssertEqual(ack.count, 1, "one ACK", file: file, line: line)
        XCTAssertEqual(state, .established, file: file, line: line)
    }
}

/// Asserts a segment's control bits, numbers, window and payload length.
func assertSegment(
    _ segment: EmittedSegment?, _ flags: TCPFlags, seq: UInt32, ack: UInt32?, window: UInt16? = nil,
    length: Int = 0, file: StaticString = #filePath, line: UInt = #line
) {
    guard let segment else {
        XCTFail("no segment", file: file, line: line)
        return
    }
    XCTAssertEqual(
        segment.flags.tcpdumpLetters, flags.tcpdumpLetters, "flags of \(segment)", file: file, line: line)
    XCTAssertEqual(segment.seq, seq, "seq of \(segment)", file: file, line: line)
    XCTAssertEqual(segment.ack, ack, "ack of \(segment)", file: file, line: line)
    if let window { XCTAssertEqual(segment.window, window, "window of \(segment)", file: file, line: line) }
    XCTAssertEqual(segment.payload.count, length, "length of \(segment)", file: file, line: line)
}
