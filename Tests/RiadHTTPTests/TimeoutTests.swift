import Riad
import RiadHTTP
import RiadNet
import RiadTestSupport
import XCTest

/// Timeouts and limits of the server and client, in virtual time: each
/// ends exactly at its deadline.
final class TimeoutTests: XCTestCase {
    static let second: UInt64 = 1_000_000_000

    func configuration() -> HTTPServerConfiguration {
        HTTPServerConfiguration(
            idleTimeout: .seconds(5), headerTimeout: .seconds(10), bodyTimeout: .seconds(20),
            writeTimeout: .seconds(3), lingerTimeout: .seconds(1), sendsDate: false)
    }

    func testIdleTimeoutClosesTheConnection() {
        let harness = ServerHarness(router: testRouter(), configuration: configuration())
        let log = Log()
        harness.run {
            let stream = await harness.connect()
            await harness.sleep(seconds: 2)
            await stream.send("GET /hello HTTP/1.1\r\nHost: h\r\n\r\n")
            log.responses = await stream.readResponses([.get])
            let (rest, endedAt, error) = await stream.readToEnd(harness.clock)
            log.times.append(endedAt)
            log.entries.append("\(rest.count) \(String(describing: error))")
            stream.close()
        }
        XCTAssertEqual(log.responses.map(\.status.code), [200])
        // Closed 5 s after the response, without a word.
        XCTAssertEqual(log.times, [7 * Self.second])
        XCTAssertEqual(log.entries, ["0 nil"])
        XCTAssertEqual(harness.exchanges.count, 1)
    }

    func testConnectionWithNoRequestIsClosedAfterTheIdleTimeout() {
        let harness = ServerHarness(router: testRouter(), configuration: configuration())
        let log = Log()
        harness.run {
            let stream = await harness.connect()
            let (received, endedAt, _) = await stream.readToEnd(harness.clock)
            log.times.append(endedAt)
            log.entries.append("\(received.count)")
            stream.close()
        }
        XCTAssertEqual(log.times, [5 * Self.second])
        XCTAssertEqual(log.entries, ["0"])
        XCTAssertTrue(harness.exchanges.isEmpty)
    }

    func testSlowHeadersGet408() {
        let harness = ServerHarness(router: testRouter(), configuration: configuration())
        let log = Log()
        harness.run {
            let stream = await harness.connect()
            // A byte every 1.5 s: the header section would take 45 s.
            let trickle = Task(executorPreference: harness.executor) {
                for byte in "GET /hello HTTP/1.1\r\nHost: h\r\n\r\n".utf8 {
                    await harness.sleep(seconds: 1.5)
                    do throws(RiadError) { try await stream.write([byte]) } catch { return }
                }
            }
            await harness.sleep(seconds: 0.5)
            let (received, endedAt, _) = await stream.readToEnd(harness.clock)
            log.responses = parseResponses(received, methods: [.get])
            log.times.append(endedAt)
            trickle.cancel()
            stream.close()
        }
        XCTAssertEqual(log.responses.map(\.status.code), [408])
        XCTAssertEqual(log.responses.first?.headers["Connection"], "close")
        // The first byte came at 1.5 s, then 10 s for the headers: the
        // answer and the end of stream (the server shuts down its side,
        // then lingers) come at 11.5 s.
        XCTAssertEqual(log.times, [11_500_000_000])
        XCTAssertEqual(harness.exchanges.map(\.status.code), [408])
        // 7 bytes came: not even the request line.
        XCTAssertNil(harness.exchanges.first?.method)
        XCTAssertEqual(harness.exchanges.first?.requestBytes, 7)
        XCTAssertEqual(harness.exchanges.first?.durationNanoseconds, 10 * Self.second)
    }

    func testSlowBodyGets408() {
        let harness = ServerHarness(router: testRouter(), configuration: configuration())
        let log = Log()
        harness.run {
            let stream = await harness.connect()
            await stream.send("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc")
            let (received, endedAt, _) = await stream.readToEnd(harness.clock)
            log.responses = parseResponses(received, methods: [.post])
            log.times.append(endedAt)
            stream.close()
        }
        XCTAssertEqual(log.responses.map(\.status.code), [408])
        // 20 s for the content.
        XCTAssertEqual(log.times, [20 * Self.second])
        XCTAssertEqual(harness.exchanges.first?.method, .post)
        XCTAssertEqual(
            harness.exchanges.first?.requestBytes,
            "POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc".utf8.count)
    }

    func testClientThatClosesMidRequestIsNotAnswered() {
        let harness = ServerHarness(router: testRouter(), configuration: configuration())
        let log = Log()
        harness.run {
            let stream = await harness.connect()
            await stream.send("GET /hello HTTP/1.1\r\nHo")
            try? stream.shutdown()
            let (received, endedAt, _) = await stream.readToEnd(harness.clock)
            log.entries.append("\(received.count)")
            log.times.append(endedAt)
            stream.close()
        }
        XCTAssertEqual(log.entries, ["0"])
        XCTAssertEqual(log.times, [0])
        XCTAssertTrue(harness.exchanges.isEmpty)
    }

