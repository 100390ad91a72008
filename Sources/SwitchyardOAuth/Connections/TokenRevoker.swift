import Foundation
import Logging
import SwitchyardCore
import SwitchyardPostgres
import SwitchyardProviders

/// Revokes an integration's grant at its provider before Switchyard forgets it (REQUIREMENTS OA-8).
public struct TokenRevoker: Sendable {
    let database: Database
    let providers: any ProviderResolving
    let tokens: TokenEndpointClient

    public init(database: Database, providers: any ProviderResolving, tokens: TokenEndpointClient) {
        self.database = database
        self.providers = providers
        self.tokens = tokens
    }

    /// What happened at the provider; the local ciphertext is deleted whatever it is.
    public enum Result: String, Sendable {
        /// The provider confirmed (RFC 7009 §2.2: 200).
        case revoked
        /// The provider has no revocation endpoint Switchyard can call.
        case unsupported
        /// Not an OAuth integration, or it holds no token.
        case nothingToRevoke = "nothing_to_revoke"
        /// The provider asked to retry later (503) or could not be reached, after bounded retries.
        case failed
    }

    public func revoke(_ integrationID: UUID, tenant: TenantID, logger: Logger) async -> Result {
        do {
            let found = try await database.withTenant(tenant, logger: logger) {
                transaction -> (ProviderDefinition, IntegrationRecord, OAuthTokens)? in
                guard let integration = try await transaction.integration(integrationID),
                    case .oauth2(let tokens)? = try await transaction.credential(for: integrationID),
                    let provider = try await providers.provider(integration.provider, in: transaction)
                else { return nil }
                return (provider, integration, tokens)
            }
            guard let (provider, integration, current) = found else { return .nothingToRevoke }
            guard let settings = provider.authentication.oauth2, let revocation = settings.revocation,
                let url = try provider.oauth2Endpoints(with: integration.connectionParameters, allowingHTTPHosts: providers.allowedHTTPHosts)?
                    .revocationURL,
                let client = try await database.oauthClientCredentials(provider: provider.id, tenant: tenant, logger: logger)
            else { return .unsupported }
            let caller = TokenEndpointClient.Caller(providerLabel: providers.metricsLabel(for: provider), key: integrationID.lowercasedString)
            try await tokens.revoke(current, revocation: revocation, url: url, client: client, settings: settings, caller: caller, logger: logger)
            logger.info("grant revoked at the provider", metadata: ["integration_id": "\(integrationID.lowercasedString)"])
            return .revoked
        } catch {
            logger.warning(
                "revocation failed; deleting the local credential anyway",
                metadata: [
                    "integration_id": "\(integrationID.lowercasedString)", "error": "\(error)",
                ]
            )
            return .failed
        }
    }
}
