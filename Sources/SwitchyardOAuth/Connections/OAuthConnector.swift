import Foundation
import Logging
import SwitchyardCore
import SwitchyardPostgres
import SwitchyardProviders

/// The authorization code flow as a confidential client: starts authorization requests and completes
/// them at the callback (REQUIREMENTS OA-1..OA-4).
public struct OAuthConnector: Sendable {
    let database: Database
    let providers: any ProviderResolving
    let tokens: TokenEndpointClient
    let settings: OAuthSettings
    /// The one redirect URI, registered at every provider: `<public URL>/oauth/callback` (OA-3).
    public let redirectURI: String

    public init(database: Database, providers: any ProviderResolving, tokens: TokenEndpointClient, settings: OAuthSettings, publicBaseURL: String) {
        self.database = database
        self.providers = providers
        self.tokens = tokens
        self.settings = settings
        self.redirectURI = publicBaseURL + "/oauth/callback"
    }

    /// What an authorization request is for.
    public struct Request: Sendable {
        public var provider: String
        public var integrationID: UUID?
        public var sessionID: UUID?
        public var extraScopes: [String]
        public var connectionParameters: [String: String]
        public var endUserID: String?
        public var tags: [String]
        public var returnTo: String?
        /// The cookie of the browser starting the flow, when it starts on Switchyard's own page.
        public var browserCookie: OpaqueToken?

        public init(
            provider: String,
            integrationID: UUID? = nil,
            sessionID: UUID? = nil,
            extraScopes: [String] = [],
            connectionParameters: [String: String] = [:],
            endUserID: String? = nil,
            tags: [String] = [],
            returnTo: String? = nil,
            browserCookie: OpaqueToken? = nil
        ) {
            self.provider = provider
            self.integrationID = integrationID
            self.sessionID = sessionID
            self.extraScopes = extraScopes
            self.connectionParameters = connectionParameters
            self.endUserID = endUserID
            self.tags = tags
            self.returnTo = returnTo
            self.browserCookie = browserCookie
        }
    }

    /// The provider's consent URL for `request`, with a fresh single-use state and PKCE challenge stored server-side.
    public func authorizationURL(for request: Request, tenant: TenantID, logger: Logger) async throws -> (url: String, expiresAt: Date) {
        let provider = try await oauthProvider(request.provider, tenant: tenant, logger: logger)
        guard let settings = provider.authentication.oauth2 else {
            throw SwitchyardError.internal("provider '\(provider.id)' has no oauth2 settings")
        }
        guard let client = try await database.oauthClientCredentials(provider: provider.id, tenant: tenant, logger: logger) else {
            throw SwitchyardError.conflict(
                "No OAuth app is configured for '\(provider.id)': save one with PUT /v1/oauth-apps/\(provider.id), or ask the operator for a platform default."
            )
        }
        guard let endpoints = try provider.oauth2Endpoints(with: request.connectionParameters, allowingHTTPHosts: providers.allowedHTTPHosts) else {
            throw SwitchyardError.internal("provider '\(provider.id)' has no OAuth endpoints")
        }
        var scopes = client.scopes ?? settings.defaultScopes
        for scope in request.extraScopes where !scopes.contains(scope) { scopes.append(scope) }

        let state = OpaqueToken.generate()
        let pkce: PKCE? = settings.pkce == .unsupported ? nil : PKCE.generate()
        let expiresAt = Date().addingTimeInterval(TimeInterval(self.settings.stateTTLSeconds))
        try await database.withTenant(tenant, logger: logger) { transaction in
            if let integrationID = request.integrationID {
                guard let integration = try await transaction.integration(integrationID) else { throw SwitchyardError.notFound("The integration") }
                guard integration.provider == provider.id else {
                    throw SwitchyardError.validation(
                        "Integration \(integrationID.lowercasedString) belongs to provider '\(integration.provider)', not '\(provider.id)'."
                    )
                }
            }
            try await transaction.createOAuthState(
                NewOAuthState(
                    stateHash: state.hash,
                    provider: provider.id,
                    issuer: settings.issuer,
                    sessionID: request.sessionID,
                    integrationID: request.integrationID,
                    browserBinding: request.browserCookie?.hash,
                    redirectURI: redirectURI,
                    scopes: scopes,
                    connectionParameters: request.connectionParameters,
                    endUserID: request.endUserID,
                    tags: request.tags,
                    returnTo: request.returnTo,
                    codeVerifier: pkce?.verifier,
                    expiresAt: expiresAt
                )
            )
        }
        let url = AuthorizationURL(
            endpoint: endpoints.authorizeURL,
            settings: settings,
            clientID: client.clientID,
            redirectURI: redirectURI,
            scopes: scopes,
            state: state.value,
            codeChallenge: pkce?.challenge
        )
        logger.info("authorization request started", metadata: ["provider": "\(provider.id)", "pkce": "\(pkce != nil)"])
        return (url.text, expiresAt)
    }

    /// An OAuth 2.0 provider the tenant may use, or a 422 naming why not.
    public func oauthProvider(_ id: String, tenant: TenantID, logger: Logger) async throws -> ProviderDefinition {
        let provider = try await database.withTenant(tenant, logger: logger) { try await providers.provider(id, in: $0) }
        guard let provider else { throw SwitchyardError.validation("Unknown provider '\(id)'. GET /v1/providers lists them.") }
        guard provider.authentication.oauth2 != nil else {
            throw SwitchyardError.validation("'\(provider.id)' does not connect with OAuth 2.0; create the integration with its credentials instead.")
        }
        return provider
    }
}
