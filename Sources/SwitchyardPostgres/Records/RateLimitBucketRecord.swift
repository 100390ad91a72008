import Foundation
import PostgresNIO
import SwitchyardCore

/// What one lease took from a key's shared bucket (`rate_limit_buckets`).
public struct RateLimitLease: Sendable, Equatable {
    /// The tokens granted: all that were asked for, or none when the bucket held fewer.
    public let granted: Int
    /// What the bucket holds after the lease.
    public let tokensLeft: Double
}

extension RateLimiterTransaction {
    /// For each API key in `keys` (its tenant and its id), in one statement: refills the key's bucket by the time
    /// elapsed since it was last written (at `ratePerSecond`, up to `burst`) and takes `tokens` from it when it holds
    /// that many; a key without a row starts from a full bucket. Concurrent leases of one key queue on its row, and
    /// each refills from where the previous one left it, so however many processes lease, the tokens granted over any
    /// time T never exceed burst + rate x T. The rows are taken in key order, so that two processes' batches over the
    /// same keys queue on them instead of deadlocking; a key given twice leases once.
    ///
    /// All or nothing, so that a process at the limit comes back once per lease's worth of refill, not once per
    /// token. `tokens` must be at most `burst`.
    public func lease(
        _ keys: [TenantScopedID],
        tokens: Int,
        ratePerSecond: Double,
        burst: Int
    ) async throws -> [TenantScopedID: RateLimitLease] {
        let distinct = Array(Set(keys))
        let burst = Double(burst)
        // The clock is read after the row lock is taken (`clock_timestamp()` in the SET runs once the conflicting row
        // is locked), so a lease that waited for another never refills for time the other already counted.
        let rows = try await query(
            """
            INSERT INTO rate_limit_buckets AS b (tenant_id, api_key_id, tokens, granted, updated_at, full_at)
            SELECT k.tenant_id, k.api_key_id, \(burst - Double(tokens)), \(tokens), clock_timestamp(),
                   clock_timestamp() + make_interval(secs => \(Double(tokens) / ratePerSecond))
              FROM unnest(\(distinct.map(\.tenant))::uuid[], \(distinct.map(\.id))::uuid[]) AS k(tenant_id, api_key_id)
             ORDER BY k.tenant_id, k.api_key_id
            ON CONFLICT (tenant_id, api_key_id) DO UPDATE
               SET (tokens, granted, updated_at, full_at) = (
                   SELECT r.tokens - g.granted, g.granted, r.at,
                          r.at + make_interval(secs => (\(burst) - (r.tokens - g.granted)) / \(ratePerSecond))
                     FROM (SELECT c.at,
                                  least(\(burst), b.tokens + \(ratePerSecond) * greatest(0, extract(epoch FROM c.at - b.updated_at)::float8)) AS tokens
                             FROM (SELECT clock_timestamp() AS at) AS c) AS r,
                          LATERAL (SELECT CASE WHEN r.tokens >= \(tokens) THEN \(tokens) ELSE 0 END AS granted) AS g)
            RETURNING tenant_id, api_key_id, granted, tokens
            """
        ).collect()
        var leases: [TenantScopedID: RateLimitLease] = [:]
        for result in rows {
            let row = NamedRow(result, table: "rate_limit_buckets")
            let granted: Int32 = try row("granted")
            let key = TenantScopedID(tenant: try row("tenant_id"), id: try row("api_key_id"))
            leases[key] = RateLimitLease(granted: Int(granted), tokensLeft: try row("tokens"))
        }
        return leases
    }

    /// Deletes up to `limit` buckets that are full again (the same as no row); returns how many.
    @discardableResult
    public func pruneFullBuckets(limit: Int = 5000) async throws -> Int {
        try await query(
            """
            DELETE FROM rate_limit_buckets
             WHERE (tenant_id, api_key_id) IN (SELECT tenant_id, api_key_id FROM rate_limit_buckets WHERE full_at < clock_timestamp() LIMIT \(limit))
               AND full_at < clock_timestamp()
            RETURNING 1
            """
        ).collect().count
    }
}
