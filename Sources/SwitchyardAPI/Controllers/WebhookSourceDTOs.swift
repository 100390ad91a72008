import Foundation
import SwitchyardAPIContract
import SwitchyardCore
import SwitchyardPostgres
import SwitchyardProviders
import SwitchyardWebhooks

/// `POST /v1/webhook-sources`.
extension Components.Schemas.WebhookSourceCreate: StrictJSONBody {
    static func precheck(_ members: [String: Any]) throws(SwitchyardError) {
        try WebhookSourceRules.precheck(scheme: members["scheme"])
    }

    func validate() throws(SwitchyardError) {
        _ = try UUIDField.parse(ifPresent: integrationId, field: "integration_id")
        try WebhookSourceRules.validate(name: name)
        try WebhookSourceRules.validate(scheme: scheme.verification)
        try WebhookSourceRules.validate(maxBodyBytes: maxBodyBytes)
        if let secret { try WebhookSourceRules.validate(secret: secret, scheme: scheme.verification) }
        if secret != nil && generateSecret == true { throw .validation("Send either secret or generate_secret, not both.") }
    }

    /// `integration_id`, which `validate()` checked.
    var integrationID: UUID? { integrationId.flatMap(UUID.init(uuidString:)) }
}

/// `PATCH /v1/webhook-sources/{id}`: the generated body, and whether it unlinks the integration. The generated type
/// reads `"integration_id": null` and a body without `integration_id` alike (both `nil`, swift-openapi-generator has no
/// absent-or-null), where the document gives them different meanings; this is the one hand-written piece.
struct WebhookSourcePatch: StrictJSONBody {
    static let nullableFields: Set<String> = ["integration_id"]
    let update: Components.Schemas.WebhookSourceUpdate
    /// `"integration_id": null` unlinks; leaving it out keeps the link.
    let clearsIntegration: Bool

    init(from decoder: any Decoder) throws {
        update = try Components.Schemas.WebhookSourceUpdate(from: decoder)
        let container = try decoder.container(keyedBy: Components.Schemas.WebhookSourceUpdate.CodingKeys.self)
        clearsIntegration = try container.contains(.integrationId) && container.decodeNil(forKey: .integrationId)
    }

    static func precheck(_ members: [String: Any]) throws(SwitchyardError) {
        try WebhookSourceRules.precheck(scheme: members["scheme"])
    }

    func validate() throws(SwitchyardError) {
        _ = try UUIDField.parse(ifPresent: update.integrationId, field: "integration_id")
        guard update.name != nil || update.scheme != nil || update.integrationId != nil || clearsIntegration || update.maxBodyBytes != nil else {
            throw .validation("Send at least one of: name, scheme, integration_id, max_body_bytes.")
        }
        if let name = update.name { try WebhookSourceRules.validate(name: name) }
        if let scheme = update.scheme { try WebhookSourceRules.validate(scheme: scheme.verification) }
        try WebhookSourceRules.validate(maxBodyBytes: update.maxBodyBytes)
    }

    /// The new link: `.some(nil)` unlinks, `nil` keeps the link.
    var integrationLink: UUID?? {
        clearsIntegration ? .some(nil) : update.integrationId.flatMap(UUID.init(uuidString:)).map { .some($0) }
    }
}

/// `POST /v1/webhook-sources/{id}/secrets`: a new secret, the others optionally expiring after a grace period.
extension Components.Schemas.WebhookSecretCreate: StrictJSONBody {
    func validate() throws(SwitchyardError) {
        if let seconds = expireOthersAfterSeconds, !(0...2_592_000).contains(seconds) {
            throw .validation("expire_others_after_seconds must be from 0 to 2592000 (30 days).")
        }
    }
}

/// A `format: uuid` field, which the generated types hold as text: refused (422) with the words the decoding of a
/// `UUID` gave when the bodies were hand-written.
enum WebhookSourceRules {
    static let defaultMaxBodyBytes = 1 << 20
    static let schemeTypes = ["stripe", "github", "slack", "shopify", "standard_webhooks", "hmac"]

    /// An unknown `scheme.type` in the words the scheme's own decoding used: the generated type's decoding would
    /// only say that no `type` it knows was found.
    static func precheck(scheme: Any?) throws(SwitchyardError) {
        if let type = (scheme as? [String: Any])?["type"] as? String, !schemeTypes.contains(type) {
            throw .validation("The field 'scheme.type' is not valid: type must be one of \(schemeTypes.joined(separator: ", ")).")
        }
    }

