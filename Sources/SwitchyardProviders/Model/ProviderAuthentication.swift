import SwitchyardCore

/// How a provider authenticates API calls, with the settings that go with each kind.
public enum ProviderAuthentication: Sendable, Hashable {
    /// OAuth 2.0 authorization code flow; API calls carry `Authorization: Bearer <access token>`.
    case oauth2(OAuth2Settings)
    /// A static key the tenant pastes.
    case apiKey(CredentialScheme)
    /// A username and password (or email and token) sent as HTTP Basic.
    case basic(CredentialScheme)

    /// The kind, as `auth_type` on the wire.
    public var type: AuthType {
        switch self {
        case .oauth2: .oauth2
        case .apiKey: .apiKey
        case .basic: .basic
        }
    }

    /// The OAuth settings, for an `oauth2` provider.
    public var oauth2: OAuth2Settings? {
        if case .oauth2(let settings) = self { return settings }
        return nil
    }

    /// The credential scheme, for an `api_key` or `basic` provider.
    public var credentials: CredentialScheme? {
        switch self {
        case .oauth2: nil
        case .apiKey(let scheme), .basic(let scheme): scheme
        }
    }
}
