/// How a provider signs the webhooks it sends, so the inbound side knows what to verify (WH-1, WH-2).
///
/// Every HMAC here is HMAC-SHA256 keyed with the tenant's own secret and computed over the raw body bytes;
/// the cases differ in what else is signed and how the result is written.
public enum WebhookSignatureScheme: Sendable, Hashable {
    /// The provider does not sign webhooks (or sends none Switchyard can verify).
    case none
    /// Hex HMAC of the body in `header`, after an optional `prefix` (GitHub: `X-Hub-Signature-256`, `sha256=`).
    case hmacSHA256Hex(header: String, prefix: String?)
    /// Base64 HMAC of the body in `header` (Shopify: `X-Shopify-Hmac-SHA256`).
    case hmacSHA256Base64(header: String)
    /// Stripe: `header` holds `t=<unix>,v1=<hex>[,v1=...]`, the HMAC covers `<t>.<body>`.
    case stripe(header: String, toleranceSeconds: Int)
    /// Slack: `signatureHeader` holds `v0=<hex>` over `v0:<timestamp>:<body>`, timestamp in `timestampHeader`.
    case slack(signatureHeader: String, timestampHeader: String, toleranceSeconds: Int)
    /// Base64 HMAC of `<timestamp><body>` with no separator (Zendesk); no tolerance is documented.
    case timestampedHMACSHA256Base64(signatureHeader: String, timestampHeader: String)
    /// HubSpot v3: base64 HMAC of `<method><uri><body><timestamp>`, timestamp in milliseconds.
    case hubspotV3(signatureHeader: String, timestampHeader: String, toleranceSeconds: Int)
    /// Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64>`).
    case standardWebhooks(toleranceSeconds: Int)

    /// The headers that must be present for verification, for documentation and quick rejection.
    public var requiredHeaders: [String] {
        switch self {
        case .none: []
        case .hmacSHA256Hex(let header, _), .hmacSHA256Base64(let header), .stripe(let header, _): [header]
        case .slack(let signature, let timestamp, _), .timestampedHMACSHA256Base64(let signature, let timestamp),
            .hubspotV3(let signature, let timestamp, _):
            [signature, timestamp]
        case .standardWebhooks: ["webhook-id", "webhook-timestamp", "webhook-signature"]
        }
    }
}

extension WebhookSignatureScheme: Codable {
    private enum Kind: String, Codable {
        case none
        case hmacSHA256Hex = "hmac_sha256_hex"
        case hmacSHA256Base64 = "hmac_sha256_base64"
        case stripe, slack
        case timestampedHMACSHA256Base64 = "timestamped_hmac_sha256_base64"
        case hubspotV3 = "hubspot_v3"
        case standardWebhooks = "standard_webhooks"
    }

    private enum CodingKeys: String, CodingKey {
        case type, header, prefix
        case signatureHeader = "signature_header"
        case timestampHeader = "timestamp_header"
        case toleranceSeconds = "tolerance_seconds"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        switch try container.decode(Kind.self, forKey: .type) {
        case .none:
            self = .none
        case .hmacSHA256Hex:
            self = .hmacSHA256Hex(
                header: try container.decode(String.self, forKey: .header),
                prefix: try container.decodeIfPresent(String.self, forKey: .prefix)
            )
        case .hmacSHA256Base64:
            self = .hmacSHA256Base64(header: try container.decode(String.self, forKey: .header))
        case .stripe:
            self = .stripe(
                header: try container.decode(String.self, forKey: .header),
                toleranceSeconds: try container.decode(Int.self, forKey: .toleranceSeconds)
            )
        case .slack:
            self = .slack(
                signatureHeader: try container.decode(String.self, forKey: .signatureHeader),
                timestampHeader: try container.decode(String.self, forKey: .timestampHeader),
                toleranceSeconds: try container.decode(Int.self, forKey: .toleranceSeconds)
            )
        case .timestampedHMACSHA256Base64:
            self = .timestampedHMACSHA256Base64(
                signatureHeader: try container.decode(String.self, forKey: .signatureHeader),
                timestampHeader: try container.decode(String.self, forKey: .timestampHeader)
            )
        case .hubspotV3:
            self = .hubspotV3(
                signatureHeader: try container.decode(String.self, forKey: .signatureHeader),
                timestampHeader: try container.decode(String.self, forKey: .timestampHeader),
                toleranceSeconds: try container.decode(Int.self, forKey: .toleranceSeconds)
            )
        case .standardWebhooks:
            self = .standardWebhooks(toleranceSeconds: try container.decode(Int.self, forKey: .toleranceSeconds))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .none:
            try container.encode(Kind.none, forKey: .type)
        case .hmacSHA256Hex(let header, let prefix):
            try container.encode(Kind.hmacSHA256Hex, forKey: .type)
            try container.encode(header, forKey: .header)
            try container.encodeIfPresent(prefix, forKey: .prefix)
        case .hmacSHA256Base64(let header):
            try container.encode(Kind.hmacSHA256Base64, forKey: .type)
            try container.encode(header, forKey: .header)
        case .stripe(let header, let tolerance):
            try container.encode(Kind.stripe, forKey: .type)
            try container.encode(header, forKey: .header)
            try container.encode(tolerance, forKey: .toleranceSeconds)
        case .slack(let signatureHeader, let timestampHeader, let tolerance):
            try container.encode(Kind.slack, forKey: .type)
            try container.encode(signatureHeader, forKey: .signatureHeader)
            try container.encode(timestampHeader, forKey: .timestampHeader)
            try container.encode(tolerance, forKey: .toleranceSeconds)
        case .timestampedHMACSHA256Base64(let signatureHeader, let timestampHeader):
            try container.encode(Kind.timestampedHMACSHA256Base64, forKey: .type)
            try container.encode(signatureHeader, forKey: .signatureHeader)
            try container.encode(timestampHeader, forKey: .timestampHeader)
        case .hubspotV3(let signatureHeader, let timestampHeader, let tolerance):
            try container.encode(Kind.hubspotV3, forKey: .type)
            try container.encode(signatureHeader, forKey: .signatureHeader)
            try container.encode(timestampHeader, forKey: .timestampHeader)
            try container.encode(tolerance, forKey: .toleranceSeconds)
        case .standardWebhooks(let tolerance):
            try container.encode(Kind.standardWebhooks, forKey: .type)
            try container.encode(tolerance, forKey: .toleranceSeconds)
        }
    }
}
