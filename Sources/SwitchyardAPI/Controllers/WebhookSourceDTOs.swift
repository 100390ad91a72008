import Foundation
import SwitchyardCore
import SwitchyardPostgres
import SwitchyardProviders
import SwitchyardWebhooks

/// `POST /v1/webhook-sources`.
struct WebhookSourceCreateBody: StrictJSONBody {
    static let fields: Set<String>? = ["name", "scheme", "integration_id", "max_body_bytes", "secret", "generate_secret"]
    let name: String
    let scheme: WebhookScheme
    let integrationID: UUID?
    let maxBodyBytes: Int?
    let secret: String?
    let generateSecret: Bool?

    enum CodingKeys: String, CodingKey {
        case name, scheme, secret
        case integrationID = "integration_id"
        case maxBodyBytes = "max_body_bytes"
        case generateSecret = "generate_secret"
    }

    func validate() throws(SwitchyardError) {
        try WebhookSourceRules.validate(name: name)
        try WebhookSourceRules.validate(scheme: scheme)
        try WebhookSourceRules.validate(maxBodyBytes: maxBodyBytes)
        if let secret { try WebhookSourceRules.validate(secret: secret, scheme: scheme) }
        if secret != nil && generateSecret == true { throw .validation("Send either secret or generate_secret, not both.") }
    }
}

/// `PATCH /v1/webhook-sources/{id}`.
struct WebhookSourceUpdateBody: StrictJSONBody {
    static let fields: Set<String>? = ["name", "scheme", "integration_id", "max_body_bytes"]
    static let nullableFields: Set<String> = ["integration_id"]
    let name: String?
    let scheme: WebhookScheme?
    let integrationID: UUID?
    let clearsIntegration: Bool
    let maxBodyBytes: Int?

    enum CodingKeys: String, CodingKey {
        case name, scheme
        case integrationID = "integration_id"
        case maxBodyBytes = "max_body_bytes"
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decodeIfPresent(String.self, forKey: .name)
        scheme = try container.decodeIfPresent(WebhookScheme.self, forKey: .scheme)
        maxBodyBytes = try container.decodeIfPresent(Int.self, forKey: .maxBodyBytes)
        // `"integration_id": null` unlinks; leaving it out keeps the link.
        clearsIntegration = try container.contains(.integrationID) && container.decodeNil(forKey: .integrationID)
        integrationID = clearsIntegration ? nil : try container.decodeIfPresent(UUID.self, forKey: .integrationID)
    }

    func validate() throws(SwitchyardError) {
        guard name != nil || scheme != nil || integrationID != nil || clearsIntegration || maxBodyBytes != nil else {
            throw .validation("Send at least one of: name, scheme, integration_id, max_body_bytes.")
        }
        if let name { try WebhookSourceRules.validate(name: name) }
        if let scheme { try WebhookSourceRules.validate(scheme: scheme) }
        try WebhookSourceRules.validate(maxBodyBytes: maxBodyBytes)
    }
}

/// `POST /v1/webhook-sources/{id}/secrets`: a new secret, the others optionally expiring after a grace period.
struct WebhookSecretCreateBody: StrictJSONBody {
    static let fields: Set<String>? = ["secret", "expire_others_after_seconds"]
    let secret: String?
    let expireOthersAfterSeconds: Int?

    enum CodingKeys: String, CodingKey {
        case secret
        case expireOthersAfterSeconds = "expire_others_after_seconds"
    }

    func validate() throws(SwitchyardError) {
        if let seconds = expireOthersAfterSeconds, !(0...2_592_000).contains(seconds) {
            throw .validation("expire_others_after_seconds must be from 0 to 2592000 (30 days).")
        }
    }
}

enum WebhookSourceRules {
    static let defaultMaxBodyBytes = 1 << 20

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

/// A source as the API shows it; `secret` only when this response created one.
struct WebhookSourceResponse: Encodable, Sendable {
    let record: WebhookSourceRecord
    let secrets: [WebhookSecretRecord]
    let ingestURL: String
    var secret: String?

    enum CodingKeys: String, CodingKey {
        case id, name, scheme, secrets, secret
        case integrationID = "integration_id"
        case maxBodyBytes = "max_body_bytes"
        case ingestURL = "ingest_url"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(record.id.lowercasedString, forKey: .id)
        try container.encode(record.name, forKey: .name)
        try container.encode(try JSONDecoder().decode(WebhookScheme.self, from: Data(record.scheme.utf8)), forKey: .scheme)
        try container.encode(record.integrationID?.lowercasedString, forKey: .integrationID)
        try container.encode(record.maxBodyBytes, forKey: .maxBodyBytes)
        try container.encode(ingestURL, forKey: .ingestURL)
        try container.encode(secrets.map(WebhookSecretResponse.init), forKey: .secrets)
        try container.encodeIfPresent(secret, forKey: .secret)
        try container.encode(record.createdAt, forKey: .createdAt)
        try container.encode(record.updatedAt, forKey: .updatedAt)
    }
}

struct WebhookSecretResponse: Encodable, Sendable {
    let record: WebhookSecretRecord

    init(_ record: WebhookSecretRecord) {
        self.record = record
    }

    enum CodingKeys: String, CodingKey {
        case id
        case expiresAt = "expires_at"
        case createdAt = "created_at"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(record.id.lowercasedString, forKey: .id)
        try container.encode(record.expiresAt, forKey: .expiresAt)
        try container.encode(record.createdAt, forKey: .createdAt)
    }
}

/// A secret just added: its value only when Switchyard generated it.
struct WebhookSecretCreatedResponse: Encodable, Sendable {
    let record: WebhookSecretRecord
    let secret: String?

    func encode(to encoder: any Encoder) throws {
        try WebhookSecretResponse(record).encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(secret, forKey: .secret)
    }

    enum CodingKeys: String, CodingKey {
        case secret
    }
}
