import Prometheus
import Synchronization

/// Deliveries to tenants' destinations: attempts by outcome, their latency, and the destinations disabled. Labels are
/// a fixed set of outcomes, never a destination or tenant id. A destination's circuit breaker is counted by
/// `switchyard_outbound_circuits{provider="destination"}`, and the delivery queue's lag by
/// `switchyard_job_start_latency_seconds{kind="destination.deliver"}`.
public final class DeliveryMetrics: Sendable {
    /// How a delivery attempt ended.
    public enum Outcome: String, Sendable, CaseIterable {
        /// 2xx.
        case delivered
        /// Any other answer, a timeout or a connection failure; retried on the schedule.
        case failed
        /// The last attempt failed: a dead letter.
        case dead
        /// Not sent (circuit open, rate or concurrency limit, destination disabled); no attempt spent.
        case deferred
    }

    private let registry: PrometheusCollectorRegistry
    private let outcomes: [Outcome: Counter]
    private let durations: [Outcome: DurationHistogram]
    private let disabled: Gauge

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        var outcomes: [Outcome: Counter] = [:]
        var durations: [Outcome: DurationHistogram] = [:]
        for outcome in Outcome.allCases {
            outcomes[outcome] = registry.makeCounter(
                descriptor: .switchyard(
                    "deliveries",
                    unit: "total",
                    help:
                        "Delivery attempts to destinations by outcome: delivered (2xx), failed (retried), dead, deferred (not sent, no attempt spent)."
                ),
                labels: [("outcome", outcome.rawValue)]
            )
            if outcome != .deferred {
                durations[outcome] = registry.makeDurationHistogram(
                    descriptor: .switchyard(
                        "delivery_attempt_duration",
                        unit: "seconds",
                        help: "Time from sending a delivery attempt to the receiver's whole answer (or the failure), by outcome."
                    ),
                    labels: [("outcome", outcome.rawValue)],
                    buckets: [
                        .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
                        .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2), .seconds(5), .seconds(10), .seconds(30),
                    ]
                )
            }
        }
        self.outcomes = outcomes
        self.durations = durations
        disabled = registry.makeGauge(
            descriptor: .switchyard(
                "destinations_disabled",
                unit: "",
                help: "Destinations disabled (by their owner, a 410 Gone, or days of failures), across tenants; counted by the scheduler."
            )
        )
    }

    /// One attempt's outcome; `duration` when something was sent.
    public func recordAttempt(_ outcome: Outcome, duration: Duration?) {
        outcomes[outcome]?.increment()
        if let duration { durations[outcome]?.record(duration) }
    }

    public func setDisabledDestinations(_ count: Int) {
        disabled.set(to: Double(count))
    }
}
