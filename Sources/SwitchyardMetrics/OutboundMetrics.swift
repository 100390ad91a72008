import Prometheus
import Synchronization

/// Calls to third-party APIs: attempts by outcome, latency, circuit breakers and rate-limit waits,
/// labelled by provider id (a catalogue entry such as `github`), never by URL, tenant or integration.
public final class OutboundMetrics: Sendable {
    private struct AttemptKey: Hashable {
        let provider: String
        let outcome: String
    }

    private struct CircuitKey: Hashable {
        let provider: String
        let state: String
    }

    /// Distinct provider labels kept; later ones are reported as `other` so a caller passing something
    /// unbounded by mistake cannot explode the series count.
    static let maxProviders = 200

    private let registry: PrometheusCollectorRegistry
    private let attempts = Mutex<[AttemptKey: Counter]>([:])
    private let durations = Mutex<[AttemptKey: DurationHistogram]>([:])
    private let circuits = Mutex<[CircuitKey: Gauge]>([:])
    private let waits = Mutex<[String: DurationHistogram]>([:])
    private let providers = Mutex<Set<String>>([])

    static let latencyBuckets: [Duration] = [
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30),
    ]

    static let waitBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(10), .milliseconds(50), .milliseconds(100), .milliseconds(250),
        .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30), .seconds(60),
    ]

    /// Leases from the provider quotas shared across processes, by outcome (created up front: four series).
    private let quotaLeases: [QuotaLeaseOutcome: Counter]

    /// How a lease from the shared provider quotas ended.
    public enum QuotaLeaseOutcome: String, Sendable, CaseIterable {
        /// Tokens were granted.
        case granted
        /// The window is spent or a 429 blocked the account: the request waits.
        case exhausted
        /// No quota is known for the current window: the process sends on its own until one is announced.
        case unknown
        /// The store did not answer: every account is limited per process for a while (fail open).
        case failed
    }

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        let descriptor = MetricNameDescriptor.switchyard(
            "outbound_quota_leases",
            unit: "total",
            help:
                "Leases from the provider quotas shared across processes, by outcome (granted, exhausted: spent or blocked by a 429, unknown: no quota announced, failed: the database did not answer)."
        )
        var leases: [QuotaLeaseOutcome: Counter] = [:]
        for outcome in QuotaLeaseOutcome.allCases {
            leases[outcome] = registry.makeCounter(descriptor: descriptor, labels: [("outcome", outcome.rawValue)])
        }
        quotaLeases = leases
    }

    /// Counts one lease from the shared provider quotas.
    public func recordQuotaLease(_ outcome: QuotaLeaseOutcome) {
        quotaLeases[outcome]?.increment()
    }

    /// Records one attempt, or one request refused before sending (`rate_limited`, `circuit_open`, `blocked`,
    /// without a duration). `outcome` is one of success, permanent, transient, rate_limited, circuit_open, blocked.
    public func recordAttempt(provider: String, outcome: String, duration: Duration?) {
        let key = AttemptKey(provider: bounded(provider), outcome: outcome)
        let labels = [("provider", key.provider), ("outcome", key.outcome)]
        cachedMetric(attempts, key) {
            registry.makeCounter(
                descriptor: .switchyard(
                    "outbound_requests",
                    unit: "total",
                    help:
                        "Outbound attempts to third-party APIs by provider and outcome (success, permanent, transient, rate_limited, circuit_open, blocked); each retry counts, refusals before sending count once."
                ),
                labels: labels
            )
        }.increment()
        guard let duration else { return }
        cachedMetric(durations, key) {
            registry.makeDurationHistogram(
                descriptor: .switchyard(
                    "outbound_request_duration",
                    unit: "seconds",
                    help: "Duration of outbound attempts that were sent, from sending to the last body byte, by provider and outcome."
                ),
                labels: labels,
                buckets: Self.latencyBuckets
            )
        }.record(duration)
    }

    /// Records the time one request waited for its destination's rate limit (zero when it did not wait).
    public func recordRateLimitWait(provider: String, duration: Duration) {
        let provider = bounded(provider)
        cachedMetric(waits, provider) {
            registry.makeDurationHistogram(
                descriptor: .switchyard(
                    "outbound_rate_limit_wait",
                    unit: "seconds",
                    help: "Time outbound requests waited for the provider's announced quota before being sent, by provider."
                ),
                labels: [("provider", provider)],
                buckets: Self.waitBuckets
            )
        }.record(duration)
    }

    /// Moves one circuit breaker from state `from` to state `to` (closed, open, half_open).
    public func circuitChanged(provider: String, from: String, to: String) {
        let provider = bounded(provider)
        if from != "closed" { circuitGauge(provider: provider, state: from).decrement() }
        if to != "closed" { circuitGauge(provider: provider, state: to).increment() }
    }

    private func circuitGauge(provider: String, state: String) -> Gauge {
        let key = CircuitKey(provider: provider, state: state)
        return cachedMetric(circuits, key) {
            registry.makeGauge(
                descriptor: .switchyard(
                    "outbound_circuits",
                    unit: "",
                    help: "Circuit breakers currently open or half-open, by provider and state; closed breakers are not counted."
                ),
                labels: [("provider", key.provider), ("state", key.state)]
            )
        }
    }

    private func bounded(_ provider: String) -> String {
        let provider = provider.isEmpty ? "unknown" : String(provider.prefix(64))
        return providers.withLock { seen in
            if seen.contains(provider) { return provider }
            guard seen.count < Self.maxProviders else { return "other" }
            seen.insert(provider)
            return provider
        }
    }
}
