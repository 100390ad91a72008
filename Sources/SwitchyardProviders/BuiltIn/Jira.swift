extension ProviderDefinition {
    /// Jira Cloud through Atlassian OAuth 2.0 (3LO) and the api.atlassian.com gateway.
    static let jira = ProviderDefinition(
        id: "jira",
        displayName: "Jira (Atlassian Cloud)",
        authentication: .oauth2(
            OAuth2Settings(
                authorizeURL: "https://auth.atlassian.com/authorize",
                tokenURL: "https://auth.atlassian.com/oauth/token",
                // 3LO documents no revocation endpoint.
                revocation: nil,
                // offline_access is what yields a refresh token.
                defaultScopes: ["read:jira-work", "read:jira-user", "offline_access"],
                scopeSeparator: .space,
                // Not documented for 3LO, so not sent.
                pkce: .unsupported,
                tokenEndpointAuthMethod: .clientSecretPost,
                tokenRequestEncoding: .json,
                extraAuthorizeParameters: ["audience": "api.atlassian.com", "prompt": "consent"],
                // Rotating refresh tokens: each refresh returns a new one and retires the old.
                refreshTokensRotate: true
            )
        ),
        // 3LO tokens only work through the gateway, addressed by the site's cloud id, never on the site's own
        // *.atlassian.net host (developer.atlassian.com/cloud/jira/platform/oauth-2-3lo-apps).
        apiBaseURL: "https://api.atlassian.com/ex/jira/{cloud_id}/rest/api/3",
        connectionParameters: [
            ConnectionParameter(
                name: "cloud_id",
                description: "The Jira site's cloud id, chosen by the user from the sites the token can reach.",
                pattern: ConnectionParameter.uuidPattern,
                source: .resourceLookup(url: "https://api.atlassian.com/oauth/token/accessible-resources", field: "id"),
                example: "1324a887-45db-1bf4-1e99-ef0ff456d421"
            )
        ],
        // X-RateLimit-Reset is an ISO 8601 timestamp (jira.atlassian.com/browse/JRACLOUD-69262, "Rate limiting").
        rateLimitHeaders: RateLimitHeaders(
            limit: "X-RateLimit-Limit",
            remaining: "X-RateLimit-Remaining",
            reset: "X-RateLimit-Reset",
            resetFormat: .timestamp
        ),
        // Admin webhooks registered with a secret are signed like GitHub's (WebSub). Webhooks an OAuth app
        // registers dynamically carry a JWT signed with the client secret instead, which this scheme does not cover.
        webhookSignature: .hmacSHA256Hex(header: "X-Hub-Signature", prefix: "sha256="),
        webhookEventIDHeader: "X-Atlassian-Webhook-Identifier",
        documentationURL: "https://developer.atlassian.com/cloud/jira/platform/oauth-2-3lo-apps/"
    )
}
