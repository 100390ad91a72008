import Hummingbird
import SwitchyardCore

/// Reads `Authorization: Bearer ...`, resolves the principal and applies the per-key rate limit.
///
/// A request without the header passes through unauthenticated: the route's context
/// (`TenantRequestContext`, `OperatorRequestContext`) then answers 401. Keys in the query string are
/// refused outright rather than ignored, so a leaked URL is noticed (REQUIREMENTS API-2).
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let authenticator: Authenticator
    let rateLimiter: SharedRateLimiter
    /// Counts each tenant's authenticated requests by status class (`GET /v1/metrics/usage`).
    let usage: UsageMeter?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.uri.queryParameters.contains(where: { ["api_key", "access_token", "key", "token"].contains(String($0.key)) }) {
            throw SwitchyardError.unauthorized("API keys are accepted only in the Authorization header, never in the URL.")
        }
        guard let header = request.headers[.authorization] else {
            return try await next(request, context)
        }
        guard header.count > 7, header.prefix(7).lowercased() == "bearer " else {
            throw SwitchyardError.unauthorized("Use `Authorization: Bearer <key>`.")
        }
        let token = header.dropFirst(7).drop(while: { $0 == " " })
        var context = context
        let principal = try await authenticator.authenticate(bearer: token, logger: context.logger)
        switch principal {
        case .operator:
            break
        case .tenant(let caller):
            context.logger[metadataKey: "tenant_id"] = .string(caller.tenantID.description)
            context.logger[metadataKey: "api_key"] = .string(caller.key.displayPrefix)
            if let usage {
                return try await Self.counting(usage, tenant: caller.tenantID) {
                    try await admit(principal, request: request, context: context, next: next)
                }
            }
        }
        return try await admit(principal, request: request, context: context, next: next)
    }

    /// Applies the key's rate limit, then calls the route as `principal`.
    private func admit(
        _ principal: Principal,
        request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var context = context
        let decision =
            switch principal {
            case .operator: rateLimiter.checkOperator()
            case .tenant(let caller): await rateLimiter.check(tenant: caller.tenantID, apiKey: caller.key.id, logger: context.logger)
            }
        if case .limited(let seconds) = decision {
            throw SwitchyardError(
                .rateLimited(retryAfterSeconds: seconds),
                code: "rate-limited",
                detail: "Too many requests for this API key. Retry after \(seconds) s."
            )
        }
        context.principal = principal
        return try await next(request, context)
    }
}

extension AuthenticationMiddleware {
    /// Runs `route` and counts its answer, or the error it throws, by status class.
    static func counting(_ usage: UsageMeter, tenant: TenantID, _ route: () async throws -> Response) async throws -> Response {
        do {
            let response = try await route()
            usage.record(.apiRequests, tenant: tenant, dimension: statusClass(response.status.code))
            return response
        } catch {
            let status = ProblemDetails.status(of: error)
            usage.record(.apiRequests, tenant: tenant, dimension: statusClass(status))
            throw error
        }
    }

    static func statusClass(_ code: Int) -> String {
        "\(min(max(code / 100, 1), 5))xx"
    }
}
