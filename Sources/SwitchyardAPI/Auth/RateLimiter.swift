import SwitchyardCore
import Synchronization

/// A per-key rate limit using the generic cell rate algorithm (GCRA): a steady `ratePerSecond` with bursts
/// of up to `burst` requests. One timestamp per key, no timers. Limits are per process; with N `serve`
/// replicas a key may reach N times the rate. `SharedRateLimiter` uses it for the operator's key, for tenant keys
/// when `SWITCHYARD_RATE_LIMIT_SCOPE` is `process`, and while the shared buckets are unreachable.
public final class RateLimiter: Sendable {
    public enum Decision: Equatable, Sendable {
        case allowed
        case limited(retryAfterSeconds: Int)
    }

    private let interval: Duration
    private let tolerance: Duration
    private let clock = ContinuousClock()
    /// Theoretical arrival time of each key's next request.
    private let arrivals = Mutex<[String: ContinuousClock.Instant]>([:])

    public init(ratePerSecond: Double, burst: Int) {
        self.interval = .nanoseconds(Int64(1_000_000_000 / ratePerSecond))
        self.tolerance = interval * max(burst - 1, 0)
    }

    public func check(_ key: String) -> Decision {
        let now = clock.now
        return arrivals.withLock { arrivals in
            let arrival = max(arrivals[key] ?? now, now)
            if arrival - tolerance > now {
                let wait = arrival - tolerance - now
                return .limited(retryAfterSeconds: wait.retryAfterSeconds)
            }
            arrivals[key] = arrival + interval
            if arrivals.count > 100_000 {
                arrivals = arrivals.filter { $0.value > now }  // keys idle long enough are back to a full burst anyway
            }
            return .allowed
        }
    }
}
