import Foundation
import Logging
import SwitchyardCore
import SwitchyardMetrics
import SwitchyardPostgres
import Synchronization

/// A tenant key's rate limit held across every `serve` process: a token bucket per key in PostgreSQL
/// (`rate_limit_buckets`, refilled at `ratePerSecond` up to `burst`), from which each process leases `leaseSize`
/// tokens at a time and answers requests from memory until the lease is spent or a second old (issue 18).
///
/// **Tolerance.** The database grants at most burst + rate x T tokens over any time T, whatever the number of
/// processes (`RateLimiterTransaction.lease`). A process admits a request only with a leased token, and a lease is
/// used within `leaseLifetime` of being granted, so over any window of length T the N processes together admit at
/// most burst + rate x T + N x 1.5 x leaseSize: the tokens they held when the window opened (a process holds at most
/// one and a half leases, below). The error the other way is small too: tokens leased and not used (a process whose
/// traffic stopped) are lost, at most N x 1.5 x leaseSize a second.
/// Leases commit without waiting for the WAL flush (`Database.withRateLimiter`): a crash of PostgreSQL can undo the
/// last moment's leases, whose tokens are then granted again.
///
/// **Lease size** (`leaseSize(ratePerSecond:burst:)`): ceil(rate / 16), so that a key at its full rate costs one
/// process about 16 lease transactions a second, at least 1 and at most half the burst, so that the tolerance above
/// stays within a burst for two processes. The defaults (50/s, burst 100) lease 4 tokens; 20/s lease 2.
///
/// **Renewed ahead of need.** A request that leaves half a lease or less, or finds its lease within `renewWithin` of
/// expiring, starts the next lease in the background and is answered from the current one, so that the requests of a
/// busy key do not wait for a lease transaction (`bench api` at 1,000 req/s over 16 keys: one request in 60 waited, and
/// set the p99). The new lease's tokens join what is left of a lease that was half spent (so a process holds at most
/// 1.5 x leaseSize), and replace what is left of a lease about to expire. A refused renewal leaves the current lease
/// in use, and is not asked again until the bucket could grant it.
///
/// **At the limit.** A lease is all or nothing: a bucket holding fewer than `leaseSize` tokens grants none and says
/// when it will hold enough; until then this process answers 429 for the key from memory, with `Retry-After` that
/// wait rounded up to whole seconds (at least 1). A process asks again only when the bucket could grant a lease, so
/// its refused leases are at most one more than the leases the others were granted meanwhile: a key hammered through
/// N processes costs about (N + 1) x rate / leaseSize lease transactions a second however many requests it sends
/// (the two-process test: 69 for some 1,700 requests in 2 s at 20/s).
///
/// **When PostgreSQL does not answer** (down, the pool exhausted past its acquire deadline, the table broken), the
/// limiter fails open to a per-process GCRA limiter with the same rate and burst (`RateLimiter`): requests are never
/// refused because the limiter's database is unreachable, and N processes then allow N times the rate. The first
/// failure is logged once as an error, recovery once as a notice, and every request decided locally counts in
/// `switchyard_rate_limit_local_decisions_total`. The shared buckets are tried again every `retryInterval`, by one
/// request in the background while the others keep deciding locally.
///
/// The operator's key is limited per process (`checkOperator()`): it belongs to no tenant, so its bucket would
/// need a global table and a row every process contends for, to limit the platform's own trusted scripts.
public final class SharedRateLimiter: Sendable {
    /// How long leased tokens may be used: bounds how stale a lease can be when traffic resumes.
    public let leaseLifetime: Duration
    /// A lease this close to expiring is renewed ahead of need: a quarter of its lifetime.
    var renewWithin: Duration { leaseLifetime / 4 }
    /// How long the limiter decides locally after the shared buckets failed to answer, before trying them again.
    public static let retryInterval: Duration = .seconds(5)

    public let ratePerSecond: Double
    public let burst: Int
    public let leaseSize: Int
    public let scope: RateLimitScope
    private let database: Database
    private let metrics: RateLimitMetrics?
    /// The operator's limiter, and every key's while the shared buckets are unreachable.
    private let local: RateLimiter
    private let clock = ContinuousClock()
    private let state = Mutex(State())

