import Hummingbird
import SwitchyardCore

/// Turns every error thrown below it into an `application/problem+json` response, and a route
/// that exists for other methods into 405 with `Allow` rather than 404.
struct ProblemMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let routes: RouteTableBox

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            // The router answers 404 both for an unknown path and for a known path without this method.
            let allowed = routes.methods(matching: request.uri.path)
            if !allowed.isEmpty && !allowed.contains(request.method) {
                let problem = SwitchyardError(
                    .methodNotAllowed(allowed: allowed.map(\.rawValue)),
                    code: "method-not-allowed",
                    detail: "\(request.method.rawValue) is not allowed here; use \(allowed.map(\.rawValue).joined(separator: " or "))."
                )
                return ProblemDetails.payload(for: problem, requestID: context.requestID, logger: context.logger).response
            }
            return ProblemDetails.payload(for: error, requestID: context.requestID, logger: context.logger).response
        } catch {
            return ProblemDetails.payload(for: error, requestID: context.requestID, logger: context.logger).response
        }
    }
}
