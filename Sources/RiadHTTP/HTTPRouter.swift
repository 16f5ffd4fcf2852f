// Dispatching requests to handlers by method and path, with the answers
// RFC 9110 gives when none fits: 404 (15.5.5), 405 with Allow (15.5.6,
// 10.2.1), 501 for a method no route implements (9.1, 15.6.2); HEAD
// answered by GET's handler when it has none of its own (9.3.2).
import Riad
import _Concurrency

/// Produces the response to a request.
public typealias HTTPHandler = (HTTPRequest) async -> HTTPResponse

/// Routes from method and path to handlers.
///
/// An exact route matches its path only; a prefix route matches its path
/// and every path below it ("/static" matches "/static" and "/static/a.css",
/// not "/statics"). Exact routes win over prefix routes, longer prefixes over
/// shorter ones, and among equals the first added.
///
/// ```swift
/// var router = HTTPRouter()
/// router.get("/") { _ in .text("hello\n") }
/// router.add(.post, "/echo") { request in .bytes(request.body) }
/// router.add(.get, prefix: "/files/") { request in serveFile(request.path) }
/// ```
public struct HTTPRouter {
    struct Route {
        let method: HTTPMethod
        let path: [UInt8]
        let isPrefix: Bool
        let handler: HTTPHandler

        func matches(_ path: String.UTF8View) -> Bool {
            guard isPrefix else { return path.elementsEqual(self.path) }
            guard path.starts(with: self.path) else { return false }
            // At a segment boundary only.
            if path.count == self.path.count || self.path.last == ASCII.slash { return true }
            return path.dropFirst(self.path.count).first == ASCII.slash
        }
    }

    private var routes: [Route] = []

    public init() {}

    /// Routes `method` on exactly `path` to `handler`.
    public mutating func add(_ method: HTTPMethod, _ path: String, _ handler: @escaping HTTPHandler) {
        routes.append(Route(method: method, path: Array(path.utf8), isPrefix: false, handler: handler))
    }

    /// Routes `method` on `prefix` and every path below it to `handler`.
    public mutating func add(
        _ method: HTTPMethod, prefix: String, _ handler: @escaping HTTPHandler
    ) {
        routes.append(Route(method: method, path: Array(prefix.utf8), isPrefix: true, handler: handler))
    }

    public mutating func get(_ path: String, _ handler: @escaping HTTPHandler) {
        add(.get, path, handler)
    }

    public mutating func post(_ path: String, _ handler: @escaping HTTPHandler) {
        add(.post, path, handler)
    }

    /// What the router does with a request.
    public enum Decision {
        case handler(HTTPHandler)
        /// No route has this path: 404.
        case notFound
        /// Routes have this path for other methods, listed: 405.
        case methodNotAllowed([HTTPMethod])
        /// No route anywhere has this method: 501.
        case notImplemented
    }

    /// Chooses the handler for `request`.
    public func decide(_ request: HTTPRequest) -> Decision {
        let method = request.method
        // GET and HEAD are always implemented (RFC 9110 section 9.1).
        let implemented =
            method == .get || method == .head || routes.contains { $0.method == method }
        guard implemented else { return .notImplemented }
        let path = request.path.utf8
        if let route = bestRoute(method, path) ?? (method == .head ? bestRoute(.get, path) : nil) {
            return .handler(route.handler)
        }
        var allowed: [HTTPMethod] = []
        for route in routes where route.matches(path) && !allowed.contains(route.method) {
            allowed.append(route.method)
        }
        if allowed.isEmpty { return .notFound }
        if let get = allowed.firstIndex(of: .get), !allowed.contains(.head) {
            allowed.insert(.head, at: get + 1)
        }
        return .methodNotAllowed(allowed)
    }

    /// The most specific route for `method` matching `path`.
    private func bestRoute(_ method: HTTPMethod, _ path: String.UTF8View) -> Route? {
        var best: Route?
        for route in routes where route.method == method && route.matches(path) {
            guard let current = best else {
                best = route
                continue
            }
            if !route.isPrefix && current.isPrefix
                || route.isPrefix && current.isPrefix && route.path.count > current.path.count
            {
                best = route
            }
        }
        return best
    }

    /// The response to `request`: its handler's, or 404, 405 or 501.
    public func respond(to request: HTTPRequest) async -> HTTPResponse {
        switch decide(request) {
        case .handler(let handler):
            return await handler(request)
        case .notFound:
            return .text("not found\n", status: .notFound)
        case .notImplemented:
            return .text("method not implemented\n", status: .notImplemented)
        case .methodNotAllowed(let methods):
            var response = HTTPResponse.text("method not allowed\n", status: .methodNotAllowed)
            var allow = ""
            for method in methods {
                if !allow.utf8.isEmpty { allow += ", " }
                allow += method.name
            }
            response.headers.add("Allow", allow)
            return response
        }
    }
}