    static func validate(name: String) throws(SwitchyardError) {
        guard (1...200).contains(name.codePointCount), !name.contains(where: \.isNewline) else {
            throw .validation("name must be 1 to 200 characters on one line.")
        }
    }

    static func validate(maxBodyBytes: Int?) throws(SwitchyardError) {
        if let maxBodyBytes, !(1024...(10 << 20)).contains(maxBodyBytes) {
            throw .validation("max_body_bytes must be from 1024 to 10485760.")
        }
    }

    static func validate(scheme: WebhookScheme) throws(SwitchyardError) {
        switch scheme {
        case .stripe(let tolerance), .slack(let tolerance), .standardWebhooks(let tolerance):
            try validate(tolerance: tolerance)
        case .github, .shopify:
            break
        case .hmac(let generic):
            for header in [generic.header] + [generic.timestampHeader, generic.eventIDHeader, generic.eventTypeHeader].compactMap({ $0 }) {
                guard HTTPToken.isHeaderName(header) else { throw .validation("scheme: '\(String(header.prefix(64)))' is not a valid header name.") }
            }
            if let prefix = generic.prefix, !(1...32).contains(prefix.utf8.count) || !HTTPToken.isPrintable(prefix, maximumLength: 32) {
                throw .validation("scheme.prefix must be 1 to 32 printable characters.")
            }
            if generic.signedContent != .body && generic.timestampHeader == nil {
                throw .validation("scheme.timestamp_header is required when signed_content includes the timestamp.")
            }
            if let tolerance = generic.toleranceSeconds { try validate(tolerance: tolerance) }
        }
    }

    static func validate(tolerance: Int) throws(SwitchyardError) {
        guard (1...3600).contains(tolerance) else { throw .validation("scheme.tolerance_seconds must be from 1 to 3600.") }
    }

    static func validate(secret: String, scheme: WebhookScheme) throws(SwitchyardError) {
        guard (8...512).contains(secret.utf8.count), HTTPToken.isPrintable(secret, maximumLength: 512) else {
            throw .validation("secret must be 8 to 512 printable characters.")
        }
        if case .standardWebhooks = scheme {
            guard secret.hasPrefix(StandardWebhooksSecret.prefix),
                Data(base64Encoded: String(secret.dropFirst(StandardWebhooksSecret.prefix.count))) != nil
            else {
                throw .validation("A Standard Webhooks secret is whsec_ followed by base64; send generate_secret to get one.")
            }
        }
    }

    /// A new random secret in the scheme's format.
    static func generate(for scheme: WebhookScheme) -> String {
        if case .standardWebhooks = scheme { return StandardWebhooksSecret.generate() }
        return "whk_"
            + StandardWebhooksSecret.generate().dropFirst(StandardWebhooksSecret.prefix.count)
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}

extension Components.Schemas.WebhookScheme {
    /// The scheme as verification reads it; a timestamped type without `tolerance_seconds` gets the default (300).
    var verification: SwitchyardWebhooks.WebhookScheme {
        switch self {
        case .stripe(let timestamped): .stripe(toleranceSeconds: timestamped.toleranceSeconds ?? SwitchyardWebhooks.WebhookScheme.defaultTolerance)
        case .github: .github
        case .slack(let timestamped): .slack(toleranceSeconds: timestamped.toleranceSeconds ?? SwitchyardWebhooks.WebhookScheme.defaultTolerance)
        case .shopify: .shopify
        case .standardWebhooks(let timestamped):
            .standardWebhooks(toleranceSeconds: timestamped.toleranceSeconds ?? SwitchyardWebhooks.WebhookScheme.defaultTolerance)
        case .hmac(let hmac):
            .hmac(
                GenericHMAC(
                    header: hmac.header,
                    algorithm: hmac.algorithm.verification,
                    encoding: hmac.encoding.verification,
                    prefix: hmac.prefix,
                    signedContent: hmac.signedContent.verification,
                    timestampHeader: hmac.timestampHeader,
                    toleranceSeconds: hmac.toleranceSeconds,
                    eventIDHeader: hmac.eventIdHeader,
                    eventTypeHeader: hmac.eventTypeHeader
                )
            )
        }
    }

