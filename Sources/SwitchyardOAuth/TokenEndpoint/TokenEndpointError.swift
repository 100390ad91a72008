import SwitchyardCore

/// Why the provider's token (or revocation) endpoint gave no usable answer.
///
/// Descriptions carry the provider's error code and a cut, printable `error_description`, never a token.
public enum TokenEndpointError: SwitchyardErrorConvertible, Sendable, Equatable, CustomStringConvertible {
    /// `invalid_grant`: the code or refresh token is no longer valid (REQUIREMENTS OA-7: reconnect, no retry).
    case invalidGrant(description: String?)
    /// Another OAuth error (`invalid_client`, `unauthorized_client`, ...): a configuration problem.
    case rejected(error: String, description: String?, status: Int)
    /// 5xx, 429, timeouts or connection failures after bounded retries: worth trying again later.
    case unavailable(reason: String)
    /// A 200 without an `access_token`, or a body that is not JSON.
    case malformedResponse(reason: String)

    public var description: String {
        switch self {
        case .invalidGrant(let description):
            "the provider answered invalid_grant" + (description.map { ": \($0)" } ?? "")
        case .rejected(let error, let description, let status):
            "the provider refused the request (HTTP \(status), \(error))" + (description.map { ": \($0)" } ?? "")
        case .unavailable(let reason):
            "the provider's OAuth endpoint is unavailable: \(reason)"
        case .malformedResponse(let reason):
            "the provider's OAuth endpoint answered something unusable: \(reason)"
        }
    }

    public var switchyardError: SwitchyardError {
        switch self {
        case .invalidGrant:
            SwitchyardError(
                .conflict,
                code: "needs-reauth",
                detail: "The provider no longer accepts this integration's grant; reconnect it (\(description))."
            )
        case .rejected:
            SwitchyardError(
                .badGateway,
                code: "provider-rejected",
                detail: "The OAuth exchange failed: \(description). Check the OAuth app's client id and secret."
            )
        case .unavailable:
            SwitchyardError(.badGateway, code: "provider-unavailable", detail: "Could not reach the provider: \(description). Retry later.")
        case .malformedResponse:
            SwitchyardError(.badGateway, code: "provider-error", detail: "The OAuth exchange failed: \(description).")
        }
    }

    /// Text a provider chose, cut to something safe to show and log.
    static func printable(_ text: String?, limit: Int = 200) -> String? {
        guard let text, !text.isEmpty else { return nil }
        let cleaned = String(text.unicodeScalars.filter { (0x20..<0x7F).contains($0.value) }.map(Character.init))
        return cleaned.count > limit ? String(cleaned.prefix(limit)) + "..." : cleaned
    }
}
