import Foundation
import Logging
import SwitchyardCore
import SwitchyardPostgres
import SwitchyardProviders
import Synchronization

/// Hands out usable credentials, refreshing OAuth access tokens before they expire (REQUIREMENTS OA-5..OA-7).
///
/// Refreshes are single-flight at two levels: within the process, concurrent callers for one integration share
/// one refresh task; across processes, that task holds the credential row's lock (`FOR UPDATE`) while it
/// calls the provider and re-reads the row first, so a refresh another process just committed is used
/// instead of repeated. The new access token, the (possibly rotated) refresh token, expiry and scopes are
/// written in that same transaction.
public final class TokenRefresher: Sendable {
    let database: Database
    let providers: any ProviderResolving
    let tokens: TokenEndpointClient
    /// Tokens expiring within this window are refreshed before use.
    let skew: TimeInterval
    private let inFlight = Mutex<[String: Task<IntegrationCredential, any Error>]>([:])

    public init(database: Database, providers: any ProviderResolving, tokens: TokenEndpointClient, skewSeconds: Int) {
        self.database = database
        self.providers = providers
        self.tokens = tokens
        self.skew = TimeInterval(skewSeconds)
    }

    /// The integration's credential, refreshed first when it is an OAuth token inside the skew window.
    /// Returns nil when the integration has no credential.
    public func usableCredential(_ integrationID: UUID, tenant: TenantID, logger: Logger) async throws -> IntegrationCredential? {
        let current = try await database.withTenant(tenant, logger: logger) { try await $0.credential(for: integrationID) }
        return try await usable(current, of: integrationID, tenant: tenant, logger: logger)
    }

    /// `current`, the credential of the integration as just read, or its refreshed successor when it is an OAuth
    /// token inside the skew window.
    public func usable(
        _ current: IntegrationCredential?,
        of integrationID: UUID,
        tenant: TenantID,
        logger: Logger
    ) async throws
        -> IntegrationCredential?
    {
        guard case .oauth2(let oauth)? = current, oauth.expires(within: skew) else { return current }
        return try await refresh(integrationID, tenant: tenant, force: false, logger: logger)
    }

    /// Refreshes now (`force`) or only when still needed once the lock is held; returns the credential after.
    public func refresh(_ integrationID: UUID, tenant: TenantID, force: Bool, logger: Logger) async throws -> IntegrationCredential {
        try await coalesced(integrationID, tenant: tenant, kind: "\(force)", logger: logger) { [self] in
            try await refreshHoldingLock(integrationID, tenant: tenant, when: force ? .always : .expiring, logger: logger)
        }
    }

    /// Refreshes because the provider refused `accessToken` (401) before it expired, as when the grant's access
    /// tokens were revoked: unless the stored token is another one by the time the lock is held (a concurrent
    /// caller, here or in another process, refreshed already), which is then handed out instead. An
    /// `invalid_grant` marks the integration `needs_reauth` as any refresh does.
    public func refresh(_ integrationID: UUID, tenant: TenantID, rejecting accessToken: String, logger: Logger) async throws -> IntegrationCredential
    {
        try await coalesced(integrationID, tenant: tenant, kind: "rejected", logger: logger) { [self] in
            try await refreshHoldingLock(integrationID, tenant: tenant, when: .rejected(accessToken), logger: logger)
        }
    }

    /// When a refresh holding the lock calls the provider.
    private enum RefreshCondition: Sendable {
        case always
        /// Only when the stored token is inside the skew window.
        case expiring
        /// Only while the stored token is still the one the provider refused.
        case rejected(String)
    }

    /// One refresh task per integration and kind in this process; concurrent callers share its result.
    private func coalesced(
        _ integrationID: UUID,
        tenant: TenantID,
        kind: String,
        logger: Logger,
        _ refresh: @escaping @Sendable () async throws -> IntegrationCredential
    ) async throws -> IntegrationCredential {
        let key = "\(tenant)/\(integrationID.lowercasedString)/\(kind)"
        let task = inFlight.withLock { tasks in
            if let running = tasks[key] { return running }
            let task = Task { [self] in
                defer { _ = inFlight.withLock { $0.removeValue(forKey: key) } }
                return try await refresh()
            }
            tasks[key] = task
            return task
        }
        return try await task.value
    }

    /// What the locked transaction decided; errors that must not roll it back travel as values.
    private enum Outcome: Sendable {
        case current(IntegrationCredential)
        case refreshed(IntegrationCredential)
        case needsReauth(TokenEndpointError)
        case failed(any Error, stillValid: IntegrationCredential?)
    }

