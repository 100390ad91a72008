/// The credential a tenant pastes for an `api_key` or `basic` provider, and how requests carry it.
public struct CredentialScheme: Sendable, Hashable, Codable {
    /// What the tenant supplies, e.g. `api_key`, or `email` and `api_token`.
    public var fields: [CredentialField]
    /// How the fields become a request header.
    public var injection: CredentialInjection

    public init(fields: [CredentialField], injection: CredentialInjection) {
        self.fields = fields
        self.injection = injection
    }
}

/// One value of a credential.
public struct CredentialField: Sendable, Hashable, Codable {
    /// Referenced as `{name}` by the injection templates.
    public var name: String
    /// Shown to whoever fills the field in.
    public var description: String
    /// Whether the value is a secret: stored encrypted, never listed or logged (OA-9).
    public var secret: Bool

    public init(name: String, description: String, secret: Bool) {
        self.name = name
        self.description = description
        self.secret = secret
    }
}

/// How credential fields are put on an outgoing request.
public enum CredentialInjection: Sendable, Hashable {
    /// A header whose value is a template over the fields, e.g. `Authorization: Bearer {api_key}`.
    case header(name: String, value: String)
    /// HTTP Basic (RFC 7617) with username and password templates over the fields.
    case basic(username: String, password: String)
}

extension CredentialInjection: Codable {
    private enum Kind: String, Codable {
        case header, basic
    }

    private enum CodingKeys: String, CodingKey {
        case type, name, value, username, password
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        switch try container.decode(Kind.self, forKey: .type) {
        case .header:
            self = .header(
                name: try container.decode(String.self, forKey: .name),
                value: try container.decode(String.self, forKey: .value)
            )
        case .basic:
            self = .basic(
                username: try container.decode(String.self, forKey: .username),
                password: try container.decode(String.self, forKey: .password)
            )
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .header(let name, let value):
            try container.encode(Kind.header, forKey: .type)
            try container.encode(name, forKey: .name)
            try container.encode(value, forKey: .value)
        case .basic(let username, let password):
            try container.encode(Kind.basic, forKey: .type)
            try container.encode(username, forKey: .username)
            try container.encode(password, forKey: .password)
        }
    }
}
