import Hummingbird
import SwitchyardCore

/// Refuses query parameters that no column can hold, before any route reads them: a NUL character (`%00`) is
/// valid in a URL but PostgreSQL text cannot store or compare it, so a filter with one failed deep inside with a 500
/// (issue 12, item 2). JSON bodies get the same rule in `StrictJSONBody.decode`.
struct QueryTextMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        for (name, value) in request.uri.queryParameters where name.contains("\u{0}") || value.contains("\u{0}") {
            throw SwitchyardError.invalidRequest("The query parameter '\(String(name).replacingOccurrences(of: "\u{0}", with: "\\u0000"))' contains a NUL character.")
        }
        return try await next(request, context)
    }
}
