import Foundation
import SwitchyardCore

/// A successful token response (RFC 6749 §5.1), parsed.
public struct TokenGrant: Sendable {
    public let tokens: OAuthTokens

    /// Parses the body of a 200 answer. `requestedScopes` stand in when the provider omits `scope`
    /// (§5.1: it then granted what was asked); `previous` fills a refresh response's omissions.
    static func parse(
        _ body: Data,
        scopeSeparator: String,
        requestedScopes: [String],
        previous: OAuthTokens? = nil,
        now: Date = Date()
    ) throws(TokenEndpointError) -> TokenGrant {
        guard let object = try? JSONDecoder().decode([String: JSONValue].self, from: body) else {
            throw .malformedResponse(reason: "the body is not a JSON object")
        }
        guard case .string(let accessToken)? = object["access_token"], !accessToken.isEmpty else {
            throw .malformedResponse(reason: "no access_token")
        }
        var refreshToken: String?
        if case .string(let value)? = object["refresh_token"], !value.isEmpty { refreshToken = value }
        var expiresAt: Date?
        if let text = object["expires_in"]?.text, let seconds = Double(text), seconds > 0 {
            expiresAt = now.addingTimeInterval(seconds)
        }
        var scopes = requestedScopes
        if case .string(let granted)? = object["scope"] {
            // Providers differ: RFC 6749 says space, some use commas whatever they were sent.
            scopes = granted.split(whereSeparator: { $0 == " " || $0 == "," || String($0) == scopeSeparator }).map(String.init)
        }
        var tokenType = "Bearer"
        if case .string(let value)? = object["token_type"], !value.isEmpty { tokenType = value }
        var raw = object
        for field in ["access_token", "refresh_token", "expires_in", "scope", "token_type"] { raw.removeValue(forKey: field) }
        return TokenGrant(
            tokens: OAuthTokens(
                accessToken: accessToken,
                // A refresh response without a refresh token keeps the old one (§6: the server MAY issue a new one).
                refreshToken: refreshToken ?? previous?.refreshToken,
                tokenType: tokenType,
                expiresAt: expiresAt,
                scopes: scopes,
                raw: previous.map { $0.raw.merging(raw) { _, new in new } } ?? raw
            )
        )
    }

    /// The error fields of a 4xx answer (§5.2), when it has them.
    static func error(in body: Data) -> (error: String, description: String?)? {
        guard let object = try? JSONDecoder().decode([String: JSONValue].self, from: body) else {
            return nil
        }
        guard case .string(let error)? = object["error"] else { return nil }
        var description: String?
        if case .string(let value)? = object["error_description"] { description = value }
        return (error, description)
    }
}

extension OAuthTokens {
    /// The provider's id of the connected account, where the token response names one: Slack's `team.id`,
    /// Stripe Connect's `stripe_user_id`, Notion's `workspace_id`, or a generic `account_id` / `account.id`.
    var providerAccountID: String? {
        func field(_ path: String...) -> String? {
            var value: JSONValue? = .object(raw)
            for key in path {
                guard case .object(let object)? = value else { return nil }
                value = object[key]
            }
            return value?.text
        }
        let found = field("team", "id") ?? field("stripe_user_id") ?? field("workspace_id") ?? field("account_id") ?? field("account", "id")
        return found.flatMap { (1...200).contains($0.codePointCount) ? $0 : nil }
    }
}
