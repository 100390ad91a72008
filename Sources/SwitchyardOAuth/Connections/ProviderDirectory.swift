import Foundation
import SwitchyardCore
import SwitchyardPostgres
import SwitchyardProviders

/// Finds a provider for a tenant: the built-in catalog first, then the tenant's own definitions.
public struct ProviderDirectory: ProviderResolving {
    public let builtIn: ProviderCatalog
    /// Hosts reachable over plain http (development and tests only; REQUIREMENTS API-5).
    public let allowedHTTPHosts: Set<String>

    public init(builtIn: ProviderCatalog, allowedHTTPHosts: Set<String>) {
        self.builtIn = builtIn
        self.allowedHTTPHosts = allowedHTTPHosts
    }

    public func provider(_ id: String, in transaction: TenantTransaction) async throws -> ProviderDefinition? {
        if let provider = builtIn.provider(id: id) { return provider }
        return try await transaction.customProvider(id).map { try Self.decode($0.definition) }
    }

    /// Every provider the tenant can use, built-in first, each list in id order.
    public func providers(in transaction: TenantTransaction) async throws -> [ProviderDefinition] {
        builtIn.providers + (try await transaction.customProviders().map { try Self.decode($0.definition) })
    }

    public func metricsLabel(for provider: ProviderDefinition) -> String {
        builtIn.contains(id: provider.id) ? provider.id : "custom"
    }

    public static func decode(_ json: String) throws -> ProviderDefinition {
        do {
            return try JSONDecoder().decode(ProviderDefinition.self, from: Data(json.utf8))
        } catch {
            // Stored definitions were validated on the way in; one that no longer decodes is our bug.
            throw SwitchyardError.internal("a stored custom provider definition no longer decodes: \(error)")
        }
    }

    public static func encode(_ provider: ProviderDefinition) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(provider), as: UTF8.self)
    }
}
