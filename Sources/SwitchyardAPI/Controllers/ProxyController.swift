import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SwitchyardCore
import SwitchyardOAuth
import SwitchyardOutbound
import SwitchyardPostgres
import SwitchyardProviders

/// `/v1/integrations/{id}/proxy/{path}`: calls the provider's API as the integration, with its credential
/// injected here; the caller never sees it. Goes through the outbound client (rate limits, breaker, retries
/// of idempotent methods, SSRF guard).
struct ProxyController: Sendable {
    let database: Database
    let directory: ProviderDirectory
    let outbound: OutboundClient
    let limits: LimitsConfiguration
    let refresher: TokenRefresher

    static let methods: [HTTPRequest.Method] = [.get, .post, .put, .patch, .delete]
    /// Request headers passed on to the provider; everything else (cookies, auth, forwarding headers) stays here.
    static let forwardedRequestHeaders: [HTTPField.Name] = [.accept, .contentType, .ifMatch, .ifNoneMatch, .ifModifiedSince]
    /// Response headers passed back; `Set-Cookie` and connection-level headers are dropped.
    static let returnedResponseHeaders: [HTTPField.Name] = [
        .contentType, .eTag, .lastModified, HTTPField.Name("Link")!, .retryAfter, .cacheControl, .location,
    ]

    func addRoutes(to group: RouterGroup<TenantRequestContext>) {
        for method in Self.methods {
            group.on("{integration_id}/proxy/**", method: method, use: forward)
        }
    }

    @Sendable func forward(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try context.require(request.method == .get ? .read : .write)
        let id = try request.uuid("integration_id", context: context, resource: "The integration")
        let path = try Self.providerPath(context.parameters.getCatchAll())
        let body = try await request.collectBody(limit: limits.maxBodyBytes)

        let (integration, provider) = try await database.withTenant(context.tenantID, logger: context.logger) { transaction in
            guard let integration = try await transaction.integration(id) else { throw SwitchyardError.notFound("The integration") }
            guard let provider = try await directory.provider(integration.provider, in: transaction) else {
                throw SwitchyardError.conflict("The provider '\(integration.provider)' of this integration no longer exists.")
            }
            return (integration, provider)
        }
        guard integration.status == .connected else {
            throw SwitchyardError.conflict("This integration is \(integration.status.rawValue); only connected integrations can be called.")
        }
        guard let credential = try await refresher.usableCredential(id, tenant: context.tenantID, logger: context.logger) else {
            throw SwitchyardError.conflict("This integration has no credential yet; finish connecting it first.")
        }

        let base = try provider.apiBaseURL(with: integration.connectionParameters, allowingHTTPHosts: directory.allowedHTTPHosts)
        var url = base.absoluteString.hasSuffix("/") ? String(base.absoluteString.dropLast()) : base.absoluteString
        url += path
        if let query = request.uri.query, !query.isEmpty { url += "?" + query }

        var headers = HTTPFields()
        for name in Self.forwardedRequestHeaders {
            if let value = request.headers[name] { headers[name] = value }
        }
        for (name, value) in provider.requiredHeaders {
            if let name = HTTPField.Name(name) { headers[name] = value }
        }
        func send(with credential: IntegrationCredential) async throws -> OutboundResponse {
            var headers = headers
            try Self.authenticate(&headers, with: credential, provider: provider)
            return try await outbound.send(
                OutboundRequest(
                    method: request.method,
                    url: url,
                    headers: headers,
                    body: body.readableBytes > 0 ? body : nil,
                    provider: directory.metricsLabel(for: provider),
                    key: id.lowercasedString,
                    rateLimitHeaders: SwitchyardOutbound.RateLimitHeaders(provider.rateLimitHeaders)
                ),
                logger: context.logger
            )
        }
        var response = try await send(with: credential)
        // A 401 to an OAuth token that has not expired: the provider revoked it (a password change, an admin).
        // One refresh and one retry; a refresh refused with invalid_grant marks the integration needs_reauth
        // (409), and a second 401 goes back to the caller as it is. The request was refused, so resending a
        // POST does not repeat it.
        if response.status == .unauthorized, case .oauth2(let tokens) = credential, tokens.refreshToken != nil {
            context.logger.info("the provider refused the access token; refreshing it once")
            let refreshed = try await refresher.refresh(id, tenant: context.tenantID, rejecting: tokens.accessToken, logger: context.logger)
            response = try await send(with: refreshed)
        }
        var returned = HTTPFields()
        for name in Self.returnedResponseHeaders {
            if let value = response.headers[name] { returned[name] = value }
        }
        if let headers = provider.rateLimitHeaders {
            for text in [headers.limit, headers.remaining, headers.reset].compactMap({ $0 }) {
                if let name = HTTPField.Name(text), let value = response.headers[name] { returned[name] = value }
            }
        }
        return Response(status: response.status, headers: returned, body: .init(byteBuffer: response.body))
    }

    /// The path below the provider's API base: every segment kept as sent (still percent-encoded), so an encoded
    /// slash stays one segment (`projects/group%2Fproject`, as GitLab wants it) and control characters travel
    /// encoded. Refused: an empty segment, and any segment that is, or decodes to something containing, a `.` or
    /// `..` step between slashes or backslashes, which a URL parser on either side could resolve upwards and out
    /// of the API base.
    static func providerPath(_ segments: [Substring]) throws -> String {
        guard !segments.isEmpty else { return "" }
        for segment in segments {
            let decoded = segment.removingPercentEncoding ?? String(segment)
            let steps = decoded.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "/" || $0 == "\\" })
            guard !segment.isEmpty, !steps.contains(where: { $0 == "." || $0 == ".." }) else {
                throw SwitchyardError.invalidRequest("The proxied path may not contain empty segments, or '.' or '..' steps, encoded or not.")
            }
        }
        return "/" + segments.joined(separator: "/")
    }

    /// Adds the provider's authentication for `credential` to `headers`.
    static func authenticate(_ headers: inout HTTPFields, with credential: IntegrationCredential, provider: ProviderDefinition) throws {
        switch credential {
        case .oauth2(let tokens):
            headers[.authorization] = "\(tokens.tokenType.lowercased() == "bearer" ? "Bearer" : tokens.tokenType) \(tokens.accessToken)"
        case .apiKey(let fields), .basic(let fields):
            guard let injected = try provider.credentialHeader(for: fields), let name = HTTPField.Name(injected.name) else {
                throw SwitchyardError.conflict("The provider's credential scheme no longer matches this integration's credential.")
            }
            headers[name] = injected.value
        }
    }
}
