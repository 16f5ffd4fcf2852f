import Riad
import RiadHTTP
import RiadNet
import RiadTestSupport
import XCTest

/// The client against the server, in one process over the in-memory
/// stack, on the virtual clock.
final class ServerClientTests: XCTestCase {
    func testGet() {
        let harness = ServerHarness(router: testRouter())
        let log = Log()
        harness.run {
            let client = harness.client()
            do throws(RiadError) {
                log.responses.append(try await client.get("http://10.0.0.2/hello"))
                log.responses.append(try await client.get("http://10.0.0.2/query?a=1&b=%20"))
            } catch { XCTFail("\(error)") }
            client.close()
        }
        XCTAssertEqual(log.responses.map(\.status.code), [200, 200])
        XCTAssertEqual(log.responses.first?.bodyText, "hello")
        XCTAssertEqual(log.responses.first?.headers["Content-Type"], "text/plain; charset=utf-8")
        XCTAssertEqual(log.responses.first?.headers["Content-Length"], "5")
        XCTAssertEqual(log.responses.last?.bodyText, "a=1&b=%20")
        XCTAssertEqual(harness.exchanges.map(\.method), [.get, .get])
        XCTAssertEqual(harness.exchanges.map(\.status.code), [200, 200])
        XCTAssertEqual(harness.serveError, .cancelled)
    }

    func testHeadHasGetsHeadersAndNoBody() {
        let harness = ServerHarness(router: testRouter())
        let log = Log()
        harness.run {
            // Over the client...
            let client = harness.client()
            if let response = try? await client.send(.head, "http://10.0.0.2/hello") {
                log.responses.append(response)
            }
            client.close()
            // ...and raw: a GET right behind the HEAD is parsed as the next
            // response only if no body followed the HEAD's head.
            let stream = await harness.connect()
            await stream.send("HEAD /hello HTTP/1.1\r\nHost: h\r\n\r\nGET /hello HTTP/1.1\r\nHost: h\r\n\r\n")
            log.responses += await stream.readResponses([.head, .get])
            stream.close()
        }
        XCTAssertEqual(log.responses.count, 3)
        for head in [log.responses[0], log.responses[1]] {
            XCTAssertEqual(head.status, .ok)
            XCTAssertEqual(head.headers["Content-Length"], "5")
            XCTAssertTrue(head.body.isEmpty)
        }
        XCTAssertEqual(log.responses[2].bodyText, "hello")
    }

    func testPostWithBody() {
        let harness = ServerHarness(router: testRouter())
        let log = Log()
        let body = (0..<10_000).map { UInt8($0 % 251) }
        harness.run {
            let client = harness.client()
            if let response = try? await client.post(
                "http://10.0.0.2/echo", body: body, contentType: "application/x")
            {
                log.responses.append(response)
            }
            client.close()
        }
        XCTAssertEqual(log.responses.first?.status, .ok)
        XCTAssertEqual(log.responses.first?.body, body)
        XCTAssertEqual(log.responses.first?.headers["X-Method"], "POST")
        XCTAssertGreaterThan(harness.exchanges.first!.requestBytes, 10_000)
        XCTAssertGreaterThan(harness.exchanges.first!.responseBytes, 10_000)
    }

    func testKeepAliveCarriesThreeRequestsOnOneConnection() {
        let harness = ServerHarness(router: testRouter())
        let log = Log()
        harness.run {
            let client = harness.client()
            for path in ["/hello", "/query?x", "/nothing"] {
                if let response = try? await client.get("http://10.0.0.2" + path) {
                    log.responses.append(response)
                }
            }
            log.entries.append("opened \(client.connectionsOpened)")
            client.close()
        }
        XCTAssertEqual(log.responses.map(\.status.code), [200, 200, 404])
        XCTAssertEqual(log.entries, ["opened 1"])
        XCTAssertEqual(harness.server.connectionsAccepted, 1)
        XCTAssertEqual(harness.network.clientStreams.count, 1)
    }

