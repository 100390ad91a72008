import SwitchyardCore

/// A set of provider definitions with unique ids, listed in id order.
public struct ProviderCatalog: Sendable {
    /// Every provider, sorted by id so listings are stable.
    public let providers: [ProviderDefinition]
    private let byID: [String: ProviderDefinition]

    /// A catalog of `providers`; two with the same id are an error.
    public init(_ providers: [ProviderDefinition]) throws(ProviderCatalogError) {
        var byID: [String: ProviderDefinition] = [:]
        for provider in providers {
            guard byID.updateValue(provider, forKey: provider.id) == nil else { throw .duplicateID(provider.id) }
        }
        self.byID = byID
        self.providers = providers.sorted { $0.id < $1.id }
    }

    /// The provider with this id, if any.
    public func provider(id: String) -> ProviderDefinition? {
        byID[id]
    }

    /// The provider with this id, or the API's 404.
    public func requireProvider(id: String) throws(SwitchyardError) -> ProviderDefinition {
        guard let provider = byID[id] else { throw .notFound("Provider '\(printable(id))'") }
        return provider
    }

    /// Whether a provider with this id exists.
    public func contains(id: String) -> Bool {
        byID[id] != nil
    }

    /// Checks an id a tenant wants for a custom provider: a valid slug (422) not taken by this catalog (409).
    public func checkCustomProviderID(_ id: String) throws(SwitchyardError) {
        guard ProviderDefinition.isValidID(id) else {
            throw .validation("id must be 1 to 63 characters of a-z, 0-9 and '-', not starting or ending with '-'.")
        }
        guard !contains(id: id) else {
            throw .conflict("Provider id '\(id)' is taken by a built-in provider; choose another.")
        }
    }
}

/// Why a catalog could not be built.
public enum ProviderCatalogError: Error, Sendable, Hashable, CustomStringConvertible {
    case duplicateID(String)

    public var description: String {
        switch self {
        case .duplicateID(let id): "Two providers have the id '\(printable(id))'."
        }
    }
}