    /// A stored scheme as the API shows it: a timestamped type always with its `tolerance_seconds`.
    init(_ scheme: SwitchyardWebhooks.WebhookScheme) {
        switch scheme {
        case .stripe(let tolerance): self = .stripe(.init(_type: .stripe, toleranceSeconds: tolerance))
        case .github: self = .github(.init(_type: .github))
        case .slack(let tolerance): self = .slack(.init(_type: .slack, toleranceSeconds: tolerance))
        case .shopify: self = .shopify(.init(_type: .shopify))
        case .standardWebhooks(let tolerance): self = .standardWebhooks(.init(_type: .standardWebhooks, toleranceSeconds: tolerance))
        case .hmac(let generic):
            self = .hmac(
                .init(
                    _type: .hmac,
                    toleranceSeconds: generic.toleranceSeconds,
                    header: generic.header,
                    algorithm: .init(generic.algorithm),
                    encoding: .init(generic.encoding),
                    prefix: generic.prefix,
                    signedContent: .init(generic.signedContent),
                    timestampHeader: generic.timestampHeader,
                    eventIdHeader: generic.eventIDHeader,
                    eventTypeHeader: generic.eventTypeHeader
                )
            )
        }
    }
}

extension Components.Schemas.WebhookSchemeHMAC.AlgorithmPayload {
    init(_ algorithm: GenericHMAC.Algorithm) {
        switch algorithm {
        case .sha1: self = .sha1
        case .sha256: self = .sha256
        case .sha512: self = .sha512
        }
    }

    var verification: GenericHMAC.Algorithm {
        switch self {
        case .sha1: .sha1
        case .sha256: .sha256
        case .sha512: .sha512
        }
    }
}

extension Components.Schemas.WebhookSchemeHMAC.EncodingPayload {
    init(_ encoding: GenericHMAC.Encoding) {
        switch encoding {
        case .hex: self = .hex
        case .base64: self = .base64
        }
    }

    var verification: GenericHMAC.Encoding {
        switch self {
        case .hex: .hex
        case .base64: .base64
        }
    }
}

extension Components.Schemas.WebhookSchemeHMAC.SignedContentPayload {
    init(_ content: GenericHMAC.SignedContent) {
        switch content {
        case .body: self = .body
        case .timestampDotBody: self = .timestampDotBody
        case .timestampBody: self = .timestampBody
        }
    }

    var verification: GenericHMAC.SignedContent {
        switch self {
        case .body: .body
        case .timestampDotBody: .timestampDotBody
        case .timestampBody: .timestampBody
        }
    }
}

extension Components.Schemas.WebhookSource {
    /// A source as the API shows it; `secret` only in the response that generated it.
    init(_ record: WebhookSourceRecord, secrets: [WebhookSecretRecord], ingestURL: String, secret: String? = nil) throws {
        self.init(
            id: record.id.lowercasedString,
            name: record.name,
            scheme: .init(try JSONDecoder().decode(SwitchyardWebhooks.WebhookScheme.self, from: Data(record.scheme.utf8))),
            integrationId: record.integrationID?.lowercasedString,
            maxBodyBytes: record.maxBodyBytes,
            ingestUrl: ingestURL,
            secrets: secrets.map { Components.Schemas.WebhookSecret($0) },
            secret: secret,
            createdAt: record.createdAt,
            updatedAt: record.updatedAt
        )
    }
}

extension Components.Schemas.WebhookSourceList {
    init(_ page: Page<WebhookSourceRecord>, secrets: [UUID: [WebhookSecretRecord]], ingestURL: (UUID) -> String) throws {
        self.init(
            data: try page.items.map { try Components.Schemas.WebhookSource($0, secrets: secrets[$0.id] ?? [], ingestURL: ingestURL($0.id)) },
            nextCursor: page.nextCursor?.token
        )
    }
}

extension Components.Schemas.WebhookSecret {
    /// A secret's id and expiry; its value only in the response that generated it.
    init(_ record: WebhookSecretRecord, secret: String? = nil) {
        self.init(id: record.id.lowercasedString, expiresAt: record.expiresAt, createdAt: record.createdAt, secret: secret)
    }
}
