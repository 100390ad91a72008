import Hummingbird
import SwitchyardCore

/// Refuses, before any route reads them, request text that the API document rules out for every operation:
/// - a NUL character (`%00`) in a query parameter: valid in a URL, but PostgreSQL text cannot store or compare it,
///   so a filter with one failed deep inside with a 500 (issue 12, item 2); JSON bodies get the same rule in
///   `StrictJSONBody.decode`;
/// - an `X-Request-Id` that is not 1 to 128 characters of `[A-Za-z0-9._-]` (the documented pattern); it used to be
///   replaced silently, so a caller's tracing broke without a word (issue 12, item 15).
struct RequestTextMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let requestID = request.headers[.requestID], RequestIDMiddleware.acceptable(requestID) == nil {
            throw SwitchyardError.invalidRequest(
                "X-Request-Id must be 1 to 128 characters of A-Z, a-z, 0-9, '.', '_' and '-'; leave it out to get one."
            )
        }
        for (name, value) in request.uri.queryParameters where name.contains("\u{0}") || value.contains("\u{0}") {
            throw SwitchyardError.invalidRequest(
                "The query parameter '\(String(name).replacingOccurrences(of: "\u{0}", with: "\\u0000"))' contains a NUL character."
            )
        }
        return try await next(request, context)
    }
}
