extension ProviderDefinition {
    /// Zendesk Support for one account, with OAuth.
    static let zendesk = zendeskDefinition(
        id: "zendesk",
        displayName: "Zendesk",
        authentication: .oauth2(
            OAuth2Settings(
                authorizeURL: "https://{subdomain}.zendesk.com/oauth/authorizations/new",
                tokenURL: "https://{subdomain}.zendesk.com/oauth/tokens",
                // Tokens are revoked with DELETE /api/v2/oauth/tokens/{id}, not RFC 7009.
                revocation: nil,
                defaultScopes: ["read"],
                scopeSeparator: .space,
                // developer.zendesk.com/documentation/api-basics/authentication/oauth-pkce
                pkce: .supported,
                tokenEndpointAuthMethod: .clientSecretPost,
                tokenRequestEncoding: .json,
                refreshTokensRotate: nil
            )
        )
    )

    /// Zendesk Support with an agent's email and API token, sent as `{email}/token:{api_token}` over Basic.
    static let zendeskAPIToken = zendeskDefinition(
        id: "zendesk-api-token",
        displayName: "Zendesk (API token)",
        authentication: .basic(
            CredentialScheme(
                fields: [
                    CredentialField(name: "email", description: "The agent's email address.", secret: false),
                    CredentialField(name: "api_token", description: "An API token from Admin Center.", secret: true),
                ],
                injection: .basic(username: "{email}/token", password: "{api_token}")
            )
        )
    )

    private static func zendeskDefinition(
        id: String,
        displayName: String,
        authentication: ProviderAuthentication
    ) -> ProviderDefinition {
        ProviderDefinition(
            id: id,
            displayName: displayName,
            authentication: authentication,
            apiBaseURL: "https://{subdomain}.zendesk.com/api/v2",
            connectionParameters: [
                ConnectionParameter(
                    name: "subdomain",
                    description: "The account's zendesk.com subdomain, e.g. acme for acme.zendesk.com.",
                    pattern: ConnectionParameter.dnsLabelPattern,
                    example: "acme"
                )
            ],
            // X-Rate-Limit(-Remaining) come on every response; ratelimit-reset (seconds) only on some endpoints
            // (developer.zendesk.com best-practices-for-avoiding-rate-limiting).
            rateLimitHeaders: RateLimitHeaders(
                limit: "X-Rate-Limit",
                remaining: "X-Rate-Limit-Remaining",
                reset: "ratelimit-reset",
                resetFormat: .deltaSeconds
            ),
            // base64(HMAC-SHA256(timestamp + body)) (developer.zendesk.com/documentation/webhooks/verifying).
            webhookSignature: .timestampedHMACSHA256Base64(
                signatureHeader: "X-Zendesk-Webhook-Signature",
                timestampHeader: "X-Zendesk-Webhook-Signature-Timestamp"
            ),
            documentationURL: "https://developer.zendesk.com/documentation/authentication/"
        )
    }
}