    func testPipelinedRequestsAreAnsweredInOrder() {
        let harness = ServerHarness(router: HTTPRouter())
        // The first takes longest: answers must still come in request order.
        var timed = HTTPRouter()
        for (path, delay) in [("/slow", 0.3), ("/medium", 0.2), ("/fast", 0.0)] {
            timed.get(path) { [unowned harness] _ in
                await harness.sleep(seconds: delay)
                return .text(path)
            }
        }
        harness.server.router = timed
        let log = Log()
        harness.run {
            let stream = await harness.connect()
            await stream.send(
                "GET /slow HTTP/1.1\r\nHost: h\r\n\r\nGET /medium HTTP/1.1\r\nHost: h\r\n\r\n"
                    + "GET /fast HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
            let (received, _, _) = await stream.readToEnd(harness.clock)
            log.responses = parseResponses(received, methods: [.get, .get, .get])
            stream.close()
        }
        XCTAssertEqual(log.responses.map(\.bodyText), ["/slow", "/medium", "/fast"])
        XCTAssertEqual(log.responses.last?.headers["Connection"], "close")
        // All three arrived at 0: the later ones waited for the first.
        XCTAssertEqual(harness.exchanges.map(\.durationNanoseconds), [300_000_000, 500_000_000, 500_000_000])
    }

    func testChunkedRequestBody() {
        let harness = ServerHarness(router: testRouter())
        let log = Log()
        let body = Array("a chunked body, in pieces of seven bytes".utf8)
        harness.run {
            let stream = await harness.connect()
            var request = Array("POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
            request += HTTPSerializer.chunked(body, chunkSize: 7)
            try? await stream.write(request)
            log.responses = await stream.readResponses([.post])
            stream.close()
        }
        XCTAssertEqual(log.responses.first?.body, body)
    }

    func testNotFoundMethodNotAllowedAndNotImplemented() {
        let harness = ServerHarness(router: testRouter())
        let log = Log()
        harness.run {
            let client = harness.client()
            let url = "http://10.0.0.2"
            for (method, path) in [
                (HTTPMethod.get, "/missing"), (.post, "/hello"), (.delete, "/hello"), (.get, "/echo"),
            ] {
                if let response = try? await client.send(method, url + path) {
                    log.responses.append(response)
                }
            }
            client.close()
        }
        XCTAssertEqual(log.responses.map(\.status.code), [404, 405, 501, 405])
        XCTAssertEqual(log.responses[1].headers["Allow"], "GET, HEAD")
        XCTAssertEqual(log.responses[3].headers["Allow"], "POST, PUT")
    }

    func testExpectContinueIsAnsweredBeforeTheBody() {
        let harness = ServerHarness(router: testRouter())
        let log = Log()
        harness.run {
            let stream = await harness.connect()
            await stream.send(
                "POST /echo HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 100, alignment: 1)
            defer { buffer.deallocate() }
            let count = (try? await stream.read(into: buffer)) ?? 0
            log.entries.append(String(decoding: buffer[..<count], as: UTF8.self))
            await stream.send("hello")
            log.responses = await stream.readResponses([.post])
            stream.close()
        }
        XCTAssertEqual(log.entries, ["HTTP/1.1 100 Continue\r\n\r\n"])
        XCTAssertEqual(log.responses.first?.bodyText, "hello")
    }

    func testTooLargeBodyIsRefusedBeforeItIsSent() {
        var configuration = HTTPServerConfiguration(sendsDate: false)
        configuration.limits.maxBodyLength = 100
        let harness = ServerHarness(router: testRouter(), configuration: configuration)
        let log = Log()
        harness.run {
            let stream = await harness.connect()
            await stream.send(
                "POST /echo HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 101\r\n\r\n")
            let (received, _, _) = await stream.readToEnd(harness.clock)
            log.responses = parseResponses(received, methods: [.post])
            stream.close()
        }
        XCTAssertEqual(log.responses.map(\.status.code), [413])
        XCTAssertEqual(log.responses.first?.headers["Connection"], "close")
        XCTAssertEqual(harness.exchanges.first?.method, .post)
        XCTAssertEqual(harness.exchanges.first?.status.code, 413)
    }

    func testBadRequestsAreAnsweredAndTheConnectionClosed() {
        let cases: [(String, Int)] = [
            ("GET / HTTP/1.1\r\n\r\n", 400),
            ("GET /" + String(repeating: "x", count: 9000) + " HTTP/1.1\r\nHost: h\r\n\r\n", 414),
            ("GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505),
            ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
            ("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
        ]
        for (request, status) in cases {
            let harness = ServerHarness(router: testRouter())
            let log = Log()
            harness.run {
                let stream = await harness.connect()
                await stream.send(request)
                let (received, _, error) = await stream.readToEnd(harness.clock)
                log.responses = parseResponses(received, methods: [.get])
                log.entries.append("\(String(describing: error))")
                stream.close()
            }
            XCTAssertEqual(log.responses.map(\.status.code), [status], request)
            XCTAssertEqual(log.responses.first?.headers["Connection"], "close")
            XCTAssertEqual(log.entries, ["nil"], "the server closed cleanly")
            XCTAssertEqual(harness.exchanges.map(\.status.code), [status])
        }
    }

    func testHTTP10ClosesUnlessAskedToKeepAlive() {
        let harness = ServerHarness(router: testRouter())
        let log = Log()
        harness.run {
            let plain = await harness.connect()
            await plain.send("GET /hello HTTP/1.0\r\n\r\n")
            let (received, _, _) = await plain.readToEnd(harness.clock)
            log.responses += parseResponses(received, methods: [.get])
            plain.close()
            let kept = await harness.connect()
            await kept.send("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            log.responses += await kept.readResponses([.get])
            await kept.send("GET /query?again HTTP/1.0\r\n\r\n")
            log.responses += await kept.readResponses([.get])
            kept.close()
        }
        XCTAssertEqual(log.responses.map(\.bodyText), ["hello", "hello", "again"])
        XCTAssertEqual(log.responses.map { $0.headers["Connection"] }, ["close", "keep-alive", "close"])
    }

    func testStreamedResponseIsChunkedToHTTP11AndDelimitedByCloseToHTTP10() {
        var router = HTTPRouter()
        router.get("/stream") { _ in
            .streaming(contentType: "text/plain") { (writer) throws(RiadError) in
                try await writer.write("one ")
                try await writer.write([])
                try await writer.write(Array("two ".utf8))
                try await writer.write("three")
            }
        }
        let harness = ServerHarness(router: router)
        let log = Log()
        harness.run {
            let client = harness.client()
            if let response = try? await client.get("http://10.0.0.2/stream") {
                log.responses.append(response)
            }
            log.entries.append("opened \(client.connectionsOpened)")
            if let response = try? await client.get("http://10.0.0.2/stream") {
                log.responses.append(response)
            }
            log.entries.append("opened \(client.connectionsOpened)")
            client.close()
            let old = await harness.connect()
            await old.send("GET /stream HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            let (received, _, _) = await old.readToEnd(harness.clock)
            log.responses += parseResponses(received, methods: [.get])
            old.close()
        }
        XCTAssertEqual(log.responses.map(\.bodyText), ["one two three", "one two three", "one two three"])
        XCTAssertEqual(log.responses[0].headers["Transfer-Encoding"], "chunked")
        XCTAssertNil(log.responses[0].headers["Content-Length"])
        // Chunked: the connection stays.
        XCTAssertEqual(log.entries, ["opened 1", "opened 1"])
        XCTAssertNil(log.responses[2].headers["Transfer-Encoding"])
        XCTAssertEqual(log.responses[2].headers["Connection"], "close")
    }

    func testDateField() {
        let harness = ServerHarness(router: testRouter(), configuration: HTTPServerConfiguration())
        let log = Log()
        harness.run {
            let client = harness.client()
            if let response = try? await client.get("http://10.0.0.2/hello") {
                log.responses.append(response)
            }
            await harness.sleep(seconds: 86_400 + 3661)
            if let response = try? await client.get("http://10.0.0.2/hello") {
                log.responses.append(response)
            }
            client.close()
        }
        XCTAssertEqual(
            log.responses.map { $0.headers["Date"] },
            ["Sun, 06 Nov 1994 08:49:37 GMT", "Mon, 07 Nov 1994 09:50:38 GMT"])
    }

    func testObserverSeesMethodStatusDurationAndBytes() {
        let harness = ServerHarness(router: testRouter())
        harness.server.router.get("/wait") { [unowned harness] _ in
            await harness.sleep(seconds: 0.25)
            return .text("waited")
        }
        harness.run {
            let stream = await harness.connect()
            let requests =
                "GET /wait HTTP/1.1\r\nHost: h\r\n\r\nGET /nope HTTP/1.1\r\nHost: h\r\n\r\nBAD\r\n\r\n"
            await stream.send(requests)
            _ = await stream.readToEnd(harness.clock)
            stream.close()
        }
        let exchanges = harness.exchanges
        XCTAssertEqual(exchanges.map(\.method), [.get, .get, nil])
        XCTAssertEqual(exchanges.map(\.status.code), [200, 404, 400])
        // All arrived at 0; the later two waited behind the first.
        XCTAssertEqual(exchanges.map(\.durationNanoseconds), [250_000_000, 250_000_000, 250_000_000])
        // The third is refused at "BAD\r\n".
        XCTAssertEqual(exchanges.map(\.requestBytes), [31, 31, 5])
        XCTAssertEqual(exchanges.map(\.aborted), [false, false, false])
        let response =
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 6\r\n\r\nwaited"
        XCTAssertEqual(exchanges[0].responseBytes, response.utf8.count)
    }

    func testClientResolvesNames() {
        let harness = ServerHarness(router: testRouter())
        harness.network.names["service.local"] = IPv4Address(10, 0, 0, 2)
        let log = Log()
        harness.run {
            let client = harness.client()
            do throws(RiadError) {
                log.responses.append(try await client.get("http://service.local/hello"))
                _ = try await client.get("http://unknown.local/hello")
            } catch { log.entries.append("\(error.kind)") }
            do throws(RiadError) { _ = try await client.get("http://10.0.0.2:81/") } catch {
                log.entries.append("\(error.kind)")
            }
            do throws(RiadError) { _ = try await client.get("https://10.0.0.2/") } catch {
                log.entries.append("\(error.kind)")
            }
            do throws(RiadError) { _ = try await client.get("10.0.0.2/") } catch {
                log.entries.append("\(error.kind)")
            }
            client.close()
        }
        XCTAssertEqual(log.responses.first?.bodyText, "hello")
        XCTAssertEqual(log.entries, ["not found", "refused", "unsupported", "invalid argument"])
    }

    func testClientSkipsInterimResponsesAndKeepsTheConnectionForTheNext() {
        // A hand-written server: 100, then 200, on one connection.
        let executor = VirtualExecutor()
        let network = MemoryNetwork(executor: executor)
        let clock = VirtualClock(executor: executor)
        let listener = try! network.listen(port: 80, backlog: 4)
        let log = Log()
        executor.spawn {
            guard let stream = try? await listener.accept() else { return }
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 1)
            defer { buffer.deallocate() }
            var parser = HTTPRequestParser()
            for _ in 0..<2 {
                var done = false
                while !done, let count = try? await stream.read(into: buffer), count > 0 {
                    if case .message(let request) = parser.feed(
                        UnsafeRawBufferPointer(rebasing: buffer[..<count])
                    ).event {
                        log.entries.append(request.target + " " + (request.headers["User-Agent"] ?? "-"))
                        done = true
                    }
                }
                try? await stream.write(
                    "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-N: 1\r\n\r\nok")
            }
            stream.close()
        }
        executor.spawn {
            let client = HTTPClient(stack: network, clock: clock)
            for _ in 0..<2 {
                if let response = try? await client.get("http://10.0.0.2/a?b") {
                    log.responses.append(response)
                }
            }
            log.entries.append("opened \(client.connectionsOpened)")
            client.close()
        }
        executor.loop.run()
        XCTAssertEqual(log.responses.map(\.status.code), [200, 200])
        XCTAssertEqual(log.responses.map(\.bodyText), ["ok", "ok"])
        XCTAssertEqual(log.entries, ["/a?b Riad", "/a?b Riad", "opened 1"])
    }

    func testCancellingTheServerEndsItsConnections() {
        let harness = ServerHarness(router: testRouter())
        let log = Log()
        harness.run {
            let stream = await harness.connect()
            await stream.send("GET /hello HTTP/1.1\r\nHost: h\r\n\r\n")
            log.responses = await stream.readResponses([.get])
            log.entries.append("active \(harness.server.activeConnections)")
            // The body returns with this connection open; the harness
            // cancels the server, which must close it.
            let reader = Task(executorPreference: harness.executor) {
                let (_, endedAt, error) = await stream.readToEnd(harness.clock)
                log.entries.append("ended at \(endedAt) \(String(describing: error))")
                log.entries.append("active \(harness.server.activeConnections)")
            }
            _ = reader
        }
        XCTAssertEqual(log.responses.count, 1)
        XCTAssertEqual(log.entries, ["active 1", "ended at 0 nil", "active 0"])
        XCTAssertEqual(harness.serveError, .cancelled)
    }
}