    /// A key's bucket: its tenant and the API key's id.
    private typealias Bucket = TenantScopedID
    /// The leases asked for while one is being taken go together in the next statement (`BatchCombiner`): keys whose
    /// leases all end at once (traffic resuming after a pause, or one process serving many keys) would otherwise each
    /// hold a connection for a transaction of their own, and `bench api`'s paced requests waited behind those bursts.
    /// A key has at most one lease under way (a renewal or a first lease), except when a probe after an outage
    /// coincides with a renewal: the two then share one lease.
    private let leases = BatchCombiner<Bucket, RateLimitLease>(lanes: 1, batchLimit: 256)

    /// Tokens leased and not yet used, and the lease that will follow them.
    private struct Lease {
        var remaining: Int
        var expires: ContinuousClock.Instant
        /// The next lease, asked for ahead of need.
        var renewal: Task<Void, Never>? = nil
        /// A renewal the bucket refused: when it could be granted.
        var renewableAt: ContinuousClock.Instant? = nil
    }

    private enum KeyState {
        case leased(Lease)
        case exhausted(until: ContinuousClock.Instant)
        /// A lease is being asked for; requests of the key wait for it.
        case leasing(Task<Void, Never>)
    }

    private struct State {
        var keys: [Bucket: KeyState] = [:]
        /// Set while the shared buckets are unreachable: when to try them again, and whether a try is under way.
        var outage: (retryAt: ContinuousClock.Instant, probing: Bool)?
    }

    /// `scope` `.process` keeps every key's budget in this process (the limiter before issue 18), without leases.
    public init(
        ratePerSecond: Double,
        burst: Int,
        scope: RateLimitScope = .shared,
        leaseLifetime: Duration = .seconds(1),
        database: Database,
        metrics: RateLimitMetrics?
    ) {
        self.leaseLifetime = leaseLifetime
        self.ratePerSecond = ratePerSecond
        self.burst = burst
        self.scope = scope
        self.leaseSize = Self.leaseSize(ratePerSecond: ratePerSecond, burst: burst)
        self.database = database
        self.metrics = metrics
        self.local = RateLimiter(ratePerSecond: ratePerSecond, burst: burst)
    }

    /// Tokens leased at a time: ceil(rate / 16), at least 1, at most half the burst (see the type's comment).
    public static func leaseSize(ratePerSecond: Double, burst: Int) -> Int {
        max(1, min(Int((ratePerSecond / 16).rounded(.up)), burst / 2))
    }

    /// The operator key's limit, in this process alone.
    public func checkOperator() -> RateLimiter.Decision {
        local.check("operator")
    }

    /// Admits one request of `apiKey`, from this process's lease when it has one.
    public func check(tenant: TenantID, apiKey: UUID, logger: Logger) async -> RateLimiter.Decision {
        guard scope == .shared else { return local.check(apiKey.lowercasedString) }
        let bucket = Bucket(tenant: tenant.rawValue, id: apiKey)
        // A lease that concurrent requests of the key spent before this one got to it: ask again, a few times.
        for _ in 0..<4 {
            switch step(bucket, logger: logger) {
            case .decided(let decision):
                return decision
            case .local:
                metrics?.decidedLocally()
                return local.check(apiKey.lowercasedString)
            case .wait(let leasing):
                await leasing.value
            }
        }
        return .limited(retryAfterSeconds: 1)
    }

    private enum Step {
        case decided(RateLimiter.Decision)
        case local
        case wait(Task<Void, Never>)
    }

