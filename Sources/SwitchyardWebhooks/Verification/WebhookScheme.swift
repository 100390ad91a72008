import Foundation

/// How a webhook source's deliveries are signed and identified (REQUIREMENTS WH-2).
public enum WebhookScheme: Sendable, Hashable {
    /// `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>]`, HMAC-SHA256 over `<t>.<body>`; event id and type from the body.
    case stripe(toleranceSeconds: Int)
    /// `X-Hub-Signature-256: sha256=<hex>` over the body; id `X-GitHub-Delivery`, type `X-GitHub-Event`.
    case github
    /// `X-Slack-Signature: v0=<hex>` over `v0:<ts>:<body>`, `X-Slack-Request-Timestamp`; id `event_id` in the body.
    case slack(toleranceSeconds: Int)
    /// `X-Shopify-Hmac-SHA256: <base64>` over the body; id `X-Shopify-Webhook-Id`, type `X-Shopify-Topic`.
    case shopify
    /// Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64> ...` over `<id>.<ts>.<body>`,
    /// keyed with the base64 after `whsec_`.
    case standardWebhooks(toleranceSeconds: Int)
    /// Any HMAC a provider documents: the header, hash, encoding, prefix and what is signed are configurable.
    case hmac(GenericHMAC)

    public var type: String {
        switch self {
        case .stripe: "stripe"
        case .github: "github"
        case .slack: "slack"
        case .shopify: "shopify"
        case .standardWebhooks: "standard_webhooks"
        case .hmac: "hmac"
        }
    }

    /// Headers that carry signatures, redacted from stored deliveries.
    public var signatureHeaders: [String] {
        switch self {
        case .stripe: ["stripe-signature"]
        case .github: ["x-hub-signature-256", "x-hub-signature"]
        case .slack: ["x-slack-signature"]
        case .shopify: ["x-shopify-hmac-sha256"]
        case .standardWebhooks: ["webhook-signature", "svix-signature"]
        case .hmac(let generic): [generic.header.lowercased()]
        }
    }

    public static let defaultTolerance = 300
}

/// A configurable HMAC scheme.
public struct GenericHMAC: Sendable, Hashable, Codable {
    public enum Algorithm: String, Sendable, Hashable, Codable, CaseIterable {
        case sha1, sha256, sha512
    }

    public enum Encoding: String, Sendable, Hashable, Codable, CaseIterable {
        case hex, base64
    }

    /// What the HMAC covers.
    public enum SignedContent: String, Sendable, Hashable, Codable, CaseIterable {
        /// The raw body.
        case body
        /// `<timestamp>.<body>`, with the timestamp from `timestampHeader`.
        case timestampDotBody = "timestamp_dot_body"
        /// `<timestamp><body>`.
        case timestampBody = "timestamp_body"
    }

    public var header: String
    public var algorithm: Algorithm
    public var encoding: Encoding
    /// Text before the signature in the header, e.g. `sha256=`.
    public var prefix: String?
    public var signedContent: SignedContent
    public var timestampHeader: String?
    public var toleranceSeconds: Int?
    /// The header carrying the provider's event id; without one, the body's SHA-256 identifies the event.
    public var eventIDHeader: String?
    /// The header carrying the event type.
    public var eventTypeHeader: String?

    public init(
        header: String,
        algorithm: Algorithm = .sha256,
        encoding: Encoding = .hex,
        prefix: String? = nil,
        signedContent: SignedContent = .body,
        timestampHeader: String? = nil,
        toleranceSeconds: Int? = nil,
        eventIDHeader: String? = nil,
        eventTypeHeader: String? = nil
    ) {
        self.header = header
        self.algorithm = algorithm
        self.encoding = encoding
        self.prefix = prefix
        self.signedContent = signedContent
        self.timestampHeader = timestampHeader
        self.toleranceSeconds = toleranceSeconds
        self.eventIDHeader = eventIDHeader
        self.eventTypeHeader = eventTypeHeader
    }

    enum CodingKeys: String, CodingKey {
        case header, algorithm, encoding, prefix
        case signedContent = "signed_content"
        case timestampHeader = "timestamp_header"
        case toleranceSeconds = "tolerance_seconds"
        case eventIDHeader = "event_id_header"
        case eventTypeHeader = "event_type_header"
    }
}

extension WebhookScheme: Codable {
    private enum CodingKeys: String, CodingKey {
        case type
        case toleranceSeconds = "tolerance_seconds"
    }

    /// The fields each type reads; any other is refused rather than ignored, so a typo or a field of another type
    /// (`header` on a `stripe` source) does not pass for configuration.
    static func fields(of type: String) -> Set<String> {
        switch type {
        case "stripe", "slack", "standard_webhooks": ["type", "tolerance_seconds"]
        case "hmac":
            Set(
                ["type"]
                    + [
                        GenericHMAC.CodingKeys.header, .algorithm, .encoding, .prefix, .signedContent, .timestampHeader,
                        .toleranceSeconds, .eventIDHeader, .eventTypeHeader,
                    ].map(\.stringValue)
            )
        default: ["type"]
        }
    }

    private struct AnyKey: CodingKey {
        let stringValue: String
        init(stringValue: String) { self.stringValue = stringValue }
        var intValue: Int? { nil }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let type = try container.decode(String.self, forKey: .type)
        let sent = try decoder.container(keyedBy: AnyKey.self).allKeys.map(\.stringValue).sorted()
        if let stray = sent.first(where: { !Self.fields(of: type).contains($0) }) {
            throw DecodingError.dataCorruptedError(
                forKey: .type,
                in: container,
                debugDescription: "'\(stray)' is not a field of a \(type) scheme (it takes \(Self.fields(of: type).sorted().joined(separator: ", ")))"
            )
        }
        let tolerance = try container.decodeIfPresent(Int.self, forKey: .toleranceSeconds) ?? Self.defaultTolerance
        switch type {
        case "stripe": self = .stripe(toleranceSeconds: tolerance)
        case "github": self = .github
        case "slack": self = .slack(toleranceSeconds: tolerance)
        case "shopify": self = .shopify
        case "standard_webhooks": self = .standardWebhooks(toleranceSeconds: tolerance)
        case "hmac": self = .hmac(try GenericHMAC(from: decoder))
        default:
            throw DecodingError.dataCorruptedError(
                forKey: .type,
                in: container,
                debugDescription: "type must be one of stripe, github, slack, shopify, standard_webhooks, hmac"
            )
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(type, forKey: .type)
        switch self {
        case .stripe(let tolerance), .slack(let tolerance), .standardWebhooks(let tolerance):
            try container.encode(tolerance, forKey: .toleranceSeconds)
        case .github, .shopify:
            break
        case .hmac(let generic):
            try generic.encode(to: encoder)
        }
    }
}
