extension ProviderDefinition {
    /// GitHub (OAuth App or a GitHub App's user authorization).
    static let github = ProviderDefinition(
        id: "github",
        displayName: "GitHub",
        authentication: .oauth2(
            OAuth2Settings(
                // The token endpoint answers form-encoded unless the request has `Accept: application/json`.
                authorizeURL: "https://github.com/login/oauth/authorize",
                tokenURL: "https://github.com/login/oauth/access_token",
                // Revocation is `DELETE /applications/{client_id}/grant` with Basic auth and a JSON body,
                // not RFC 7009, so it is not modelled here.
                revocation: nil,
                defaultScopes: ["read:user"],
                scopeSeparator: .space,
                // S256 only; supported since 2025-07-14, not required (github.blog changelog
                // "PKCE support for OAuth and GitHub App authentication").
                pkce: .supported,
                tokenEndpointAuthMethod: .clientSecretPost,
                // GitHub Apps with expiring user tokens hand out single-use refresh tokens; OAuth App tokens
                // do not expire and come without one.
                refreshTokensRotate: true
            )
        ),
        apiBaseURL: "https://api.github.com",
        requiredHeaders: ["Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"],
        rateLimitHeaders: RateLimitHeaders(
            limit: "x-ratelimit-limit",
            remaining: "x-ratelimit-remaining",
            reset: "x-ratelimit-reset",
            resetFormat: .epochSeconds
        ),
        webhookSignature: .hmacSHA256Hex(header: "X-Hub-Signature-256", prefix: "sha256="),
        webhookEventIDHeader: "X-GitHub-Delivery",
        documentationURL: "https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps"
    )
}
