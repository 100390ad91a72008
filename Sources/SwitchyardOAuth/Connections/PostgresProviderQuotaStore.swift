import Logging
import SwitchyardCore
import SwitchyardOutbound
import SwitchyardPostgres

/// The outbound client's shared provider quotas in PostgreSQL (`provider_quotas`, migration 0037): every `serve` and
/// `executor` process given one spends each provider account's quota together with the others (issue 18).
///
/// It lives here, beside the integration calls that name their tenant, because SwitchyardOutbound knows no database.
public struct PostgresProviderQuotaStore: SharedQuotaStore {
    private let database: Database
    private let logger: Logger

    public init(database: Database, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    public func lease(_ request: SharedQuotaLeaseRequest) async throws -> SharedQuotaLease {
        let lease = try await guarded {
            try await database.withRateLimiter(logger: logger) { transaction in
                try await transaction.leaseProviderQuota(
                    tenant: request.tenant,
                    key: request.key,
                    want: request.want,
                    announced: request.announced,
                    sentUnleased: request.sentUnleased
                )
            }
        }
        return switch lease {
        case .unknown: .unknown
        case .granted(let tokens, let spendLeft): .granted(tokens: tokens, spendableFor: .seconds(spendLeft))
        case .exhausted(let wait): .exhausted(retryIn: .seconds(wait))
        }
    }

    public func block(tenant: TenantID, key: String, for duration: Duration) async throws {
        try await guarded {
            try await database.withRateLimiter(logger: logger) {
                try await $0.blockProviderQuota(tenant: tenant, key: key, seconds: duration.inSeconds)
            }
        }
    }

    /// Database errors reach the outbound client's log without their SQL or connection details.
    private func guarded<Result: Sendable>(_ body: () async throws -> Result) async throws -> Result {
        do {
            return try await body()
        } catch let error as CancellationError {
            throw error
        } catch {
            throw SwitchyardError.internal("provider_quotas: \(loggableDescription(of: error))")
        }
    }
}
