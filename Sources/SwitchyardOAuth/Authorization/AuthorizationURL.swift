import Foundation
import SwitchyardProviders

/// The URL an end user is sent to for consent (RFC 6749 §4.1.1), with `state` and the PKCE challenge.
struct AuthorizationURL {
    let endpoint: URL
    let settings: OAuth2Settings
    let clientID: String
    let redirectURI: String
    let scopes: [String]
    let state: String
    let codeChallenge: String?

    var text: String {
        var pairs: [(String, String)] = [
            ("response_type", "code"), ("client_id", clientID), ("redirect_uri", redirectURI), ("state", state),
        ]
        if !scopes.isEmpty { pairs.append(("scope", settings.scopeParameter(scopes))) }
        if let codeChallenge {
            pairs += [("code_challenge", codeChallenge), ("code_challenge_method", PKCE.method)]
        }
        // Validation keeps these names clear of the parameters above.
        pairs += settings.extraAuthorizeParameters.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        let base = endpoint.absoluteString
        let separator = base.contains("?") ? (base.hasSuffix("?") || base.hasSuffix("&") ? "" : "&") : "?"
        return base + separator + FormEncoding.encode(pairs)
    }
}
