import Foundation
import SwitchyardAPIContract
import SwitchyardCore
import SwitchyardPostgres

extension Components.Schemas.APIKey {
    /// An API key as lists show it: never the secret, never its hash.
    init(_ record: APIKeyRecord) {
        self.init(
            id: record.id.lowercasedString,
            name: record.name,
            prefix: record.displayPrefix,
            scopes: record.scopes.sorted().map(Components.Schemas.Scope.init),
            createdBy: record.createdBy,
            expiresAt: record.expiresAt,
            revokedAt: record.revokedAt,
            lastUsedAt: record.lastUsedAt,
            createdAt: record.createdAt
        )
    }
}

extension Components.Schemas.CreatedAPIKey {
    /// The answer to creating a key: the record and, this once, the full key.
    init(_ record: APIKeyRecord, key: String) {
        self.init(value1: .init(record), value2: .init(key: key))
    }
}

extension Components.Schemas.APIKeyList {
    init(_ page: Page<APIKeyRecord>) {
        self.init(data: page.items.map(Components.Schemas.APIKey.init), nextCursor: page.nextCursor?.token)
    }
}

extension Components.Schemas.Scope {
    init(_ scope: APIKeyScope) {
        switch scope {
        case .read: self = .read
        case .write: self = .write
        case .credentialsRead: self = .credentials_colon_read
        }
    }

    var scope: APIKeyScope {
        switch self {
        case .read: .read
        case .write: .write
        case .credentials_colon_read: .credentialsRead
        }
    }
}

extension Components.Schemas.APIKeyCreate: StrictJSONBody {
    func validate() throws(SwitchyardError) {
        try TenantRules.validate(name: name)
        if let scopes, scopes.isEmpty { throw .validation("scopes must name at least one scope.") }
        if let scopes, Set(scopes).count != scopes.count { throw .validation("scopes must not name a scope twice.") }
        if let expiresAt, expiresAt <= Date() { throw .validation("expires_at must be in the future.") }
    }

    /// Without `scopes`, a key may read and write; `credentials:read` is only ever granted by name.
    func newKey(createdBy: String) -> NewAPIKey {
        NewAPIKey(name: name, scopes: Set(scopes?.map(\.scope) ?? [.read, .write]), expiresAt: expiresAt, createdBy: createdBy)
    }
}
