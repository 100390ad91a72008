extension ProviderDefinition {
    /// Linear (OAuth2 application).
    static let linear = ProviderDefinition(
        id: "linear",
        displayName: "Linear",
        authentication: .oauth2(
            OAuth2Settings(
                authorizeURL: "https://linear.app/oauth/authorize",
                tokenURL: "https://api.linear.app/oauth/token",
                revocation: TokenRevocation(url: "https://api.linear.app/oauth/revoke", style: .bearer),
                defaultScopes: ["read"],
                scopeSeparator: .comma,
                pkce: .supported,
                tokenEndpointAuthMethod: .clientSecretPost,
                // Refresh tokens are on for every app since 2026-04-01 (linear.app/developers/oauth-2-0-authentication);
                // whether each refresh rotates them is not stated there.
                refreshTokensRotate: nil
            )
        ),
        apiBaseURL: "https://api.linear.app/graphql",
        // Request budget; Linear also reports a separate complexity budget. The reset is a Unix time in
        // milliseconds per Linear's rate-limiting page (not confirmed from the stored copy).
        rateLimitHeaders: RateLimitHeaders(
            limit: "X-RateLimit-Requests-Limit",
            remaining: "X-RateLimit-Requests-Remaining",
            reset: "X-RateLimit-Requests-Reset",
            resetFormat: .epochMilliseconds
        ),
        // Hex HMAC of the raw body, no prefix; the body's webhookTimestamp guards against replay.
        webhookSignature: .hmacSHA256Hex(header: "Linear-Signature", prefix: nil),
        webhookEventIDHeader: "Linear-Delivery",
        documentationURL: "https://linear.app/developers/oauth-2-0-authentication"
    )
}
