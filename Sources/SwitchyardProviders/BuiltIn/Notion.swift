extension ProviderDefinition {
    /// Notion public integration.
    static let notion = ProviderDefinition(
        id: "notion",
        displayName: "Notion",
        authentication: .oauth2(
            OAuth2Settings(
                authorizeURL: "https://api.notion.com/v1/oauth/authorize",
                // The OAuth endpoints take HTTP Basic client credentials and a JSON body
                // (developers.notion.com/reference/refresh-a-token, /reference/revoke-token).
                tokenURL: "https://api.notion.com/v1/oauth/token",
                revocation: TokenRevocation(url: "https://api.notion.com/v1/oauth/revoke", style: .rfc7009),
                // Notion has no OAuth scopes; the user picks pages during consent.
                defaultScopes: [],
                scopeSeparator: .space,
                // Not documented by Notion, so not sent.
                pkce: .unsupported,
                tokenEndpointAuthMethod: .clientSecretBasic,
                tokenRequestEncoding: .json,
                extraAuthorizeParameters: ["owner": "user"],
                // A refresh returns a new access token and a new refresh token.
                refreshTokensRotate: true
            )
        ),
        apiBaseURL: "https://api.notion.com/v1",
        // Every request must name an API version (developers.notion.com/reference/authentication).
        requiredHeaders: ["Notion-Version": "2025-09-03"],
        rateLimitHeaders: nil,
        // Signed with the subscription's verification_token as the key (developers.notion.com/reference/v2-webhooks).
        webhookSignature: .hmacSHA256Hex(header: "X-Notion-Signature", prefix: "sha256="),
        documentationURL: "https://developers.notion.com/guides/authorization/overview"
    )
}
