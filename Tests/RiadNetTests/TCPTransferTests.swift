import Riad
import RiadNet
import XCTest

/// Two real `TCPLayer`s on a seeded in-memory network with loss,
/// reordering and duplication (in both directions, ACKs included), on a
/// virtual clock: 10,000,000 bytes from a seeded generator must arrive
/// intact, as SHA-256 over each end's bytes shows.
final class TCPTransferTests: XCTestCase {
    static let transferLength = 10_000_000

    /// Nothing is lost; reordered segments still draw duplicate ACKs and
    /// some needless fast retransmits, but never a timeout.
    func testTransferWithoutLoss() throws {
        let run = try transfer(loss: 0, seed: 100)
        XCTAssertEqual(run.network.lost, [0, 0])
        XCTAssertEqual(run.clientCounters.timeouts, 0)
    }

    func testTransferWithOnePercentLoss() throws {
        let run = try transfer(loss: 0.01, seed: 101)
        XCTAssertGreaterThan(run.network.lost[0], 0)
        XCTAssertGreaterThanOrEqual(run.clientCounters.retransmissions, UInt64(run.network.lost[0]))
    }

    func testTransferWithFivePercentLoss() throws {
        let run = try transfer(loss: 0.05, seed: 105)
        XCTAssertGreaterThan(run.clientCounters.fastRetransmits, 0)
        XCTAssertGreaterThanOrEqual(run.clientCounters.retransmissions, UInt64(run.network.lost[0]))
    }

    func testTransferWithTenPercentLoss() throws {
        let run = try transfer(loss: 0.10, seed: 110)
        XCTAssertGreaterThan(run.clientCounters.fastRetransmits, 0)
        XCTAssertGreaterThan(run.clientCounters.timeouts, 0)
        XCTAssertGreaterThanOrEqual(run.clientCounters.retransmissions, UInt64(run.network.lost[0]))
    }

    /// Segmentation offload: the sender hands over segments of up to 64
    /// KiB for the device to cut; the peer takes them whole, as Linux does
    /// from a tap. The bytes still arrive intact, with and without loss.
    func testTransferWithSegmentationOffload() throws {
        let run = try transfer(loss: 0, seed: 120, offload: true)
        XCTAssertGreaterThan(run.network.offloaded, 0)
        XCTAssertEqual(run.network.badOffloaded, 0)
    }

    func testTransferWithSegmentationOffloadAndFivePercentLoss() throws {
        let run = try transfer(loss: 0.05, seed: 125, offload: true)
        XCTAssertGreaterThan(run.network.offloaded, 0)
        XCTAssertEqual(run.network.badOffloaded, 0)
        XCTAssertGreaterThanOrEqual(run.clientCounters.retransmissions, UInt64(run.network.lost[0]))
    }

    struct Run {
        var clientCounters: TCPCounters
        var serverCounters: TCPCounters
        var network: TCPSimulatedNetwork
        var virtualSeconds: Double
    }

    /// Sends `transferLength` bytes from client to server, then closes both
    /// ways; checks the bytes and that both ends end up closed.
    private func transfer(
        loss: Double, seed: UInt64, offload: Bool = false, file: StaticString = #filePath, line: UInt = #line
    ) throws -> Run {
        var configuration = TCPConfiguration()
        configuration.maximumConnections = 4
        if offload { configuration.segmentationOffload = 65535 - 20 - 60 }
        var conditions = TCPLinkConditions()
        conditions.loss = loss
        conditions.duplication = 0.01
        conditions.reordering = 0.02
        var network = TCPSimulatedNetwork(configuration: configuration, conditions: conditions, seed: seed)
        let listener = try network.server.listen(port: 80, backlog: 4)
        let connection = try network.client.connect(
            from: TCPSimulatedNetwork.clientAddress, to: SocketAddress(TCPSimulatedNetwork.serverAddress, 80),
            now: network.now)
        let start = network.now

        var generator = SeededRandomBuffers(seed: seed)
        var chunk = [UInt8](repeating: 0, count: 16384)
        var chunkStart = 0
        var chunkEnd = 0
        var generated = 0
        var sentHash = SHA256()
        var receivedHash = SHA256()
        var received = 0
        var endOfStream = false
        var serverConnection: TCPConnectionID?
        var readBuffer = [UInt8](repeating: 0, count: 65536)
        var shutDown = false

        network.poll()
        while network.advance() {
            if network.now - start > 3600 * 1_000_000_000 {
                XCTFail("no progress in an hour of virtual time", file: file, line: line)
                break
            }
            // The client writes as much as the send buffer takes.
            while !shutDown {
                if chunkStart == chunkEnd {
                    guard generated < Self.transferLength else {
                        try network.client.shutdown(connection)
                        shutDown = true
                        break
                    }
                    chunkEnd = min(chunk.count, Self.transferLength - generated)
                    for index in stride(from: 0, to: chunkEnd, by: 8) {
                        var word = generator.next()
                        for offset in index..<min(index + 8, chunkEnd) {
                            chunk[offset] = UInt8(truncatingIfNeeded: word)
                            word >>= 8
                        }
                    }
                    chunk.withUnsafeBytes {
                        sentHash.update(UnsafeRawBufferPointer(rebasing: $0[0..<chunkEnd]))
                    }
                    generated += chunkEnd
                    chunkStart = 0
                }
                let taken = try chunk.withUnsafeBytes {
                    try network.client.send(
                        connection, UnsafeRawBufferPointer(rebasing: $0[chunkStart..<chunkEnd]))
                }
                if taken == 0 { break }
                chunkStart += taken
            }
            // The server reads everything there is.
            if serverConnection == nil { serverConnection = network.server.accept(listener) }
            if let serverConnection, !endOfStream {
                while let count = try readBuffer.withUnsafeMutableBytes({
                    try network.server.receive(serverConnection, into: $0)
                }) {
                    if count == 0 {
                        endOfStream = true
                        try network.server.shutdown(serverConnection)
                        break
                    }
                    readBuffer.withUnsafeBytes {
                        receivedHash.update(UnsafeRawBufferPointer(rebasing: $0[0..<count]))
                    }
                    received += count
                }
            }
            network.poll()
            if endOfStream && network.client.state(connection) == .timeWait
                && network.server.state(serverConnection!) == .closed
            {
                break
            }
        }

        XCTAssertEqual(received, Self.transferLength, file: file, line: line)
        XCTAssertTrue(endOfStream, file: file, line: line)
        XCTAssertEqual(
            SHA256.hex(receivedHash.finalize()), SHA256.hex(sentHash.finalize()), file: file, line: line)
        XCTAssertEqual(network.client.state(connection), .timeWait, file: file, line: line)
        let seconds = Double(network.now - start) / 1e9
        let client = network.client.counters
        print(
            """
            TCP transfer, \(Int(loss * 100)) % loss: \(seconds) s virtual, \(network.steps) events; \
            client sent \(client.segmentsSent) segments (\(client.retransmissions) retransmissions, \
            \(client.fastRetransmits) fast retransmits, \(client.timeouts) timeouts), \
            server sent \(network.server.counters.segmentsSent); \
            link lost \(network.lost[0]) + \(network.lost[1]), duplicated \(network.duplicated), \
            reordered \(network.reordered); server out-of-order \(network.server.counters.outOfOrderSegments)
            """)
        return Run(
            clientCounters: client, serverCounters: network.server.counters, network: network,
            virtualSeconds: seconds)
    }
}
