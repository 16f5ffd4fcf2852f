import RiadHTTP
import XCTest

/// Choosing handlers by method and path, and the answers when none fits.
final class RouterTests: XCTestCase {
    func router() -> HTTPRouter {
        var router = HTTPRouter()
        router.get("/") { _ in .text("root") }
        router.get("/users") { _ in .text("users exact") }
        router.add(.get, prefix: "/users") { _ in .text("users prefix") }
        router.add(.get, prefix: "/users/admin/") { _ in .text("admin prefix") }
        router.post("/users") { _ in .text("users post") }
        router.add(.delete, prefix: "/users/") { _ in .text("delete user") }
        router.add(.head, "/only-head") { _ in .text("head") }
        router.get("/only-head") { _ in .text("get") }
        router.add(.get, prefix: "/static/") { request in .text("static " + request.path) }
        return router
    }

    func respond(_ method: HTTPMethod, _ path: String) async -> HTTPResponse {
        await router().respond(to: HTTPRequest(method: method, path: path))
    }

    func testExactBeatsPrefixAndLongerPrefixWins() async {
        let cases: [(HTTPMethod, String, String)] = [
            (.get, "/", "root"),
            (.get, "/users", "users exact"),
            (.get, "/users/42", "users prefix"),
            (.get, "/users/admin/x", "admin prefix"),
            (.get, "/users/admin/", "admin prefix"),
            (.post, "/users", "users post"),
            (.delete, "/users/42", "delete user"),
            (.get, "/static/a/b.css", "static /static/a/b.css"),
        ]
        for (method, path, body) in cases {
            let response = await respond(method, path)
            XCTAssertEqual(response.status, .ok, "\(method) \(path)")
            XCTAssertEqual(response.bodyText, body, "\(method) \(path)")
        }
    }

    func testPrefixesMatchAtSegmentBoundaries() async {
        let usersx = await respond(.get, "/usersx")
        XCTAssertEqual(usersx.status, .notFound)
        let staticRoot = await respond(.get, "/static")
        XCTAssertEqual(staticRoot.status, .notFound)
        let admin = await respond(.get, "/users/admin")
        XCTAssertEqual(admin.bodyText, "users prefix")
    }

    func testHeadFallsBackToGet() async {
        let user = await respond(.head, "/users/7")
        XCTAssertEqual(user.bodyText, "users prefix")
        let head = await respond(.head, "/only-head")
        XCTAssertEqual(head.bodyText, "head")
        let get = await respond(.get, "/only-head")
        XCTAssertEqual(get.bodyText, "get")
    }

    func testNotFound() async {
        let response = await respond(.get, "/nothing")
        XCTAssertEqual(response.status.code, 404)
        XCTAssertFalse(response.headers.contains("Allow"))
    }

    func testMethodNotAllowedListsAllowedMethods() async {
        let users = await respond(.delete, "/users")
        XCTAssertEqual(users.status.code, 405)
        XCTAssertEqual(users.headers["Allow"], "GET, HEAD, POST")
        let user = await respond(.post, "/users/42")
        XCTAssertEqual(user.status.code, 405)
        XCTAssertEqual(user.headers["Allow"], "GET, HEAD, DELETE")
        let onlyHead = await respond(.post, "/only-head")
        XCTAssertEqual(onlyHead.headers["Allow"], "HEAD, GET")
    }

    func testMethodNoRouteHasIsNotImplemented() async {
        let put = await respond(.put, "/users")
        XCTAssertEqual(put.status.code, 501)
        let brew = await respond(HTTPMethod("BREW")!, "/")
        XCTAssertEqual(brew.status.code, 501)
        // GET is always implemented: 404 on an empty router.
        let empty = await HTTPRouter().respond(to: HTTPRequest(method: .get, path: "/"))
        XCTAssertEqual(empty.status.code, 404)
    }

    func testDecisions() {
        let router = router()
        guard case .handler = router.decide(HTTPRequest(method: .get, path: "/")) else { return XCTFail() }
        guard case .notFound = router.decide(HTTPRequest(method: .get, path: "/x")) else { return XCTFail() }
        guard case .notImplemented = router.decide(HTTPRequest(method: .options, path: "/")) else {
            return XCTFail()
        }
        guard case .methodNotAllowed(let allowed) = router.decide(HTTPRequest(method: .post, path: "/"))
        else { return XCTFail() }
        XCTAssertEqual(allowed, [.get, .head])
    }
}
