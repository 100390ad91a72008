import Foundation
import SwitchyardCore
import SwitchyardPostgres

/// An integration as the API shows it: never its credential (REQUIREMENTS API-3, OA-9).
struct IntegrationResponse: Encodable, Sendable {
    let record: IntegrationRecord

    enum CodingKeys: String, CodingKey {
        case id, provider, status, tags, health
        case providerAccountID = "provider_account_id"
        case displayName = "display_name"
        case authType = "auth_type"
        case connectionParameters = "connection_parameters"
        case endUserID = "end_user_id"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(record.id.lowercasedString, forKey: .id)
        try container.encode(record.provider, forKey: .provider)
        try container.encode(record.displayName, forKey: .displayName)
        try container.encode(record.authType, forKey: .authType)
        try container.encode(record.status, forKey: .status)
        try container.encode(record.connectionParameters, forKey: .connectionParameters)
        try container.encode(record.endUserID, forKey: .endUserID)
        try container.encode(record.tags, forKey: .tags)
        try container.encode(record.providerAccountID, forKey: .providerAccountID)
        try container.encode(record.health.map(IntegrationHealthResponse.init), forKey: .health)
        try container.encode(record.createdAt, forKey: .createdAt)
        try container.encode(record.updatedAt, forKey: .updatedAt)
    }
}

/// An integration's health from its recent job attempts.
struct IntegrationHealthResponse: Encodable, Sendable {
    let health: IntegrationHealth

    enum CodingKeys: String, CodingKey {
        case score, status, reason
        case updatedAt = "updated_at"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(health.score, forKey: .score)
        try container.encode(health.status.rawValue, forKey: .status)
        try container.encode(health.reason, forKey: .reason)
        try container.encode(health.updatedAt, forKey: .updatedAt)
    }
}

/// `POST /v1/integrations`: an API-key or basic-auth connection, created with its credential.
struct IntegrationCreateBody: StrictJSONBody {
    static let fields: Set<String>? = ["provider", "display_name", "credentials", "connection_parameters", "end_user_id", "tags"]
    let provider: String
    let displayName: String?
    let credentials: [String: String]
    let connectionParameters: [String: String]?
    let endUserID: String?
    let tags: [String]?

    enum CodingKeys: String, CodingKey {
        case provider, credentials, tags
        case displayName = "display_name"
        case connectionParameters = "connection_parameters"
        case endUserID = "end_user_id"
    }

    func validate() throws(SwitchyardError) {
        if let displayName { try IntegrationRules.validate(displayName: displayName) }
        if let endUserID { try IntegrationRules.validate(endUserID: endUserID) }
        if let tags { try IntegrationRules.validate(tags: tags) }
    }
}

/// `PATCH /v1/integrations/{id}`: metadata only; status and credentials are not set this way.
struct IntegrationUpdateBody: StrictJSONBody {
    static let fields: Set<String>? = ["display_name", "end_user_id", "tags", "provider_account_id"]
    let displayName: String?
    let endUserID: String?
    let tags: [String]?
    let providerAccountID: String?

    enum CodingKeys: String, CodingKey {
        case tags
        case displayName = "display_name"
        case endUserID = "end_user_id"
        case providerAccountID = "provider_account_id"
    }

    func validate() throws(SwitchyardError) {
        guard displayName != nil || endUserID != nil || tags != nil || providerAccountID != nil else {
            throw .validation("Send at least one of: display_name, end_user_id, tags, provider_account_id.")
        }
        if let providerAccountID, !(1...200).contains(providerAccountID.codePointCount) || providerAccountID.contains(where: \.isNewline) {
            throw .validation("provider_account_id must be 1 to 200 characters on one line.")
        }
        if let displayName { try IntegrationRules.validate(displayName: displayName) }
        if let endUserID { try IntegrationRules.validate(endUserID: endUserID) }
        if let tags { try IntegrationRules.validate(tags: tags) }
    }
}

/// The same limits as the `integrations` table's CHECK constraints, with messages that name the field.
enum IntegrationRules {
    static func validate(displayName: String) throws(SwitchyardError) {
        guard (1...200).contains(displayName.codePointCount) else { throw .validation("display_name must be 1 to 200 characters.") }
    }

    static func validate(endUserID: String) throws(SwitchyardError) {
        guard (1...200).contains(endUserID.codePointCount) else { throw .validation("end_user_id must be 1 to 200 characters.") }
    }

    static func validate(tags: [String]) throws(SwitchyardError) {
        guard tags.count <= 50 else { throw .validation("At most 50 tags.") }
        for tag in tags where !(1...64).contains(tag.codePointCount) || tag.contains(where: { $0.isNewline || $0 == "," }) {
            throw .validation("Each tag is 1 to 64 characters, without commas or line breaks.")
        }
    }
}

/// `GET /v1/integrations/{id}/credentials`: what the tenant's backend needs to call the provider itself.
/// OAuth refresh tokens stay with Switchyard, which keeps the access token fresh.
struct CredentialResponse: Encodable, Sendable {
    let integrationID: UUID
    let credential: IntegrationCredential

    enum CodingKeys: String, CodingKey {
        case type, fields
        case integrationID = "integration_id"
        case accessToken = "access_token"
        case tokenType = "token_type"
        case expiresAt = "expires_at"
        case scopes, raw
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(integrationID.lowercasedString, forKey: .integrationID)
        try container.encode(credential.authType, forKey: .type)
        switch credential {
        case .apiKey(let fields), .basic(let fields):
            try container.encode(fields, forKey: .fields)
        case .oauth2(let tokens):
            try container.encode(tokens.accessToken, forKey: .accessToken)
            try container.encode(tokens.tokenType, forKey: .tokenType)
            try container.encode(tokens.expiresAt, forKey: .expiresAt)
            try container.encode(tokens.scopes, forKey: .scopes)
            // The refresh token stays in Switchyard: it refreshes for the caller (REQUIREMENTS OA-6).
            try container.encode(tokens.raw, forKey: .raw)
        }
    }
}

/// `POST /v1/integrations/{id}/disconnect`: the integration afterwards and what the provider said to revocation.
struct DisconnectResponse: Encodable, Sendable {
    let integration: IntegrationResponse
    let revocation: String
}

/// `POST /v1/integrations/{id}/refresh`: when the new access token expires; the token itself is read from `/credentials`.
struct RefreshResponse: Encodable, Sendable {
    let integrationID: UUID
    let expiresAt: Date?

    enum CodingKeys: String, CodingKey {
        case integrationID = "integration_id"
        case expiresAt = "expires_at"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(integrationID.lowercasedString, forKey: .integrationID)
        try container.encode(expiresAt, forKey: .expiresAt)
    }
}
