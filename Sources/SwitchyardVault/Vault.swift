import Foundation
import SwitchyardCore
import Synchronization

/// How data keys are used: how long an unwrapped key stays in memory and when a key is retired.
public struct DataKeyPolicy: Sendable {
    /// An unwrapped data key is forgotten after this long, so a key removed elsewhere (a deleted tenant)
    /// stops working here too. Zero disables the cache.
    public var cacheTTL: Duration
    public var maxCachedKeys: Int
    /// Encryptions after which a tenant's active key is retired and a new one created (REQUIREMENTS EN-5).
    /// 2^30 stays far below the 2^32 that random 96-bit nonces allow (NIST SP 800-38D 8.3).
    public var encryptionBudget: Int64
    /// How long past `cacheTTL` a cached key keeps serving while the key service is unavailable
    /// (`KeyProviderUnavailable`): a KMS outage does not stop reads of keys this process had unwrapped. The row of
    /// the key is still read first, so a deleted tenant's key stops working all the same; a refusal (a disabled
    /// KMS key, access denied) is never answered from the cache.
    public var staleWhileUnavailable: Duration

    public init(
        cacheTTL: Duration = .seconds(300),
        maxCachedKeys: Int = 10_000,
        encryptionBudget: Int64 = 1 << 30,
        staleWhileUnavailable: Duration = .seconds(3600)
    ) {
        self.cacheTTL = cacheTTL
        self.maxCachedKeys = maxCachedKeys
        self.encryptionBudget = encryptionBudget
        self.staleWhileUnavailable = staleWhileUnavailable
    }
}

/// The process's view of envelope encryption: the key-encryption-key provider plus a bounded cache
/// of unwrapped data keys. Data keys themselves live in `tenant_data_keys`; see `TenantTransaction+Secrets`.
public final class Vault: Sendable {
    public let provider: any KeyEncryptionKeyProvider
    public let policy: DataKeyPolicy

    private struct CachedKey {
        let tenant: TenantID
        let key: DataKey
        let expires: ContinuousClock.Instant
    }

    private let cache = Mutex<[UUID: CachedKey]>([:])
    /// Until when expired cached keys are served without asking the provider first: set by an unavailable provider,
    /// so that while KMS hangs each read does not wait for its deadlines before falling back to the cache.
    private let servingStaleUntil = Mutex<ContinuousClock.Instant?>(nil)
    /// The unwraps in progress: concurrent readers of a key whose cache entry expired share one (with AWS KMS, one
    /// `Decrypt` call instead of one per reader).
    private let unwraps = Mutex<[PendingUnwrap: Task<KeyMaterial, any Error>]>([:])

    /// One unwrap: the tenant and key id bound into its context, and the wrapped bytes (a reader that read the row
    /// before a rewrap and one that read it after do not share an unwrap).
    private struct PendingUnwrap: Hashable {
        let tenant: TenantID
        let id: UUID
        let ciphertext: [UInt8]
    }

    public init(provider: any KeyEncryptionKeyProvider, policy: DataKeyPolicy = DataKeyPolicy()) {
        self.provider = provider
        self.policy = policy
    }

    /// The wrap context of a data key: its tenant and its own id (REQUIREMENTS EN-1).
    package static func context(tenant: TenantID, dataKeyID: UUID) -> WrapContext {
        WrapContext(["tenant_id": tenant.description, "data_key_id": dataKeyID.lowercasedString])
    }

    /// A new random data key for `tenant`, and its wrapped form to store.
    package func makeDataKey(for tenant: TenantID) async throws -> (key: DataKey, wrapped: WrappedDataKey) {
        let id = UUID.v7()
        let (material, wrapped) = try await provider.generateDataKey(context: Self.context(tenant: tenant, dataKeyID: id))
        let key = DataKey(id: id, material: material)
        remember(key, tenant: tenant)
        return (key, wrapped)
    }

