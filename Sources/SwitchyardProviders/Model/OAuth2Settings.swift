/// How Switchyard, as a confidential OAuth 2.0 client, talks to one provider's authorization server.
public struct OAuth2Settings: Sendable, Hashable, Codable {
    /// Where the user is sent to consent; may reference connection parameters (Shopify's shop).
    public var authorizeURL: URLTemplate
    /// Where codes and refresh tokens are exchanged.
    public var tokenURL: URLTemplate
    /// How to revoke a token at disconnect (OA-8), when the provider offers a way Switchyard can call.
    public var revocation: TokenRevocation?
    /// Scopes requested when the integration asks for none.
    public var defaultScopes: [String]
    /// How scopes are joined in the `scope` parameter.
    public var scopeSeparator: ScopeSeparator
    /// Whether the provider accepts (or demands) PKCE; Switchyard sends S256 whenever it is accepted (OA-2).
    public var pkce: PKCESupport
    /// How the client authenticates at the token endpoint (RFC 7591 §2 names).
    public var tokenEndpointAuthMethod: TokenEndpointAuthMethod
    /// The body format the token endpoint expects.
    public var tokenRequestEncoding: TokenRequestEncoding
    /// Fixed parameters added to every authorization request, e.g. Google's `access_type=offline`.
    public var extraAuthorizeParameters: [String: String]
    /// Whether each refresh returns a new refresh token that must replace the old one; nil when unknown.
    public var refreshTokensRotate: Bool?
    /// The authorization server's issuer identifier (RFC 9207); when set, a callback's `iss` must equal it (OA-4).
    public var issuer: String?

    public init(
        authorizeURL: URLTemplate,
        tokenURL: URLTemplate,
        revocation: TokenRevocation? = nil,
        defaultScopes: [String],
        scopeSeparator: ScopeSeparator = .space,
        pkce: PKCESupport,
        tokenEndpointAuthMethod: TokenEndpointAuthMethod,
        tokenRequestEncoding: TokenRequestEncoding = .form,
        extraAuthorizeParameters: [String: String] = [:],
        refreshTokensRotate: Bool?,
        issuer: String? = nil
    ) {
        self.authorizeURL = authorizeURL
        self.tokenURL = tokenURL
        self.revocation = revocation
        self.defaultScopes = defaultScopes
        self.scopeSeparator = scopeSeparator
        self.pkce = pkce
        self.tokenEndpointAuthMethod = tokenEndpointAuthMethod
        self.tokenRequestEncoding = tokenRequestEncoding
        self.extraAuthorizeParameters = extraAuthorizeParameters
        self.refreshTokensRotate = refreshTokensRotate
        self.issuer = issuer
    }

    enum CodingKeys: String, CodingKey {
        case revocation, pkce, issuer
        case authorizeURL = "authorize_url"
        case tokenURL = "token_url"
        case defaultScopes = "default_scopes"
        case scopeSeparator = "scope_separator"
        case tokenEndpointAuthMethod = "token_endpoint_auth_method"
        case tokenRequestEncoding = "token_request_encoding"
        case extraAuthorizeParameters = "extra_authorize_parameters"
        case refreshTokensRotate = "refresh_tokens_rotate"
    }

    /// The value of the `scope` parameter for these scopes.
    public func scopeParameter(_ scopes: [String]) -> String {
        scopes.joined(separator: scopeSeparator.separator)
    }
}

/// The character between scopes in the `scope` parameter (RFC 6749 §3.3 says space; some providers use commas).
public enum ScopeSeparator: String, Sendable, Hashable, Codable {
    case space
    case comma

    public var separator: String {
        switch self {
        case .space: " "
        case .comma: ","
        }
    }
}

/// Whether a provider takes PKCE (RFC 7636) on the authorization code flow.
public enum PKCESupport: String, Sendable, Hashable, Codable {
    case required
    case supported
    /// Named `none` on the wire; the provider ignores or refuses `code_challenge`.
    case unsupported = "none"
}

/// How the client secret reaches the token endpoint (RFC 6749 §2.3.1).
public enum TokenEndpointAuthMethod: String, Sendable, Hashable, Codable {
    /// HTTP Basic with the client id and secret.
    case clientSecretBasic = "client_secret_basic"
    /// `client_id` and `client_secret` in the request body.
    case clientSecretPost = "client_secret_post"
}

/// The body format of token (and RFC 7009-style revocation) requests.
public enum TokenRequestEncoding: String, Sendable, Hashable, Codable {
    /// `application/x-www-form-urlencoded`, as RFC 6749 specifies.
    case form
    /// `application/json`, for providers documented that way (Notion).
    case json
}

/// How to revoke a token at the provider.
public struct TokenRevocation: Sendable, Hashable, Codable {
    /// The endpoint; may reference connection parameters.
    public var url: URLTemplate
    /// What the request looks like.
    public var style: Style

    public init(url: URLTemplate, style: Style) {
        self.url = url
        self.style = style
    }

    public enum Style: String, Sendable, Hashable, Codable {
        /// RFC 7009: POST `token=...` in the token request encoding, client authenticated as at the token endpoint.
        case rfc7009
        /// POST with the token being revoked as `Authorization: Bearer` and no body (Slack `auth.revoke`, Linear).
        case bearer
    }
}
