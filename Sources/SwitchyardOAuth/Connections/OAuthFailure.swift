import SwitchyardCore

/// Why a connect flow stopped, in words for the end user's browser (the callback renders it as a page)
/// and as an API problem. Never holds a token, a code or a state.
public struct OAuthFailure: SwitchyardErrorConvertible, Sendable, Equatable {
    public enum Reason: String, Sendable {
        case missingState = "missing-state"
        case unknownState = "unknown-state"
        /// The connect link of this flow finished another flow first (two tabs, both approved).
        case linkUsed = "connect-link-used"
        case expiredState = "expired-state"
        case otherBrowser = "other-browser"
        case issuerMismatch = "issuer-mismatch"
        case providerDenied = "provider-error"
        case missingCode = "missing-code"
        case exchangeFailed = "exchange-failed"
        case configuration = "configuration"
    }

    public let reason: Reason
    /// A heading for the page.
    public let title: String
    /// What happened and what to do, for a person.
    public let detail: String
    /// Where the end user goes back to with the error, once the state proved who started the flow.
    public let returnTo: String?

    public init(_ reason: Reason, title: String, detail: String, returnTo: String? = nil) {
        self.reason = reason
        self.title = title
        self.detail = detail
        self.returnTo = returnTo
    }

    /// 400 for a callback that is malformed or not this browser's; 409 for a well-formed state that can no
    /// longer complete (unknown, used, expired: a state is consumed when first seen, so these look alike) or a
    /// provider whose setup changed meanwhile; 502 when the provider's token endpoint failed.
    public var httpStatus: Int {
        switch reason {
        case .exchangeFailed: 502
        case .configuration, .unknownState, .linkUsed, .expiredState: 409
        default: 400
        }
    }

    public var switchyardError: SwitchyardError {
        let kind: SwitchyardError.Kind =
            switch reason {
            case .exchangeFailed: .badGateway
            case .configuration, .unknownState, .linkUsed, .expiredState: .conflict
            default: .badRequest
            }
        return SwitchyardError(kind, code: reason.rawValue, detail: detail)
    }
}
