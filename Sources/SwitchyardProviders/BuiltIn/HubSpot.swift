extension ProviderDefinition {
    /// HubSpot (public app with OAuth).
    static let hubspot = ProviderDefinition(
        id: "hubspot",
        displayName: "HubSpot",
        authentication: .oauth2(
            OAuth2Settings(
                authorizeURL: "https://app.hubspot.com/oauth/authorize",
                // v3 takes every parameter in the body; v1 (/oauth/v1/token) is deprecated on 2027-02-16
                // (developers.hubspot.com/docs/api-reference/auth-oauth-v3/guide).
                tokenURL: "https://api.hubapi.com/oauth/v3/token",
                // Refresh tokens are deleted with DELETE on a token-specific path, not RFC 7009.
                revocation: nil,
                defaultScopes: ["oauth"],
                scopeSeparator: .space,
                // The v3 token endpoint documents `code_verifier`.
                pkce: .supported,
                tokenEndpointAuthMethod: .clientSecretPost,
                refreshTokensRotate: false
            )
        ),
        apiBaseURL: "https://api.hubapi.com",
        // Per 10-second window; there is no reset header, the window length is in
        // X-HubSpot-RateLimit-Interval-Milliseconds.
        rateLimitHeaders: RateLimitHeaders(limit: "X-HubSpot-RateLimit-Max", remaining: "X-HubSpot-RateLimit-Remaining"),
        webhookSignature: .hubspotV3(
            signatureHeader: "X-HubSpot-Signature-v3",
            timestampHeader: "X-HubSpot-Request-Timestamp",
            toleranceSeconds: 300
        ),
        // Event ids are in the body.
        webhookEventIDHeader: nil,
        documentationURL: "https://developers.hubspot.com/docs/api-reference/auth-oauth-v3/guide"
    )
}
