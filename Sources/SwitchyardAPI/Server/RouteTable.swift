import HTTPTypes
import Hummingbird
import Synchronization

/// The served routes as (method, template) pairs: for 405 answers and for checking the OpenAPI document.
public struct RouteTable: Sendable {
    public struct Route: Sendable, Hashable {
        public let method: String
        /// `/v1/api-keys/{key_id}`, as in the OpenAPI document.
        public let template: String
    }

    public let routes: [Route]

    public init(router: Router<AppRequestContext>) {
        routes = router.routes.map { Route(method: $0.method.rawValue, template: Self.normalise($0.path.description)) }
    }

    /// The methods served at `path`, in a stable order.
    func methods(matching path: String) -> [HTTPRequest.Method] {
        let segments = path.split(separator: "/")
        // Like the router, a literal segment wins over a parameter at the same place: `/webhook-events/replay` is
        // the replay route's path, not an event id, so only its methods are allowed there (issue 12, item 14).
        var best: [Bool] = []
        var methods = Set<String>()
        for route in routes {
            let template = route.template.split(separator: "/")
            let catchAll = template.last == "{path}"
            guard template.count == segments.count || (catchAll && segments.count >= template.count) else { continue }
            var matches = true
            for (expected, actual) in zip(template, segments) where !expected.hasPrefix("{") && expected != actual {
                matches = false
                break
            }
            guard matches else { continue }
            let literals = template.map { !$0.hasPrefix("{") }
            if literals.lexicographicallyPrecedes(best, by: { !$0 && $1 }) { continue }
            if best.lexicographicallyPrecedes(literals, by: { !$0 && $1 }) {
                best = literals
                methods = []
            }
            methods.insert(route.method)
        }
        return methods.sorted().compactMap { HTTPRequest.Method($0) }
    }

    /// `/a/{id}/b`, with a trailing catch-all `**` written as OpenAPI's `{path}` (which may hold slashes).
    static func normalise(_ path: String) -> String {
        "/" + path.split(separator: "/").map { $0 == "**" ? "{path}" : $0 }.joined(separator: "/")
    }
}

/// The route table is known only once every route is registered, after the middleware that reads it
/// was created; this box is filled in at the end of `buildRouter`.
final class RouteTableBox: Sendable {
    private let table = Mutex<RouteTable?>(nil)

    func set(_ routes: RouteTable) {
        table.withLock { $0 = routes }
    }

    func methods(matching path: String) -> [HTTPRequest.Method] {
        table.withLock { $0?.methods(matching: path) ?? [] }
    }

    public var routes: [RouteTable.Route] { table.withLock { $0?.routes ?? [] } }
}
