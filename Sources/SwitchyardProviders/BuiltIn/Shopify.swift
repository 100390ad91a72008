extension ProviderDefinition {
    /// Shopify Admin API for one shop, authorized with the authorization code grant.
    static let shopify = ProviderDefinition(
        id: "shopify",
        displayName: "Shopify",
        authentication: .oauth2(
            OAuth2Settings(
                // Every OAuth endpoint lives on the shop's own myshopify.com host.
                authorizeURL: "https://{shop}.myshopify.com/admin/oauth/authorize",
                tokenURL: "https://{shop}.myshopify.com/admin/oauth/access_token",
                // Uninstalling (DELETE /admin/api_permissions/current.json) is the only revocation.
                revocation: nil,
                defaultScopes: ["read_products"],
                scopeSeparator: .comma,
                pkce: .unsupported,
                tokenEndpointAuthMethod: .clientSecretPost,
                refreshTokensRotate: nil
            )
        ),
        // Versions are quarterly (YYYY-01/04/07/10) and supported for 12 months: bump this at least yearly
        // (shopify.dev/docs/api/usage/versioning).
        apiBaseURL: "https://{shop}.myshopify.com/admin/api/2026-04",
        connectionParameters: [
            ConnectionParameter(
                name: "shop",
                description: "The shop's myshopify.com subdomain, e.g. acme-store for acme-store.myshopify.com.",
                pattern: ConnectionParameter.dnsLabelPattern,
                example: "acme-store"
            )
        ],
        // REST reports `X-Shopify-Shop-Api-Call-Limit: used/limit` in one header and GraphQL reports cost in the
        // body; neither fits separate limit/remaining headers.
        rateLimitHeaders: nil,
        webhookSignature: .hmacSHA256Base64(header: "X-Shopify-Hmac-SHA256"),
        webhookEventIDHeader: "X-Shopify-Webhook-Id",
        documentationURL: "https://shopify.dev/docs/apps/build/authentication-authorization/access-tokens/authorization-code-grant"
    )
}
