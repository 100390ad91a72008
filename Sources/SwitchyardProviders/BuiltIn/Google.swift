extension ProviderDefinition {
    /// Google APIs (web server flow).
    static let google = ProviderDefinition(
        id: "google",
        displayName: "Google",
        authentication: .oauth2(
            OAuth2Settings(
                authorizeURL: "https://accounts.google.com/o/oauth2/v2/auth",
                tokenURL: "https://oauth2.googleapis.com/token",
                revocation: TokenRevocation(url: "https://oauth2.googleapis.com/revoke", style: .rfc7009),
                defaultScopes: ["openid", "email", "profile"],
                scopeSeparator: .space,
                pkce: .supported,
                tokenEndpointAuthMethod: .clientSecretPost,
                // Without access_type=offline there is no refresh token; without prompt=consent a user who
                // already consented gets none on reconnect either (developers.google.com/identity/protocols/oauth2/web-server).
                extraAuthorizeParameters: [
                    "access_type": "offline", "prompt": "consent", "include_granted_scopes": "true",
                ],
                refreshTokensRotate: false
            )
        ),
        apiBaseURL: "https://www.googleapis.com",
        rateLimitHeaders: nil,
        // Google pushes through Pub/Sub or watch channels, not signed webhooks.
        webhookSignature: .none,
        documentationURL: "https://developers.google.com/identity/protocols/oauth2/web-server"
    )
}
