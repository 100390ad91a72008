import Foundation
import SwitchyardCore
import SwitchyardPostgres

/// A sync definition as a tenant sees it: built in (version 1, read-only) or its own, with its version.
public struct ResolvedSync: Sendable {
    public let provider: String
    public let definition: SyncDefinition
    public let version: Int
    public let builtIn: Bool
    public let updatedAt: Date?

    public init(provider: String, definition: SyncDefinition, version: Int, builtIn: Bool, updatedAt: Date?) {
        self.provider = provider
        self.definition = definition
        self.version = version
        self.builtIn = builtIn
        self.updatedAt = updatedAt
    }
}

/// Finds the syncs of a provider for a tenant: the built-in ones first, then the tenant's own.
public enum SyncDirectory {
    public static func syncs(provider: String, in transaction: TenantTransaction) async throws -> [ResolvedSync] {
        let builtIn = (SyncCatalog.builtIn[provider] ?? []).map {
            ResolvedSync(provider: provider, definition: $0, version: 1, builtIn: true, updatedAt: nil)
        }
        let own = try await transaction.syncDefinitions(provider: provider).map(resolve)
        return builtIn + own
    }

    public static func sync(provider: String, name: String, in transaction: TenantTransaction) async throws -> ResolvedSync? {
        if let builtIn = SyncCatalog.builtIn(provider: provider, name: name) {
            return ResolvedSync(provider: provider, definition: builtIn, version: 1, builtIn: true, updatedAt: nil)
        }
        return try await transaction.syncDefinition(provider: provider, name: name).map(resolve)
    }

    static func resolve(_ record: SyncDefinitionRecord) throws -> ResolvedSync {
        let definition = try JSONText.decode(SyncDefinition.self, record.definition, column: "sync_definitions.definition")
        return ResolvedSync(provider: record.provider, definition: definition, version: record.version, builtIn: false, updatedAt: record.updatedAt)
    }

    /// The stored form of a definition.
    public static func encode(_ definition: SyncDefinition) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(definition), as: UTF8.self)
    }
}
