import Foundation
import OpenAPIRuntime
import SwitchyardAPIContract
import SwitchyardCore
import SwitchyardPostgres

extension Components.Schemas.Integration {
    /// An integration as the API shows it: never its credential (REQUIREMENTS API-3, OA-9).
    init(_ record: IntegrationRecord) {
        self.init(
            id: record.id.lowercasedString,
            provider: record.provider,
            displayName: record.displayName,
            authType: .init(record.authType),
            status: .init(record.status),
            connectionParameters: .init(additionalProperties: record.connectionParameters),
            endUserId: record.endUserID,
            tags: record.tags,
            providerAccountId: record.providerAccountID,
            health: record.health.map(HealthPayload.init),
            createdAt: record.createdAt,
            updatedAt: record.updatedAt
        )
    }
}

extension Components.Schemas.Integration.HealthPayload {
    /// An integration's health from its recent job attempts.
    init(_ health: IntegrationHealth) {
        let status: StatusPayload =
            switch health.status {
            case .healthy: .healthy
            case .degraded: .degraded
            case .down: .down
            }
        self.init(score: health.score, status: status, reason: health.reason, updatedAt: health.updatedAt)
    }
}

extension Components.Schemas.IntegrationList {
    init(_ page: Page<IntegrationRecord>) {
        self.init(data: page.items.map(Components.Schemas.Integration.init), nextCursor: page.nextCursor?.token)
    }
}

extension Components.Schemas.AuthType {
    init(_ authType: AuthType) {
        switch authType {
        case .oauth2: self = .oauth2
        case .apiKey: self = .apiKey
        case .basic: self = .basic
        }
    }
}

extension Components.Schemas.IntegrationStatus {
    init(_ status: IntegrationStatus) {
        switch status {
        case .pending: self = .pending
        case .connected: self = .connected
        case .needsReauth: self = .needsReauth
        case .disconnected: self = .disconnected
        case .error: self = .error
        }
    }
}

/// `POST /v1/integrations`: an API-key or basic-auth connection, created with its credential.
extension Components.Schemas.IntegrationCreate: StrictJSONBody {
    func validate() throws(SwitchyardError) {
        if let displayName { try IntegrationRules.validate(displayName: displayName) }
        if let endUserId { try IntegrationRules.validate(endUserID: endUserId) }
        if let tags { try IntegrationRules.validate(tags: tags) }
    }
}

/// `PATCH /v1/integrations/{id}`: metadata only; status and credentials are not set this way.
extension Components.Schemas.IntegrationUpdate: StrictJSONBody {
    func validate() throws(SwitchyardError) {
        guard displayName != nil || endUserId != nil || tags != nil || providerAccountId != nil else {
            throw .validation("Send at least one of: display_name, end_user_id, tags, provider_account_id.")
        }
        if let providerAccountId, !(1...200).contains(providerAccountId.codePointCount) || providerAccountId.contains(where: \.isNewline) {
            throw .validation("provider_account_id must be 1 to 200 characters on one line.")
        }
        if let displayName { try IntegrationRules.validate(displayName: displayName) }
        if let endUserId { try IntegrationRules.validate(endUserID: endUserId) }
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

extension Components.Schemas.IntegrationCredential {
    /// `GET /v1/integrations/{id}/credentials`: what the tenant's backend needs to call the provider itself.
    /// OAuth refresh tokens stay with Switchyard, which keeps the access token fresh (REQUIREMENTS OA-6).
    init(integrationID: UUID, credential: IntegrationCredential) throws {
        switch credential {
        case .apiKey(let fields), .basic(let fields):
            self = .case1(
                .init(
                    integrationId: integrationID.lowercasedString,
                    _type: credential.authType == .basic ? .basic : .apiKey,
                    fields: .init(additionalProperties: fields)
                )
            )
        case .oauth2(let tokens):
            self = .case2(
                .init(
                    integrationId: integrationID.lowercasedString,
                    _type: .oauth2,
                    accessToken: tokens.accessToken,
                    tokenType: tokens.tokenType,
                    expiresAt: tokens.expiresAt,
                    scopes: tokens.scopes,
                    raw: try OpenAPIObjectContainer(tokens.raw)
                )
            )
        }
    }
}

extension Components.Schemas.RefreshResult {
    /// `POST /v1/integrations/{id}/refresh`: when the new access token expires; the token itself is read from
    /// `/credentials`.
    init(integrationID: UUID, expiresAt: Date?) {
        self.init(integrationId: integrationID.lowercasedString, expiresAt: expiresAt)
    }
}
