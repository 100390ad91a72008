import SwitchyardCore

/// Everything Switchyard knows about one third-party provider: how to connect, call and verify it.
///
/// Built-in definitions live in `ProviderCatalog.builtIn`; tenants may define custom ones, which must
/// pass `validateCustom(allowingHTTPHosts:)` before use.
public struct ProviderDefinition: Sendable, Hashable, Identifiable {
    /// A slug such as `github`: lower-case letters, digits and '-', 1 to 63 characters.
    public var id: String
    /// The name shown to people.
    public var displayName: String
    /// How API calls are authenticated, with the settings for that kind.
    public var authentication: ProviderAuthentication
    /// The API's base URL; may reference connection parameters.
    public var apiBaseURLTemplate: URLTemplate
    /// Headers every API call must carry besides authentication (Notion's `Notion-Version`).
    public var requiredHeaders: [String: String]
    /// Per-connection values the templates reference.
    public var connectionParameters: [ConnectionParameter]
    /// Where the provider reports rate-limit state, when it does.
    public var rateLimitHeaders: RateLimitHeaders?
    /// How inbound webhooks are signed.
    public var webhookSignature: WebhookSignatureScheme
    /// The header carrying a unique delivery id, used to deduplicate redeliveries (WH-6).
    public var webhookEventIDHeader: String?
    /// The provider's developer documentation.
    public var documentationURL: String?

    public init(
        id: String,
        displayName: String,
        authentication: ProviderAuthentication,
        apiBaseURL: URLTemplate,
        requiredHeaders: [String: String] = [:],
        connectionParameters: [ConnectionParameter] = [],
        rateLimitHeaders: RateLimitHeaders? = nil,
        webhookSignature: WebhookSignatureScheme = .none,
        webhookEventIDHeader: String? = nil,
        documentationURL: String? = nil
    ) {
        self.id = id
        self.displayName = displayName
        self.authentication = authentication
        self.apiBaseURLTemplate = apiBaseURL
        self.requiredHeaders = requiredHeaders
        self.connectionParameters = connectionParameters
        self.rateLimitHeaders = rateLimitHeaders
        self.webhookSignature = webhookSignature
        self.webhookEventIDHeader = webhookEventIDHeader
        self.documentationURL = documentationURL
    }

    /// The kind of authentication.
    public var authType: AuthType { authentication.type }

    /// The declared parameter called `name`.
    public func connectionParameter(named name: String) -> ConnectionParameter? {
        connectionParameters.first { $0.name == name }
    }
}

extension ProviderDefinition: Codable {
    // Flat on the wire: `auth_type` says which of `oauth2` and `credentials` is present.
    enum CodingKeys: String, CodingKey {
        case id, oauth2, credentials
        case displayName = "display_name"
        case authType = "auth_type"
        case apiBaseURL = "api_base_url"
        case requiredHeaders = "required_headers"
        case connectionParameters = "connection_parameters"
        case rateLimitHeaders = "rate_limit_headers"
        case webhookSignature = "webhook_signature"
        case webhookEventIDHeader = "webhook_event_id_header"
        case documentationURL = "documentation_url"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let authentication: ProviderAuthentication
        switch try container.decode(AuthType.self, forKey: .authType) {
        case .oauth2: authentication = .oauth2(try container.decode(OAuth2Settings.self, forKey: .oauth2))
        case .apiKey: authentication = .apiKey(try container.decode(CredentialScheme.self, forKey: .credentials))
        case .basic: authentication = .basic(try container.decode(CredentialScheme.self, forKey: .credentials))
        }
        self.init(
            id: try container.decode(String.self, forKey: .id),
            displayName: try container.decode(String.self, forKey: .displayName),
            authentication: authentication,
            apiBaseURL: try container.decode(URLTemplate.self, forKey: .apiBaseURL),
            requiredHeaders: try container.decodeIfPresent([String: String].self, forKey: .requiredHeaders) ?? [:],
            connectionParameters: try container.decodeIfPresent([ConnectionParameter].self, forKey: .connectionParameters) ?? [],
            rateLimitHeaders: try container.decodeIfPresent(RateLimitHeaders.self, forKey: .rateLimitHeaders),
            webhookSignature: try container.decodeIfPresent(WebhookSignatureScheme.self, forKey: .webhookSignature) ?? .none,
            webhookEventIDHeader: try container.decodeIfPresent(String.self, forKey: .webhookEventIDHeader),
            documentationURL: try container.decodeIfPresent(String.self, forKey: .documentationURL)
        )
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(displayName, forKey: .displayName)
        try container.encode(authType, forKey: .authType)
        try container.encodeIfPresent(authentication.oauth2, forKey: .oauth2)
        try container.encodeIfPresent(authentication.credentials, forKey: .credentials)
        try container.encode(apiBaseURLTemplate, forKey: .apiBaseURL)
        try container.encode(requiredHeaders, forKey: .requiredHeaders)
        try container.encode(connectionParameters, forKey: .connectionParameters)
        try container.encodeIfPresent(rateLimitHeaders, forKey: .rateLimitHeaders)
        try container.encode(webhookSignature, forKey: .webhookSignature)
        try container.encodeIfPresent(webhookEventIDHeader, forKey: .webhookEventIDHeader)
        try container.encodeIfPresent(documentationURL, forKey: .documentationURL)
    }
}
