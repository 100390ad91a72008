import Prometheus

/// The API's per-key rate limit shared through PostgreSQL (`SharedRateLimiter`): its leases by outcome, and the
/// requests decided by this process alone because the shared buckets could not be reached.
public final class RateLimitMetrics: Sendable {
    private let granted: Counter
    private let exhausted: Counter
    private let failed: Counter
    private let local: Counter

    init(registry: PrometheusCollectorRegistry) {
        let leases = MetricNameDescriptor.switchyard(
            "rate_limit_leases",
            unit: "total",
            help:
                "Leases of tokens from the shared per-key rate limit buckets, by outcome (granted, exhausted: the bucket held too few, failed: the database did not answer)."
        )
        granted = registry.makeCounter(descriptor: leases, labels: [("outcome", "granted")])
        exhausted = registry.makeCounter(descriptor: leases, labels: [("outcome", "exhausted")])
        failed = registry.makeCounter(descriptor: leases, labels: [("outcome", "failed")])
        local = registry.makeCounter(
            descriptor: .switchyard(
                "rate_limit_local_decisions",
                unit: "total",
                help: "Requests admitted or refused by this process's own rate limiter because the shared buckets were unreachable (fail open)."
            )
        )
    }

    public func leaseGranted() { granted.increment() }
    public func leaseExhausted() { exhausted.increment() }
    public func leaseFailed() { failed.increment() }
    public func decidedLocally() { local.increment() }
}