    private func refreshHoldingLock(
        _ integrationID: UUID,
        tenant: TenantID,
        when condition: RefreshCondition,
        logger: Logger
    ) async throws -> IntegrationCredential {
        var logger = logger
        logger[metadataKey: "integration_id"] = "\(integrationID.lowercasedString)"
        // The provider and its OAuth app are read before the lock is taken, so the locked transaction holds
        // one connection and waits on nothing but the provider.
        let (integration, provider) = try await database.withTenant(tenant, logger: logger) { transaction in
            guard let integration = try await transaction.integration(integrationID) else { throw SwitchyardError.notFound("The integration") }
            return (integration, try await providers.provider(integration.provider, in: transaction))
        }
        guard let provider, let settings = provider.authentication.oauth2 else {
            throw SwitchyardError.conflict("The provider '\(integration.provider)' of this integration is no longer an OAuth 2.0 provider.")
        }
        guard integration.status != .needsReauth else { throw Self.needsReauth }
        guard let client = try await database.oauthClientCredentials(provider: provider.id, tenant: tenant, logger: logger) else {
            throw SwitchyardError.conflict("No OAuth app is configured for '\(provider.id)', so its tokens cannot be refreshed.")
        }
        let endpoints = try provider.oauth2Endpoints(with: integration.connectionParameters, allowingHTTPHosts: providers.allowedHTTPHosts)
        guard let tokenURL = endpoints?.tokenURL else { throw SwitchyardError.internal("provider '\(provider.id)' has no token URL") }
        let caller = TokenEndpointClient.Caller(providerLabel: providers.metricsLabel(for: provider), key: integrationID.lowercasedString)

        let outcome = try await database.withTenant(tenant, logger: logger) { transaction -> Outcome in
            guard case .oauth2(let current)? = try await transaction.lockedCredential(for: integrationID) else {
                throw SwitchyardError.conflict("This integration has no OAuth tokens; connect it first.")
            }
            // Another caller (in this process or another) may have refreshed while this one waited for the lock.
            switch condition {
            case .always: break
            case .expiring: if !current.expires(within: skew) { return .current(.oauth2(current)) }
            case .rejected(let refused): if !ConstantTime.secretsEqual(current.accessToken, refused) { return .current(.oauth2(current)) }
            }
            // A token the provider refused is no fallback.
            let stillValid: IntegrationCredential? =
                if case .rejected = condition { nil } else { current.expires(within: 0) ? nil : .oauth2(current) }
            guard let refreshToken = current.refreshToken else {
                // Nothing to refresh with: a refused token is the caller's to report, not proof the grant is gone.
                if case .rejected = condition { return .current(.oauth2(current)) }
                if stillValid != nil { return .current(.oauth2(current)) }
                return try await markNeedsReauth(
                    integrationID,
                    transaction,
                    reason: "the access token expired and the provider gave no refresh token"
                )
            }
            do {
                let grant = try await tokens.refresh(
                    current,
                    refreshToken: refreshToken,
                    client: client,
                    settings: settings,
                    tokenURL: tokenURL,
                    caller: caller,
                    logger: logger
                )
                let credential = IntegrationCredential.oauth2(grant.tokens)
                try await transaction.storeCredential(credential, for: integrationID)
                try await transaction.scheduleRefresh(of: credential, integration: integrationID)
                return .refreshed(credential)
            } catch TokenEndpointError.invalidGrant(let description) {
                return try await markNeedsReauth(integrationID, transaction, reason: description ?? "invalid_grant")
            } catch {
                return .failed(error, stillValid: stillValid)
            }
        }
        switch outcome {
        case .current(let credential):
            return credential
        case .refreshed(let credential):
            logger.info("access token refreshed")
            return credential
        case .needsReauth(let error):
            logger.warning("refresh refused; integration needs re-authorization", metadata: ["error": "\(error.description)"])
            throw error
        case .failed(let error, let stillValid):
            logger.warning("token refresh failed", metadata: ["error": "\(error)"])
            // A token that has not yet expired still works: hand it out and let the next caller retry.
            if let stillValid, case .expiring = condition { return stillValid }
            throw error
        }
    }

    private func markNeedsReauth(_ integrationID: UUID, _ transaction: TenantTransaction, reason: String) async throws -> Outcome {
        try await transaction.markNeedsReauth(integrationID, reason: reason)
        return .needsReauth(.invalidGrant(description: reason))
    }

    public static let needsReauth = SwitchyardError(
        .conflict,
        code: "needs-reauth",
        detail: "This integration needs to be re-authorized: its grant was revoked or expired. Start a connect session for it."
    )
}