    /// The unwrapped data key `id` of `tenant`, from the cache or by unwrapping `wrapped()`.
    package func dataKey(_ id: UUID, tenant: TenantID, wrapped: () async throws -> WrappedDataKey?) async throws -> DataKey {
        let now = ContinuousClock.now
        let cached = cache.withLock { $0[id] }.flatMap { $0.tenant == tenant ? $0 : nil }
        if let cached, cached.expires > now {
            return cached.key
        }
        guard let stored = try await wrapped() else { throw VaultError.dataKeyNotFound }
        let stale = cached.flatMap { $0.expires + policy.staleWhileUnavailable > now ? $0.key : nil }
        if let stale, let until = servingStaleUntil.withLock({ $0 }), now < until { return stale }
        let material: KeyMaterial
        do {
            material = try await sharedUnwrap(stored, id: id, tenant: tenant)
        } catch let error as KeyProviderUnavailable {
            servingStaleUntil.withLock { $0 = ContinuousClock.now + .seconds(10) }
            if let stale { return stale }
            throw error
        }
        let key = DataKey(id: id, material: material)
        remember(key, tenant: tenant)
        return key
    }

    /// Unwraps `stored`, or waits for the same unwrap already under way and shares its outcome.
    private func sharedUnwrap(_ stored: WrappedDataKey, id: UUID, tenant: TenantID) async throws -> KeyMaterial {
        let pending = PendingUnwrap(tenant: tenant, id: id, ciphertext: stored.ciphertext)
        let unwrap = unwraps.withLock { unwraps in
            if let running = unwraps[pending] { return running }
            let started = Task { [provider] in
                defer { _ = self.unwraps.withLock { $0.removeValue(forKey: pending) } }
                return try await provider.unwrap(stored, context: Self.context(tenant: tenant, dataKeyID: id))
            }
            unwraps[pending] = started
            return started
        }
        return try await unwrap.value
    }

    /// Forgets every cached key of `tenant` (after its deletion or a key rotation).
    public func forget(tenant: TenantID) {
        cache.withLock { cache in cache = cache.filter { $0.value.tenant != tenant } }
    }

    private func remember(_ key: DataKey, tenant: TenantID) {
        guard policy.cacheTTL > .zero else { return }
        let entry = CachedKey(tenant: tenant, key: key, expires: .now + policy.cacheTTL)
        cache.withLock { cache in
            if cache.count >= policy.maxCachedKeys {
                let now = ContinuousClock.now
                cache = cache.filter { $0.value.expires + policy.staleWhileUnavailable > now }
                if cache.count >= policy.maxCachedKeys { cache.removeAll() }  // bounded; refilled on demand
            }
            cache[key.id] = entry
        }
    }

    // MARK: - Platform secrets

    /// The tenant id bound into platform secrets' associated data: no real tenant has it.
    package static let platformScope = TenantID(UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)))

    package static func platformContext(table: String, row: UUID) -> WrapContext {
        WrapContext(["scope": "platform", "table": table, "row": row.lowercasedString])
    }

    /// Seals a secret that belongs to no tenant under a fresh data key of its own, returned wrapped.
    package func sealPlatformSecret(
        _ plaintext: some Collection<UInt8>,
        table: String,
        row: UUID,
        field: String
    ) async throws -> (sealed: SealedSecret, wrapped: WrappedDataKey) {
        let (material, wrapped) = try await provider.generateDataKey(context: Self.platformContext(table: table, row: row))
        let key = DataKey(id: row, material: material)
        let sealed = try key.seal(plaintext, for: SecretBinding(tenant: Self.platformScope, table: table, row: row, field: field))
        return (sealed, wrapped)
    }

    package func openPlatformSecret(
        _ sealed: some Collection<UInt8>,
        wrapped: WrappedDataKey,
        table: String,
        row: UUID,
        field: String
    ) async throws -> [UInt8] {
        let material = try await provider.unwrap(wrapped, context: Self.platformContext(table: table, row: row))
        return try DataKey(id: row, material: material).open(
            try SealedSecret(bytes: sealed),
            for: SecretBinding(tenant: Self.platformScope, table: table, row: row, field: field)
        )
    }
}
