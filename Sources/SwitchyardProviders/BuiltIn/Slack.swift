extension ProviderDefinition {
    /// Slack, installed with OAuth v2 (bot token first in the response).
    static let slack = ProviderDefinition(
        id: "slack",
        displayName: "Slack",
        authentication: .oauth2(
            OAuth2Settings(
                authorizeURL: "https://slack.com/oauth/v2/authorize",
                tokenURL: "https://slack.com/api/oauth.v2.access",
                // `auth.revoke` revokes the token it is called with.
                revocation: TokenRevocation(url: "https://slack.com/api/auth.revoke", style: .bearer),
                defaultScopes: ["channels:read", "chat:write"],
                scopeSeparator: .comma,
                // oauth.v2.access takes `code_verifier` (docs.slack.dev/reference/methods/oauth.v2.access).
                pkce: .supported,
                // Slack asks for HTTP Basic rather than client_id/client_secret parameters (same page).
                tokenEndpointAuthMethod: .clientSecretBasic,
                // Only with token rotation enabled on the app; the used refresh token is then revoked
                // (docs.slack.dev/authentication/using-token-rotation).
                refreshTokensRotate: true
            )
        ),
        apiBaseURL: "https://slack.com/api",
        // Slack reports limits only through 429 + Retry-After.
        rateLimitHeaders: nil,
        webhookSignature: .slack(
            signatureHeader: "X-Slack-Signature",
            timestampHeader: "X-Slack-Request-Timestamp",
            toleranceSeconds: 300
        ),
        // The event id (`event_id`) is in the body, not a header.
        webhookEventIDHeader: nil,
        documentationURL: "https://docs.slack.dev/authentication/installing-with-oauth"
    )
}
