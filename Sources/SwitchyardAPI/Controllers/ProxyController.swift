import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SwitchyardCore
import SwitchyardOAuth
import SwitchyardOutbound

/// `/v1/integrations/{id}/proxy/{path}`: calls the provider's API as the integration, with its credential
/// injected here; the caller never sees it. Goes through the outbound client (rate limits, breaker, retries
/// of idempotent methods, SSRF guard).
struct ProxyController: Sendable {
    let caller: IntegrationCaller
    let limits: LimitsConfiguration
    /// Counts calls per provider and status class (`failed` when no answer came) in the tenant's usage.
    let usage: UsageMeter?

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

        let target = try await caller.target(id, tenant: context.tenantID, logger: context.logger)
        var url = target.baseURL + path
        if let query = request.uri.query, !query.isEmpty { url += "?" + query }

        var headers = HTTPFields()
        for name in Self.forwardedRequestHeaders {
            if let value = request.headers[name] { headers[name] = value }
        }
        let response: OutboundResponse
        do {
            response = try await caller.send(
                target,
                method: request.method,
                url: url,
                headers: headers,
                body: body.readableBytes > 0 ? body : nil,
                logger: context.logger
            )
        } catch {
            usage?.record(.proxyCalls, tenant: context.tenantID, dimension: "\(target.provider.id)/failed")
            throw error
        }
        usage?.record(.proxyCalls, tenant: context.tenantID, dimension: "\(target.provider.id)/\(response.status.code / 100)xx")
        var returned = HTTPFields()
        for name in Self.returnedResponseHeaders {
            if let value = response.headers[name] { returned[name] = value }
        }
        if let headers = target.provider.rateLimitHeaders {
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
}
