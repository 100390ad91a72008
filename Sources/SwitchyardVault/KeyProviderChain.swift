/// A primary key-encryption-key provider that wraps every new data key, and others that only unwrap the keys they
/// wrapped before: how a process reads keys on both sides while `switchyard keys rewrap` moves them from the local
/// keyring to AWS KMS or back.
public struct KeyProviderChain: KeyEncryptionKeyProvider {
    public let primary: any KeyEncryptionKeyProvider
    public let others: [any KeyEncryptionKeyProvider]

    public init(primary: any KeyEncryptionKeyProvider, others: [any KeyEncryptionKeyProvider]) {
        self.primary = primary
        self.others = others
    }

    public func primaryVersion() async throws -> KEKVersion { try await primary.primaryVersion() }

    public func availableVersions() async throws -> [KEKVersion] {
        var versions = try await primary.availableVersions()
        for other in others {
            for version in try await other.availableVersions() where !versions.contains(version) { versions.append(version) }
        }
        return versions
    }

    public func wrap(_ dataKey: KeyMaterial, context: WrapContext) async throws -> WrappedDataKey {
        try await primary.wrap(dataKey, context: context)
    }

    public func generateDataKey(context: WrapContext) async throws -> (material: KeyMaterial, wrapped: WrappedDataKey) {
        try await primary.generateDataKey(context: context)
    }

    public func unwrap(_ wrapped: WrappedDataKey, context: WrapContext) async throws -> KeyMaterial {
        for provider in [primary] + others {
            if await provider.canUnwrap(wrapped.kek) { return try await provider.unwrap(wrapped, context: context) }
        }
        throw VaultError.unknownKEKVersion(wrapped.kek)
    }

    public func canUnwrap(_ version: KEKVersion) async -> Bool {
        for provider in [primary] + others {
            if await provider.canUnwrap(version) { return true }
        }
        return false
    }
}
