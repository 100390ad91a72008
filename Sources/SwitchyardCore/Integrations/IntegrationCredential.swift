import Foundation

/// The usable credential of an integration, as sealed in `integration_credentials.secret`.
///
/// Its `description` is redacted: printing or logging one never shows the secret.
public enum IntegrationCredential: Sendable, Equatable, Codable, CustomStringConvertible {
    case apiKey(String)
    case basic(username: String, password: String)
    case oauth2(OAuthTokens)

    public var authType: AuthType {
        switch self {
        case .apiKey: .apiKey
        case .basic: .basic
        case .oauth2: .oauth2
        }
    }

    public var description: String { "IntegrationCredential.\(authType.rawValue)(redacted)" }

    private enum CodingKeys: String, CodingKey {
        case type, apiKey = "api_key", username, password, tokens
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        switch try container.decode(AuthType.self, forKey: .type) {
        case .apiKey: self = .apiKey(try container.decode(String.self, forKey: .apiKey))
        case .basic: self = .basic(username: try container.decode(String.self, forKey: .username), password: try container.decode(String.self, forKey: .password))
        case .oauth2: self = .oauth2(try container.decode(OAuthTokens.self, forKey: .tokens))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(authType, forKey: .type)
        switch self {
        case .apiKey(let key):
            try container.encode(key, forKey: .apiKey)
        case .basic(let username, let password):
            try container.encode(username, forKey: .username)
            try container.encode(password, forKey: .password)
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

    public init(accessToken: String, refreshToken: String?, tokenType: String = "Bearer", expiresAt: Date?, scopes: [String]) {
        self.accessToken = accessToken
        self.refreshToken = refreshToken
        self.tokenType = tokenType
        self.expiresAt = expiresAt
        self.scopes = scopes
    }

    enum CodingKeys: String, CodingKey {
        case accessToken = "access_token"
        case refreshToken = "refresh_token"
        case tokenType = "token_type"
        case expiresAt = "expires_at"
        case scopes
    }

    public var description: String { "OAuthTokens(redacted)" }
}

/// Where an integration stands with its provider.
public enum IntegrationStatus: String, Sendable, Codable, CaseIterable {
    case pending, connected
    case needsReauth = "needs_reauth"
    case disconnected, error
}
