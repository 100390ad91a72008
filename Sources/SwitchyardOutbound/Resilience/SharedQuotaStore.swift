import SwitchyardCore

/// Where the processes calling one provider account keep its learned quota together (issue 18): PostgreSQL in
/// production (`PostgresProviderQuotaStore`), through ``SharedProviderQuota``, which leases from it a few tokens at a
/// time. Instants are durations from the store's clock at the call, so the processes' clocks need not agree.
public protocol SharedQuotaStore: Sendable {
    /// Reports what this process saw since its last lease of `key` and asks for up to `want` tokens of the window.
    func lease(_ request: SharedQuotaLeaseRequest) async throws -> SharedQuotaLease
    /// Blocks `key` for `duration` for every process (a 429's `Retry-After`); its window has nothing left until then.
    func block(tenant: TenantID, key: String, for duration: Duration) async throws
}

/// One lease: what a process reports of a key's quota and what it asks for.
public struct SharedQuotaLeaseRequest: Sendable, Equatable {
    public var tenant: TenantID
    public var key: String
    /// The most tokens to take; the store grants fewer when little is left (see its `lease`).
    public var want: Int
    /// What this process's responses announced of the current window since its last lease, if anything.
    public var announced: AnnouncedQuotaWindow?
    /// Requests this process sent for `key` without a leased token since its last lease (its probes of a new window):
    /// the store takes them off what is left, unless they are counted in the announcement that opens the window.
    public var sentUnleased: Int

    public init(tenant: TenantID, key: String, want: Int, announced: AnnouncedQuotaWindow?, sentUnleased: Int) {
        self.tenant = tenant
        self.key = key
        self.want = want
        self.announced = announced
        self.sentUnleased = sentUnleased
    }
}

/// What the store answered to a lease.
public enum SharedQuotaLease: Sendable, Equatable {
    /// No quota is known for the current window: the process sends on its own until its responses announce one.
    case unknown
    /// `tokens` requests may be sent in the next `spendableFor` (until the window's earliest possible end).
    case granted(tokens: Int, spendableFor: Duration)
    /// Nothing may be sent for `retryIn`: the window is spent, is about to end, or a 429 blocked the key.
    case exhausted(retryIn: Duration)
}
