import Foundation
import Logging
import SwitchyardCore
import SwitchyardPostgres

/// Resolves a bearer token to a principal.
///
/// Tenant keys are checked for shape and checksum first (no database trip for garbage), then looked up
/// by SHA-256. Successful lookups are cached for `cacheTTL` so a busy key does not cost a transaction per
/// request (nor one per concurrent request when its entry expires); revoking through this process evicts at once, other processes notice within the TTL.
/// A key used in the last second of its entry's life is looked up again in the background, so that a steadily used key
/// never waits for its lookup (`bench api`'s paced p99 over 64 keys was set by those waits).
public final class Authenticator: Sendable {
    public static let cacheTTL: Duration = .seconds(5)

    private let adminKey: String?
    private let database: Database
    private let cache = ExpiringCache<Data, APIKeyRecord>(timeToLive: cacheTTL, refreshAhead: cacheTTL / 5, capacity: 10_000)

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
        cache.removeAll { $0.id == keyID }
    }

    private func tenantCaller(for secret: APIKeySecret, logger: Logger) async throws -> TenantCaller {
        let hash = secret.hash
        let cacheKey = Data(hash)
        // Concurrent requests with a key whose entry expired share one lookup; an unknown key is not cached.
        let record = try await cache.value(for: cacheKey) { [database] in
            guard let found = try await database.withOperator(logger: logger, { try await $0.authenticateAPIKey(hash: hash) }) else {
                throw SwitchyardError.unauthorized("The API key is not valid.")
            }
            return found
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
