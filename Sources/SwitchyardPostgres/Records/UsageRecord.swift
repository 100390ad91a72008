import Foundation
import PostgresNIO
import SwitchyardCore

/// How finely usage is summed: per hour (as stored) or per UTC day.
public enum UsageGranularity: String, Sendable, CaseIterable {
    case hour
    case day
}

/// One counter summed over one bucket: a point of a usage series.
public struct UsageRow: Sendable, Equatable {
    /// The tenant, in the operator's view; `nil` in a tenant's own.
    public let tenantID: TenantID?
    /// The bucket's start (UTC).
    public let bucket: Date
    public let metric: String
    public let dimension: String
    public let value: Int64
}

extension UsageWriterTransaction {
    /// Adds `counts` to their counters in one statement, creating the ones that do not exist. The rows are written
    /// in key order so that two processes flushing the same counters lock them in the same order.
    public func add(_ counts: [UsageCount]) async throws {
        guard !counts.isEmpty else { return }
        try await query(
            """
            INSERT INTO usage_counters (tenant_id, bucket, metric, dimension, value)
            SELECT c.tenant_id, c.bucket, c.metric, c.dimension, c.value
              FROM unnest(\(counts.map(\.tenantID.rawValue))::uuid[], \(counts.map(\.bucket))::timestamptz[],
                          \(counts.map(\.metric.rawValue))::text[], \(counts.map(\.dimension))::text[],
                          \(counts.map(\.value))::int8[]) AS c(tenant_id, bucket, metric, dimension, value)
             ORDER BY c.tenant_id, c.bucket, c.metric, c.dimension
            ON CONFLICT (tenant_id, bucket, metric, dimension) DO UPDATE SET value = usage_counters.value + EXCLUDED.value
            """
        )
    }

    /// Deletes the counters of hours before `cutoff`; returns how many.
    @discardableResult
    public func prune(before cutoff: Date) async throws -> Int {
        try await query("DELETE FROM usage_counters WHERE bucket < \(cutoff) RETURNING 1").collect().count
    }
}

extension TenantTransaction {
    /// The tenant's usage in `[from, to)`, summed per `granularity`, ordered by metric, dimension and time.
    public func usage(from: Date, to: Date, granularity: UsageGranularity) async throws -> [UsageRow] {
        try await UsageQuery.rows(of: self, tenant: tenantID, perTenant: false, from: from, to: to, granularity: granularity)
    }
}

extension OperatorTransaction {
    /// Every tenant's usage (or one tenant's), per tenant, in `[from, to)`.
    public func usage(tenant: TenantID?, from: Date, to: Date, granularity: UsageGranularity) async throws -> [UsageRow] {
        try await UsageQuery.rows(of: self, tenant: tenant, perTenant: true, from: from, to: to, granularity: granularity)
    }
}

enum UsageQuery {
    static func rows(
        of scope: some ConnectionScope,
        tenant: TenantID?,
        perTenant: Bool,
        from: Date,
        to: Date,
        granularity: UsageGranularity
    ) async throws -> [UsageRow] {
        let rows = try await scope.query(
            """
            SELECT CASE WHEN \(perTenant) THEN tenant_id END AS tenant_id,
                   date_trunc(\(granularity.rawValue), bucket, 'UTC') AS bucket, metric, dimension, sum(value)::int8 AS value
              FROM usage_counters
             WHERE bucket >= \(from) AND bucket < \(to)
               AND (\(tenant?.rawValue)::uuid IS NULL OR tenant_id = \(tenant?.rawValue))
             GROUP BY 1, 2, 3, 4
             ORDER BY 3, 4, 1, 2
            """
        ).collect()
        return try rows.map { result in
            let row = NamedRow(result, table: "usage_counters")
            let tenantID: UUID? = try row("tenant_id")
            return UsageRow(
                tenantID: tenantID.map(TenantID.init),
                bucket: try row("bucket"),
                metric: try row("metric"),
                dimension: try row("dimension"),
                value: try row("value")
            )
        }
    }
}