    private func step(_ bucket: Bucket, logger: Logger) -> Step {
        let now = clock.now
        return state.withLock { state -> Step in
            if let outage = state.outage {
                if !outage.probing && now >= outage.retryAt {
                    state.outage?.probing = true
                    state.keys[bucket] = .leasing(startLease(bucket, renewal: false, logger: logger))
                }
                return .local
            }
            switch state.keys[bucket] {
            case .leased(var lease) where lease.remaining > 0 && lease.expires > now:
                lease.remaining -= 1
                if lease.renewal == nil, lease.renewableAt.map({ now >= $0 }) ?? true,
                    lease.remaining <= leaseSize / 2 || lease.expires - now <= renewWithin
                {
                    lease.renewal = startLease(bucket, renewal: true, logger: logger)
                }
                state.keys[bucket] = .leased(lease)
                return .decided(.allowed)
            case .leased(let lease) where lease.renewal != nil:
                // Spent or expired before its renewal came: wait for that.
                return .wait(lease.renewal!)
            case .exhausted(let until) where until > now:
                return .decided(.limited(retryAfterSeconds: (until - now).retryAfterSeconds))
            case .leasing(let task):
                return .wait(task)
            default:
                let task = startLease(bucket, renewal: false, logger: logger)
                state.keys[bucket] = .leasing(task)
                if state.keys.count > 100_000 {
                    // Keys idle past their lease and wait hold nothing worth keeping.
                    state.keys = state.keys.filter {
                        switch $0.value {
                        case .leased(let lease): lease.expires > now || lease.renewal != nil
                        case .exhausted(let until): until > now
                        case .leasing: true
                        }
                    }
                }
                return .wait(task)
            }
        }
    }

    /// Asks the shared bucket for a lease (in one statement with the other keys' leases asked for meanwhile); the task
    /// records the outcome in `state` and never throws. It is not a child of the request that started it, so that the
    /// other requests waiting for it get their answer even when that request is cancelled; the database's deadlines
    /// bound it.
    private func startLease(_ bucket: Bucket, renewal: Bool, logger: Logger) -> Task<Void, Never> {
        Task {
            let outcome: Result<RateLimitLease, any Error>
            do {
                let lease = try await leases.read(bucket) { [database, leaseSize, ratePerSecond, burst] buckets in
                    try await database.withRateLimiter(logger: logger) { transaction in
                        try await transaction.lease(buckets, tokens: leaseSize, ratePerSecond: ratePerSecond, burst: burst)
                    }
                }
                guard let lease else { throw SwitchyardError.internal("rate_limit_buckets: a lease returned no row") }
                outcome = .success(lease)
            } catch {
                outcome = .failure(error)
            }
            record(outcome, for: bucket, renewal: renewal, logger: logger)
        }
    }

    private func record(_ outcome: Result<RateLimitLease, any Error>, for bucket: Bucket, renewal: Bool, logger: Logger) {
        let now = clock.now
        switch outcome {
        case .success(let lease):
            let recovered = state.withLock { state in
                let recovered = state.outage != nil
                state.outage = nil
                var current: Lease?
                if renewal, case .leased(let lease) = state.keys[bucket], lease.remaining > 0, lease.expires > now { current = lease }
                let grantableAt = now + .seconds(max(Double(leaseSize) - lease.tokensLeft, 0) / ratePerSecond)
                switch (lease.granted > 0, current) {
                case (true, let current?) where current.expires - now > renewWithin:
                    state.keys[bucket] = .leased(Lease(remaining: current.remaining + lease.granted, expires: now + leaseLifetime))
                case (true, _):
                    state.keys[bucket] = .leased(Lease(remaining: lease.granted, expires: now + leaseLifetime))
                case (false, var current?):
                    current.renewal = nil
                    current.renewableAt = grantableAt
                    state.keys[bucket] = .leased(current)
                case (false, nil):
                    state.keys[bucket] = .exhausted(until: grantableAt)
                }
                return recovered
            }
            if lease.granted > 0 { metrics?.leaseGranted() } else { metrics?.leaseExhausted() }
            if recovered { logger.notice("the shared rate limit buckets answer again; API keys are limited across processes") }
        case .failure(let error):
            metrics?.leaseFailed()
            let first = state.withLock { state in
                let first = state.outage == nil
                state.outage = (retryAt: now + Self.retryInterval, probing: false)
                state.keys[bucket] = nil
                return first
            }
            if first {
                logger.error(
                    "the shared rate limit buckets did not answer; each process limits API keys on its own until they do",
                    metadata: ["error": "\(loggableDescription(of: error))", "retry_in": "\(Self.retryInterval)"]
                )
            }
        }
    }
}
