import Foundation

/// The usable credential of an integration, as sealed in `integration_credentials.secret`.
///
/// Static credentials are the named fields the provider's credential scheme declares (`api_key`, or
/// `email` and `api_token`, ...). Its `description` is redacted: logging one never shows a secret.
public enum IntegrationCredential: Sendable, Equatable, Codable, CustomStringConvertible {
    case apiKey(fields: [String: String])
    case basic(fields: [String: String])
    case oauth2(OAuthTokens)

    public var authType: AuthType {
        switch self {
        case .apiKey: .apiKey
        case .basic: .basic
        case .oauth2: .oauth2
        }
    }

    /// The named fields of a static credential; empty for OAuth.
    public var fields: [String: String] {
        switch self {
        case .apiKey(let fields), .basic(let fields): fields
        case .oauth2: [:]
        }
    }

    public var description: String { "IntegrationCredential.\(authType.rawValue)(redacted)" }

    private enum CodingKeys: String, CodingKey {
        case type, fields, tokens
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        switch try container.decode(AuthType.self, forKey: .type) {
        case .apiKey: self = .apiKey(fields: try container.decode([String: String].self, forKey: .fields))
        case .basic: self = .basic(fields: try container.decode([String: String].self, forKey: .fields))
        case .oauth2: self = .oauth2(try container.decode(OAuthTokens.self, forKey: .tokens))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(authType, forKey: .type)
        switch self {
        case .apiKey(let fields), .basic(let fields):
            try container.encode(fields, forKey: .fields)
        case .oauth2(let tokens):
            try container.encode(tokens, forKey: .tokens)
        }
    }
}

/// How an integration authenticates at its provider.
public enum AuthType: String, Sendable, Codable, CaseIterable {
    case oauth2
    case apiKey = "api_key"
    case basic
}

/// OAuth 2.0 tokens of one connection (RFC 6749 section 5.1).
public struct OAuthTokens: Sendable, Equatable, Codable, CustomStringConvertible {
    public var accessToken: String
    public var refreshToken: String?
    public var tokenType: String
    public var expiresAt: Date?
    public var scopes: [String]
    /// The token response's other fields (`id_token`, Slack's `team`, ...), as the provider sent them.
    public var raw: [String: JSONValue]

    public init(
        accessToken: String,
        refreshToken: String?,
        tokenType: String = "Bearer",
        expiresAt: Date?,
        scopes: [String],
        raw: [String: JSONValue] = [:]
    ) {
        self.accessToken = accessToken
        self.refreshToken = refreshToken
        self.tokenType = tokenType
        self.expiresAt = expiresAt
        self.scopes = scopes
        self.raw = raw
    }

    enum CodingKeys: String, CodingKey {
        case accessToken = "access_token"
        case refreshToken = "refresh_token"
        case tokenType = "token_type"
        case expiresAt = "expires_at"
        case scopes, raw
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        accessToken = try container.decode(String.self, forKey: .accessToken)
        refreshToken = try container.decodeIfPresent(String.self, forKey: .refreshToken)
        tokenType = try container.decodeIfPresent(String.self, forKey: .tokenType) ?? "Bearer"
        expiresAt = try container.decodeIfPresent(Date.self, forKey: .expiresAt)
        scopes = try container.decodeIfPresent([String].self, forKey: .scopes) ?? []
        raw = try container.decodeIfPresent([String: JSONValue].self, forKey: .raw) ?? [:]
    }

    /// Whether the access token expires within `skew` of `now` (a token without an expiry never does).
    public func expires(within skew: TimeInterval, of now: Date = Date()) -> Bool {
        guard let expiresAt else { return false }
        return expiresAt.timeIntervalSince(now) <= skew
    }

    public var description: String { "OAuthTokens(redacted)" }
}

/// Where an integration stands with its provider.
public enum IntegrationStatus: String, Sendable, Codable, CaseIterable {
    case pending, connected
    case needsReauth = "needs_reauth"
    case disconnected, error
}
