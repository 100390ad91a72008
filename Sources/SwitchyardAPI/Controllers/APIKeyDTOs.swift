import Foundation
import SwitchyardCore
import SwitchyardPostgres

/// An API key as lists show it: never the secret, never its hash.
struct APIKeyResponse: Encodable, Sendable {
    let record: APIKeyRecord
    /// The full key, present only in the response that created it.
    let key: String?

    enum CodingKeys: String, CodingKey {
        case id, name, prefix, scopes, key
        case createdBy = "created_by"
        case expiresAt = "expires_at"
        case revokedAt = "revoked_at"
        case lastUsedAt = "last_used_at"
        case createdAt = "created_at"
    }

    init(_ record: APIKeyRecord, key: String? = nil) {
        self.record = record
        self.key = key
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(record.id.lowercasedString, forKey: .id)
        try container.encode(record.name, forKey: .name)
        try container.encode(record.displayPrefix, forKey: .prefix)
        try container.encode(record.scopes.sorted().map(\.rawValue), forKey: .scopes)
        try container.encode(record.createdBy, forKey: .createdBy)
        try container.encode(record.expiresAt, forKey: .expiresAt)
        try container.encode(record.revokedAt, forKey: .revokedAt)
        try container.encode(record.lastUsedAt, forKey: .lastUsedAt)
        try container.encode(record.createdAt, forKey: .createdAt)
        try container.encodeIfPresent(key, forKey: .key)
    }
}

struct APIKeyCreateBody: StrictJSONBody {
    static let fields: Set<String> = ["name", "scopes", "expires_at"]
    let name: String
    let scopes: [APIKeyScope]?
    let expiresAt: Date?

    enum CodingKeys: String, CodingKey {
        case name, scopes
        case expiresAt = "expires_at"
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        expiresAt = try container.decodeIfPresent(Date.self, forKey: .expiresAt)
        // Decoded as strings first so an unknown scope gets a message that lists the valid ones.
        let names = try container.decodeIfPresent([String].self, forKey: .scopes)
        scopes = try names?.map { name in
            guard let scope = APIKeyScope(rawValue: name) else {
                throw SwitchyardError.validation("Unknown scope '\(name)'. Scopes: \(APIKeyScope.allCases.map(\.rawValue).joined(separator: ", ")).")
            }
            return scope
        }
    }

    func validate() throws(SwitchyardError) {
        try TenantRules.validate(name: name)
        if let scopes, scopes.isEmpty { throw .validation("scopes must name at least one scope.") }
        if let scopes, Set(scopes).count != scopes.count { throw .validation("scopes must not name a scope twice.") }
        if let expiresAt, expiresAt <= Date() { throw .validation("expires_at must be in the future.") }
    }

    /// Without `scopes`, a key may read and write; `credentials:read` is only ever granted by name.
    func newKey(createdBy: String) -> NewAPIKey {
        NewAPIKey(name: name, scopes: Set(scopes ?? [.read, .write]), expiresAt: expiresAt, createdBy: createdBy)
    }
}
