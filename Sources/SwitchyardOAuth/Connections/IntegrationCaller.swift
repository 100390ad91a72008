import Foundation
import HTTPTypes
import Logging
import NIOCore
import SwitchyardCore
import SwitchyardOutbound
import SwitchyardPostgres
import SwitchyardProviders

/// Calls a provider's API as one integration: the credential is added here (and never leaves), the request goes
/// through the outbound client (rate limits read from the provider's headers, `Retry-After`, retries of idempotent
/// requests, the breaker, the SSRF guard), and a 401 to an OAuth token gets one refresh and one retry. The proxy
/// and the sync runner both call through it.
public struct IntegrationCaller: Sendable {
    let database: Database
    let directory: ProviderDirectory
    let outbound: OutboundClient
    /// Refreshes the integrations' OAuth tokens; share it with whatever else refreshes them in the process, so that
    /// its single flight covers them all.
    public let refresher: TokenRefresher

    public init(database: Database, directory: ProviderDirectory, outbound: OutboundClient, refresher: TokenRefresher) {
        self.database = database
        self.directory = directory
        self.outbound = outbound
        self.refresher = refresher
    }

    /// The caller over the built-in provider directory (plain http reaching the hosts `outbound` allows) with a
    /// refresher of its own, as executors build it.
    public init(database: Database, outbound: OutboundClient, refreshSkewSeconds: Int) {
        let directory = ProviderDirectory(builtIn: .builtIn, allowedHTTPHosts: outbound.ssrfGuard.allowListedHosts)
        let refresher = TokenRefresher(
            database: database,
            providers: directory,
            tokens: TokenEndpointClient(outbound: outbound),
            skewSeconds: refreshSkewSeconds
        )
        self.init(database: database, directory: directory, outbound: outbound, refresher: refresher)
    }

    /// A connected integration, its provider and the provider's API base URL for it (no trailing `/`).
    public struct Target: Sendable {
        public let tenantID: TenantID
        public let integration: IntegrationRecord
        public let provider: ProviderDefinition
        public let baseURL: String
    }

    /// The integration as a call target: 404 when it does not exist, 409 when it is not connected or its provider
    /// is gone.
    public func target(_ integrationID: UUID, tenant: TenantID, logger: Logger) async throws -> Target {
        try await database.withTenant(tenant, logger: logger) { try await target(integrationID, in: $0, lease: nil) }
    }

    /// The same, read in `transaction`; with a `lease`, the credential is read there too and held in it, so that
    /// `send` with that lease needs no transaction of its own (a workflow's http step reads its target in the
    /// transaction that records the step as running: one transaction where there were three).
    public func target(_ integrationID: UUID, in transaction: TenantTransaction, lease: CredentialLease?) async throws -> Target {
        guard let integration = try await transaction.integration(integrationID) else { throw SwitchyardError.notFound("The integration") }
        guard let provider = try await directory.provider(integration.provider, in: transaction) else {
            throw SwitchyardError.conflict("The provider '\(integration.provider)' of this integration no longer exists.")
        }
        guard integration.status == .connected else {
            if integration.status == .needsReauth { throw TokenRefresher.needsReauth }
            throw SwitchyardError.conflict("This integration is \(integration.status.rawValue); only connected integrations can be called.")
        }
        // An OAuth token close to expiry is not held: `send` then goes through the refresher as without a lease.
        if let lease, let credential = try await transaction.credential(for: integrationID) { lease.hold(credential) }
        let base = try provider.apiBaseURL(with: integration.connectionParameters, allowingHTTPHosts: directory.allowedHTTPHosts).absoluteString
        return Target(
            tenantID: transaction.tenantID,
            integration: integration,
            provider: provider,
            baseURL: base.hasSuffix("/") ? String(base.dropLast()) : base
        )
    }

    /// Whether `url` lies under the target's API base: a next-page URL a provider hands back must, or the
    /// integration's credential would travel to whatever host the response names.
    public func isUnderBase(_ url: String, of target: Target) -> Bool {
        url == target.baseURL || url.hasPrefix(target.baseURL + "/") || url.hasPrefix(target.baseURL + "?")
    }

    /// Sends `method url` with the integration's credential and the provider's required headers added to `headers`.
    /// With a `lease`, the credential it holds is used (and what is read is kept in it) across calls.
    public func send(
        _ target: Target,
        method: HTTPRequest.Method,
        url: String,
        headers: HTTPFields = [:],
        body: ByteBuffer? = nil,
        retry: RetryPolicy = .standard,
        lease: CredentialLease? = nil,
        logger: Logger
    ) async throws -> OutboundResponse {
        let id = target.integration.id
        func stored() async throws -> IntegrationCredential {
            guard let credential = try await refresher.usableCredential(id, tenant: target.tenantID, logger: logger) else {
                throw SwitchyardError.conflict("This integration has no credential yet; finish connecting it first.")
            }
            lease?.hold(credential)
            return credential
        }
        let held = lease?.current
        var credential = if let held { held } else { try await stored() }
        var headers = headers
        for (name, value) in target.provider.requiredHeaders {
            if let name = HTTPField.Name(name) { headers[name] = value }
        }
        let base = headers
        func send(with credential: IntegrationCredential) async throws -> OutboundResponse {
            var headers = base
            try Self.authenticate(&headers, with: credential, provider: target.provider)
            return try await outbound.send(
                OutboundRequest(
                    method: method,
                    url: url,
                    headers: headers,
                    body: body,
                    provider: directory.metricsLabel(for: target.provider),
                    key: id.lowercasedString,
                    tenant: target.tenantID,
                    rateLimitHeaders: SwitchyardOutbound.RateLimitHeaders(target.provider.rateLimitHeaders),
                    retry: retry
                ),
                logger: logger
            )
        }
        var response = try await send(with: credential)
        // A held credential the provider refuses may have been replaced meanwhile (new keys, a refresh elsewhere):
        // the stored one is tried once before the refusal counts.
        if response.status == .unauthorized, held != nil {
            let current = try await stored()
            if current != credential {
                credential = current
                response = try await send(with: credential)
            }
        }
        // A 401 to an OAuth token that has not expired: the provider revoked it (a password change, an admin).
        // One refresh and one retry; a refresh refused with invalid_grant marks the integration needs_reauth
        // (409), and a second 401 goes back to the caller as it is. The request was refused, so resending a
        // POST does not repeat it.
        guard response.status == .unauthorized, case .oauth2(let tokens) = credential, tokens.refreshToken != nil else { return response }
        logger.info("the provider refused the access token; refreshing it once")
        let refreshed = try await refresher.refresh(id, tenant: target.tenantID, rejecting: tokens.accessToken, logger: logger)
        lease?.hold(refreshed)
        return try await send(with: refreshed)
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
