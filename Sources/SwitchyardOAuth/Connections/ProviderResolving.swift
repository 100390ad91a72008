import SwitchyardPostgres
import SwitchyardProviders

/// Finds the definition of a provider a tenant may use (built-in or the tenant's own).
public protocol ProviderResolving: Sendable {
    func provider(_ id: String, in transaction: TenantTransaction) async throws -> ProviderDefinition?
    /// Hosts reachable over plain http (development and tests only).
    var allowedHTTPHosts: Set<String> { get }
    /// The bounded metrics label for a provider: its id when built in, else `custom`.
    func metricsLabel(for provider: ProviderDefinition) -> String
}
