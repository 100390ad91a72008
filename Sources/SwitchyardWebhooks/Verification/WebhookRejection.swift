import SwitchyardCore

/// Why a delivery was refused. Each is counted by reason; the body of a refused delivery is never stored.
public enum WebhookRejection: String, Error, Sendable, CaseIterable, SwitchyardErrorConvertible {
    case missingSignature = "missing_signature"
    case invalidSignature = "invalid_signature"
    case staleTimestamp = "stale_timestamp"
    case futureTimestamp = "future_timestamp"
    case missingTimestamp = "missing_timestamp"
    case noSecret = "no_secret"
    case unknownSource = "unknown_source"
    case tooLarge = "too_large"

    public var switchyardError: SwitchyardError {
        switch self {
        case .missingSignature, .invalidSignature, .staleTimestamp, .futureTimestamp, .missingTimestamp:
            // One answer for every signature failure: a caller probing secrets learns nothing from the details.
            SwitchyardError(
                .unauthorized,
                code: "invalid-signature",
                detail: "The webhook signature is missing, invalid or outside the allowed time window."
            )
        case .noSecret:
            SwitchyardError(
                .conflict,
                code: "no-secret",
                detail: "This webhook source has no active secret to verify deliveries with; add one first."
            )
        case .unknownSource:
            .notFound("The webhook source")
        case .tooLarge:
            SwitchyardError(.payloadTooLarge(limit: 0), code: "payload-too-large", detail: "The webhook body is larger than this source accepts.")
        }
    }
}