    func testWriteTimeoutForAClientThatDoesNotRead() {
        var router = HTTPRouter()
        router.get("/big") { _ in .bytes([UInt8](repeating: 7, count: 100_000)) }
        let harness = ServerHarness(router: router, configuration: configuration(), capacity: 4096)
        let log = Log()
        harness.run {
            let stream = await harness.connect()
            await stream.send("GET /big HTTP/1.1\r\nHost: h\r\n\r\n")
            // Read nothing for a minute.
            await harness.sleep(seconds: 60)
            let (received, _, error) = await stream.readToEnd(harness.clock)
            log.entries.append("\(received.count) \(String(describing: error))")
            stream.close()
        }
        // The server gave up after 3 s with the buffer full, and closed: what
        // was queued is still readable, then the end.
        XCTAssertEqual(log.entries, ["4096 nil"])
        XCTAssertEqual(harness.exchanges.map(\.aborted), [true])
        XCTAssertEqual(harness.exchanges.first?.durationNanoseconds, 3 * Self.second)
        XCTAssertEqual(harness.server.activeConnections, 0)
    }

    func testConnectionCapMakesTheNextWait() {
        var configuration = configuration()
        configuration.maxConnections = 1
        let harness = ServerHarness(router: testRouter(), configuration: configuration)
        let log = Log()
        harness.run {
            let first = await harness.connect()
            await first.send("GET /hello HTTP/1.1\r\nHost: h\r\n\r\n")
            _ = await first.readResponses([.get])
            log.entries.append("first answered at \(harness.now)")
            let second = await harness.connect()
            await second.send("GET /hello HTTP/1.1\r\nHost: h\r\n\r\n")
            let closer = Task(executorPreference: harness.executor) {
                await harness.sleep(seconds: 2)
                log.entries.append("first closed at \(harness.now)")
                first.close()
            }
            _ = await second.readResponses([.get])
            log.entries.append("second answered at \(harness.now)")
            _ = await closer.value
            second.close()
        }
        XCTAssertEqual(
            log.entries,
            ["first answered at 0", "first closed at 2000000000", "second answered at 2000000000"])
        XCTAssertEqual(harness.server.connectionsAccepted, 2)
    }

    func testClientTimeoutWaitingForAResponse() {
        let harness = ServerHarness(router: HTTPRouter(), configuration: configuration())
        harness.server.router.get("/never") { [unowned harness] _ in
            await harness.sleep(seconds: 1000)
            return .text("late")
        }
        let log = Log()
        harness.run {
            let client = harness.client(HTTPClientConfiguration(timeout: .seconds(4)))
            do throws(RiadError) { _ = try await client.get("http://10.0.0.2/never") } catch {
                log.entries.append("\(error.kind) at \(harness.now)")
            }
        }
        XCTAssertEqual(log.entries, ["timed out at 4000000000"])
    }

    func testClientTimeoutWhileConnecting() {
        let harness = ServerHarness(router: testRouter(), configuration: configuration())
        harness.network.connectDelay = .max
        let log = Log()
        harness.run {
            let client = harness.client(HTTPClientConfiguration(timeout: .seconds(2)))
            do throws(RiadError) { _ = try await client.get("http://10.0.0.2/hello") } catch {
                log.entries.append("\(error.kind) at \(harness.now)")
            }
        }
        XCTAssertEqual(log.entries, ["timed out at 2000000000"])
    }

    func testClientConnectsWithinItsTimeout() {
        let harness = ServerHarness(router: testRouter(), configuration: configuration())
        harness.network.connectDelay = 1 * Self.second
        let log = Log()
        harness.run {
            let client = harness.client(HTTPClientConfiguration(timeout: .seconds(2)))
            if let response = try? await client.get("http://10.0.0.2/hello") {
                log.entries.append("\(response.bodyText) at \(harness.now)")
            }
            client.close()
        }
        XCTAssertEqual(log.entries, ["hello at 1000000000"])
    }

    func testClientRetriesAKeptConnectionTheServerClosed() {
        let harness = ServerHarness(router: testRouter(), configuration: configuration())
        let log = Log()
        harness.run {
            let client = harness.client()
            for _ in 0..<2 {
                do throws(RiadError) {
                    log.responses.append(try await client.get("http://10.0.0.2/hello"))
                } catch { log.entries.append("\(error.kind)") }
                // Longer than the server's idle timeout.
                await harness.sleep(seconds: 6)
            }
            log.entries.append("opened \(client.connectionsOpened)")
            // POST is not retried.
            do throws(RiadError) {
                _ = try await client.post("http://10.0.0.2/echo", body: [1], contentType: "x")
            } catch { log.entries.append("\(error.kind)") }
            client.close()
        }
        XCTAssertEqual(log.responses.map(\.bodyText), ["hello", "hello"])
        XCTAssertEqual(log.entries, ["opened 2", "reset"])
    }
}
