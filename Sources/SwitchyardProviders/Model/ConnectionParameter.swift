/// A value an integration supplies per connection and that provider URLs may reference, e.g. Shopify's `shop`.
public struct ConnectionParameter: Sendable, Hashable, Codable {
    /// The placeholder name used in URL templates: `[a-z][a-z0-9_]*`, at most 64 characters.
    public var name: String
    /// Shown to whoever fills the parameter in.
    public var description: String
    /// Whether every connection must have a value; a template may only reference required parameters.
    public var required: Bool
    /// A regular expression the whole value must match, on top of the fixed safe alphabet.
    public var pattern: String
    /// Where the value comes from: the tenant, or the connect flow.
    public var source: ParameterSource
    /// A valid sample value, for documentation and for checking that templates resolve.
    public var example: String?

    public init(
        name: String,
        description: String,
        required: Bool = true,
        pattern: String,
        source: ParameterSource = .user,
        example: String? = nil
    ) {
        self.name = name
        self.description = description
        self.required = required
        self.pattern = pattern
        self.source = source
        self.example = example
    }
}

extension ConnectionParameter {
    /// One DNS label in lower case: what a subdomain-style parameter (`shop`, `subdomain`) may hold.
    public static let dnsLabelPattern = "^[a-z0-9][a-z0-9-]{0,62}$"
    /// A lower-case UUID, as Atlassian cloud ids are.
    public static let uuidPattern = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
}

/// Where a connection parameter's value comes from.
public enum ParameterSource: Sendable, Hashable {
    /// The tenant types it when creating the integration (Shopify `shop`, Zendesk `subdomain`).
    case user
    /// The connect flow reads it from a field of the token response.
    ///
    /// With a `hostSuffix` the field holds a URL (Salesforce `instance_url`): the value is the URL's host
    /// without that suffix, and a URL on any other host is refused. `ConnectionParameter.value(fromTokenResponseField:)`
    /// does this.
    case tokenResponse(field: String, hostSuffix: String?)
    /// The connect flow calls this JSON endpoint with the new access token and reads `field` from the
    /// resource the user picks (Atlassian `accessible-resources` returns a list of sites).
    case resourceLookup(url: String, field: String)
}

extension ParameterSource: Codable {
    private enum Kind: String, Codable {
        case user
        case tokenResponse = "token_response"
        case resourceLookup = "resource_lookup"
    }

    private enum CodingKeys: String, CodingKey {
        case type, field, url
        case hostSuffix = "host_suffix"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        switch try container.decode(Kind.self, forKey: .type) {
        case .user:
            self = .user
        case .tokenResponse:
            self = .tokenResponse(
                field: try container.decode(String.self, forKey: .field),
                hostSuffix: try container.decodeIfPresent(String.self, forKey: .hostSuffix)
            )
        case .resourceLookup:
            self = .resourceLookup(
                url: try container.decode(String.self, forKey: .url),
                field: try container.decode(String.self, forKey: .field)
            )
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .user:
            try container.encode(Kind.user, forKey: .type)
        case .tokenResponse(let field, let hostSuffix):
            try container.encode(Kind.tokenResponse, forKey: .type)
            try container.encode(field, forKey: .field)
            try container.encodeIfPresent(hostSuffix, forKey: .hostSuffix)
        case .resourceLookup(let url, let field):
            try container.encode(Kind.resourceLookup, forKey: .type)
            try container.encode(url, forKey: .url)
            try container.encode(field, forKey: .field)
        }
    }
}
