import Foundation
import Logging
import SwitchyardCore
import SwitchyardPostgres
import Synchronization

/// Resolves a bearer token to a principal.
///
/// Tenant keys are checked for shape and checksum first (no database trip for garbage), then looked up
/// by SHA-256. Successful lookups are cached for `cacheTTL` so a busy key does not cost a transaction per
/// request; revoking through this process evicts at once, other processes notice within the TTL.
public final class Authenticator: Sendable {
    public static let cacheTTL: Duration = .seconds(5)

    private struct CachedKey {
        let record: APIKeyRecord
        let expires: ContinuousClock.Instant
    }

    private let adminKey: String?
    private let database: Database
    private let cache = Mutex<[Data: CachedKey]>([:])

    public init(adminKey: String?, database: Database) {
        self.adminKey = adminKey
        self.database = database
    }

    public func authenticate(bearer token: Substring, logger: Logger) async throws -> Principal {
        if let secret = APIKeySecret(parsing: token) {
            return .tenant(try await tenantCaller(for: secret, logger: logger))
        }
        if let adminKey, ConstantTime.secretsEqual(token, adminKey) {
            return .operator
        }
        throw SwitchyardError.unauthorized("The API key is not valid.")
    }

    /// Forgets a key so the next request with it is checked against the database.
    public func evict(keyID: UUID) {
        cache.withLock { cache in
            cache = cache.filter { $0.value.record.id != keyID }
        }
    }

    private func tenantCaller(for secret: APIKeySecret, logger: Logger) async throws -> TenantCaller {
        let hash = secret.hash
        let cacheKey = Data(hash)
        let now = ContinuousClock.now
        let cached = cache.withLock { $0[cacheKey].flatMap { $0.expires > now ? $0.record : nil } }
        let record: APIKeyRecord
        if let cached {
            record = cached
        } else {
            guard let found = try await database.withOperator(logger: logger, { try await $0.authenticateAPIKey(hash: hash) }) else {
                throw SwitchyardError.unauthorized("The API key is not valid.")
            }
            record = found
            cache.withLock { cache in
                if cache.count > 10_000 { cache.removeAll() }  // bounded; refilled by the next requests
                cache[cacheKey] = CachedKey(record: found, expires: now + Self.cacheTTL)
            }
        }
        if record.revokedAt != nil {
            throw SwitchyardError.unauthorized("The API key has been revoked.")
        }
        if let expiresAt = record.expiresAt, expiresAt <= Date() {
            throw SwitchyardError.unauthorized("The API key has expired.")
        }
        return TenantCaller(tenantID: record.tenantID, key: record)
    }
}
