import Prometheus
import Synchronization

/// Inbound webhooks: deliveries accepted, rejected by reason, duplicates, acknowledgement latency and the
/// group commit's batch sizes. Labels are bounded: scheme types and rejection reasons, never a tenant or source.
public final class WebhookMetrics: Sendable {
    private let registry: PrometheusCollectorRegistry
    private let received = Mutex<[String: Counter]>([:])
    private let rejected = Mutex<[String: Counter]>([:])
    private let duplicates: Counter
    private let acknowledgement: DurationHistogram
    private let batchSize: ValueHistogram
    private let processingLag: DurationHistogram
    private let processingFailures: Counter

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        duplicates = registry.makeCounter(
            descriptor: .switchyard(
                "webhook_duplicates",
                unit: "total",
                help: "Verified deliveries already recorded (redeliveries), answered 2xx and not stored again."
            )
        )
        acknowledgement = registry.makeDurationHistogram(
            descriptor: .switchyard(
                "webhook_ack_duration",
                unit: "seconds",
                help: "Time from a delivery's body being read to its 2xx, the commit included."
            ),
            buckets: [
                .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
                .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2),
            ]
        )
        batchSize = registry.makeValueHistogram(
            descriptor: .switchyard("webhook_commit_batch_size", unit: "events", help: "Deliveries committed together by one group commit."),
            buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
        )
        processingFailures = registry.makeCounter(
            descriptor: .switchyard(
                "webhook_processing_failures",
                unit: "total",
                help: "Recorded events whose processing was refused for what they hold; each ends `failed` with its reason."
            )
        )
        processingLag = registry.makeDurationHistogram(
            descriptor: .switchyard(
                "webhook_processing_lag",
                unit: "seconds",
                help: "Time from a delivery being recorded to its processing (webhook.received emitted)."
            ),
            buckets: [
                .milliseconds(10), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
                .seconds(2), .seconds(5), .seconds(10), .seconds(30), .seconds(60), .seconds(300),
            ]
        )
    }

    /// A delivery recorded, by signature scheme (`stripe`, `github`, ...).
    public func recordReceived(scheme: String) {
        counter(received, scheme) {
            registry.makeCounter(
                descriptor: .switchyard("webhooks_received", unit: "total", help: "Verified deliveries recorded, by signature scheme."),
                labels: [("scheme", scheme)]
            )
        }.increment()
    }

    /// A delivery refused; `reason` is one of a fixed set (invalid_signature, stale_timestamp, unknown_source, ...).
    public func recordRejected(reason: String) {
        counter(rejected, reason) {
            registry.makeCounter(
                descriptor: .switchyard("webhooks_rejected", unit: "total", help: "Deliveries refused before anything was stored, by reason."),
                labels: [("reason", reason)]
            )
        }.increment()
    }

    public func recordDuplicate() { duplicates.increment() }
    public func recordAcknowledgement(_ duration: Duration) { acknowledgement.record(duration) }
    public func recordBatch(size: Int) { batchSize.record(Double(size)) }
    public func recordProcessingLag(_ duration: Duration) { processingLag.record(duration) }
    public func recordProcessingFailure() { processingFailures.increment() }

    private func counter(_ table: borrowing Mutex<[String: Counter]>, _ key: String, make: () -> Counter) -> Counter {
        table.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter = make()
            counters[key] = counter
            return counter
        }
    }
}
