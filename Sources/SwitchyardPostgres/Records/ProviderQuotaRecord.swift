import PostgresNIO
import SwitchyardCore

/// What one lease took from a provider account's shared quota (`provider_quotas`).
public enum ProviderQuotaLease: Sendable, Equatable {
    /// No window is known (no row, or its window has ended): nothing was taken.
    case unknown
    /// `tokens` (at least 1) were taken, to be sent in the next `spendLeft` seconds (before the window's earliest end).
    case granted(tokens: Int, spendLeft: Double)
    /// Nothing may be sent for `wait` seconds: the window is spent or about to end, or a 429 blocked the key.
    case exhausted(wait: Double)
}

extension RateLimiterTransaction {
    /// Reports what a process saw of `key`'s quota since its last lease and takes up to `want` tokens from it.
    ///
    /// `announced` opens a window when the row has none current, and otherwise
    /// can only lower `remaining`: the row keeps the ends it was opened with. `sentUnleased` requests went out without
    /// tokens: they are taken off what is left, except the one whose response made the announcement that opens a window
    /// (the provider counted it). A lease takes an eighth of what is left, at least 1 and at most `want`, so that the
    /// processes share the end of a window a token at a time; none is granted after the window's earliest end
    /// (`spend_ends_at`), and the row stands until its latest (`window_ends_at`). The row is locked for the transaction:
    /// concurrent leases of a key queue on it.
    public func leaseProviderQuota(
        tenant: TenantID,
        key: String,
        want: Int,
        announced: AnnouncedQuotaWindow?,
        sentUnleased: Int
    ) async throws -> ProviderQuotaLease {
        var unleased = sentUnleased
        if let announced, announced.endsIn > .zero {
            try await query(
                """
                INSERT INTO provider_quotas AS q (tenant_id, limiter_key, remaining, spend_ends_at, window_ends_at, updated_at)
                VALUES (\(tenant.rawValue), \(key), greatest(0, \(announced.remaining) - greatest(0, \(sentUnleased) - 1)),
                        clock_timestamp() + make_interval(secs => \(min(announced.spendableFor, announced.endsIn).inSeconds)),
                        clock_timestamp() + make_interval(secs => \(announced.endsIn.inSeconds)), clock_timestamp())
                ON CONFLICT (tenant_id, limiter_key) DO UPDATE
                   SET (remaining, spend_ends_at, window_ends_at, updated_at) = (
                       CASE WHEN q.window_ends_at <= clock_timestamp() THEN excluded.remaining
                            ELSE greatest(0, least(q.remaining - \(sentUnleased), \(announced.remaining))) END,
                       CASE WHEN q.window_ends_at <= clock_timestamp() THEN excluded.spend_ends_at ELSE q.spend_ends_at END,
                       CASE WHEN q.window_ends_at <= clock_timestamp() THEN excluded.window_ends_at ELSE q.window_ends_at END,
                       clock_timestamp())
                """
            )
            unleased = 0
        }
        let rows = try await query(
            """
            SELECT remaining,
                   extract(epoch FROM spend_ends_at - clock_timestamp())::float8 AS spend_left,
                   extract(epoch FROM window_ends_at - clock_timestamp())::float8 AS window_left,
                   coalesce(extract(epoch FROM blocked_until - clock_timestamp())::float8, 0) AS blocked_left
              FROM provider_quotas
             WHERE tenant_id = \(tenant.rawValue) AND limiter_key = \(key)
               FOR UPDATE
            """
        ).collect()
        guard let first = rows.first else { return .unknown }
        let row = NamedRow(first, table: "provider_quotas")
        let remaining = Int(try row("remaining") as Int32)
        let spendLeft: Double = try row("spend_left")
        let windowLeft: Double = try row("window_left")
        let blockedLeft: Double = try row("blocked_left")
        if blockedLeft > 0 { return .exhausted(wait: blockedLeft) }
        guard windowLeft > 0 else { return .unknown }
        let left = max(0, remaining - unleased)
        let granted = spendLeft > 0 ? min(left, want, max(1, (left + 7) / 8)) : 0
        if granted != 0 || left != remaining {
            try await query(
                """
                UPDATE provider_quotas SET remaining = \(left - granted), updated_at = clock_timestamp()
                 WHERE tenant_id = \(tenant.rawValue) AND limiter_key = \(key)
                """
            )
        }
        return granted > 0 ? .granted(tokens: granted, spendLeft: spendLeft) : .exhausted(wait: windowLeft)
    }

    /// Blocks `key` for every process for `seconds` (a 429's `Retry-After`): its window has nothing left until then.
    public func blockProviderQuota(tenant: TenantID, key: String, seconds: Double) async throws {
        try await query(
            """
            INSERT INTO provider_quotas AS q (tenant_id, limiter_key, remaining, spend_ends_at, window_ends_at, blocked_until, updated_at)
            VALUES (\(tenant.rawValue), \(key), 0, clock_timestamp(), clock_timestamp() + make_interval(secs => \(seconds)),
                    clock_timestamp() + make_interval(secs => \(seconds)), clock_timestamp())
            ON CONFLICT (tenant_id, limiter_key) DO UPDATE
               SET (remaining, window_ends_at, blocked_until, updated_at) = (
                   0, greatest(q.window_ends_at, excluded.window_ends_at), greatest(q.blocked_until, excluded.blocked_until),
                   clock_timestamp())
            """
        )
    }

    /// Deletes up to `limit` quotas whose window and block have both ended (the same as no row); returns how many.
    @discardableResult
    public func pruneEndedProviderQuotas(limit: Int = 5000) async throws -> Int {
        try await query(
            """
            DELETE FROM provider_quotas
             WHERE (tenant_id, limiter_key) IN (
                   SELECT tenant_id, limiter_key FROM provider_quotas
                    WHERE window_ends_at < clock_timestamp() AND coalesce(blocked_until, window_ends_at) < clock_timestamp()
                    LIMIT \(limit))
               AND window_ends_at < clock_timestamp() AND coalesce(blocked_until, window_ends_at) < clock_timestamp()
            RETURNING 1
            """
        ).collect().count
    }
}
