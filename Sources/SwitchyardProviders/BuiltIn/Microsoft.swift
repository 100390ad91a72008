extension ProviderDefinition {
    /// Microsoft Graph through the Entra ID v2 `common` endpoint (work, school and personal accounts).
    static let microsoft = ProviderDefinition(
        id: "microsoft",
        displayName: "Microsoft",
        authentication: .oauth2(
            OAuth2Settings(
                authorizeURL: "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
                tokenURL: "https://login.microsoftonline.com/common/oauth2/v2.0/token",
                // No per-token revocation endpoint; Graph's revokeSignInSessions ends all of a user's sessions.
                revocation: nil,
                // offline_access is what makes the token response carry a refresh token.
                defaultScopes: ["offline_access", "User.Read"],
                scopeSeparator: .space,
                pkce: .supported,
                tokenEndpointAuthMethod: .clientSecretPost,
                // Each refresh returns a new refresh token; the old one is not revoked but should be replaced
                // (learn.microsoft.com/entra/identity-platform/refresh-tokens).
                refreshTokensRotate: true
            )
        ),
        apiBaseURL: "https://graph.microsoft.com/v1.0",
        // Graph throttles with 429 + Retry-After only.
        rateLimitHeaders: nil,
        // Change notifications carry a clientState echo, not an HMAC signature.
        webhookSignature: .none,
        documentationURL: "https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-auth-code-flow"
    )
}
