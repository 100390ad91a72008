extension ProviderDefinition {
    /// Stripe with a secret (or restricted) API key.
    static let stripe = ProviderDefinition(
        id: "stripe",
        displayName: "Stripe",
        authentication: .apiKey(
            CredentialScheme(
                fields: [
                    CredentialField(
                        name: "api_key",
                        description: "A secret key (sk_live_..., sk_test_...) or restricted key (rk_...).",
                        secret: true
                    )
                ],
                // Stripe also accepts the key as the Basic username; Bearer is the documented form.
                injection: .header(name: "Authorization", value: "Bearer {api_key}")
            )
        ),
        apiBaseURL: "https://api.stripe.com/v1",
        // Stripe sends no rate-limit headers; a 429 is the only signal.
        rateLimitHeaders: nil,
        webhookSignature: .stripe(header: "Stripe-Signature", toleranceSeconds: 300),
        // The event id (`evt_...`) is in the body.
        webhookEventIDHeader: nil,
        documentationURL: "https://docs.stripe.com/api/authentication"
    )
}
