import Prometheus
import Synchronization

/// The job queue: depth, latency from due to start, run time, outcomes, rescues and scheduler
/// leadership, labelled by job kind (a name from code, never from a tenant).
public final class JobMetrics: Sendable {
    private struct KindOutcome: Hashable {
        let kind: String
        let outcome: String
    }

    private struct KindState: Hashable {
        let kind: String
        let state: String
    }

    private let registry: PrometheusCollectorRegistry
    private let outcomes = Mutex<[KindOutcome: Counter]>([:])
    private let durations = Mutex<[KindOutcome: DurationHistogram]>([:])
    private let latencies = Mutex<[String: DurationHistogram]>([:])
    private let depths = Mutex<[KindState: Gauge]>([:])
    private let rescues = Mutex<[String: Counter]>([:])
    private let leader: Gauge
    private let running: Gauge
    private let stuck: Gauge
    private let oldestRunning: Gauge
    private let oldestRunningInQueue: Gauge
    private let oldestDue: Gauge
    private let fires: Counter
    private let health = Mutex<[String: Gauge]>([:])

    static let durationBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(5), .milliseconds(25), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30), .seconds(60), .seconds(300),
    ]

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        leader = registry.makeGauge(
            descriptor: .switchyard("scheduler_leader", unit: "", help: "1 while this scheduler process holds the leader lock, else 0.")
        )
        running = registry.makeGauge(
            descriptor: .switchyard("executor_jobs_running", unit: "", help: "Job handlers running in this executor process.")
        )
        stuck = registry.makeGauge(
            descriptor: .switchyard(
                "executor_jobs_stuck",
                unit: "",
                help: "Job handlers in this executor that ran past the run timeout and have not returned (the executor reports not ready)."
            )
        )
        oldestRunning = registry.makeGauge(
            descriptor: .switchyard(
                "executor_oldest_running_job_age",
                unit: "seconds",
                help: "How long the longest-running job handler of this executor has run."
            )
        )
        oldestRunningInQueue = registry.makeGauge(
            descriptor: .switchyard(
                "queue_oldest_running_job_age",
                unit: "seconds",
                help:
                    "Age of the oldest job in state running across all executors, counted by the scheduler (a job running far past its lease means a wedged executor)."
            )
        )
        oldestDue = registry.makeGauge(
            descriptor: .switchyard(
                "queue_oldest_due_job_age",
                unit: "seconds",
                help:
                    "How long the longest-waiting due job (queued, or failed and past its retry time) has waited to start, counted by the scheduler; 0 when none waits."
            )
        )
        fires = registry.makeCounter(
            descriptor: .switchyard("schedule_fires", unit: "total", help: "Schedule fires turned into jobs by this scheduler.")
        )
    }

    /// One finished attempt. `outcome` is succeeded, retry (failed, will run again), dead or released.
    public func recordAttempt(kind: String, outcome: String, duration: Duration) {
        let key = KindOutcome(kind: kind, outcome: outcome)
        let labels = [("kind", kind), ("outcome", outcome)]
        cachedMetric(outcomes, key) {
            registry.makeCounter(
                descriptor: .switchyard(
                    "job_attempts",
                    unit: "total",
                    help:
                        "Finished job attempts by kind and outcome (succeeded, retry, dead, released); retry counts the retries, dead the dead letters."
                ),
                labels: labels
            )
        }.increment()
        cachedMetric(durations, key) {
            registry.makeDurationHistogram(
                descriptor: .switchyard("job_run_duration", unit: "seconds", help: "Time a job's handler ran, by kind and outcome."),
                labels: labels,
                buckets: Self.durationBuckets
            )
        }.record(duration)
    }

    /// The time from when a job became due (enqueued, or its retry time) to when an executor started it.
    public func recordStartLatency(kind: String, latency: Duration) {
        cachedMetric(latencies, kind) {
            registry.makeDurationHistogram(
                descriptor: .switchyard(
                    "job_start_latency",
                    unit: "seconds",
                    help: "Time from a job becoming due (enqueue or retry time) to an executor starting it, by kind."
                ),
                labels: [("kind", kind)],
                buckets: Self.durationBuckets
            )
        }.record(max(latency, .zero))
    }

    /// Jobs whose lease expired and that went back to the queue (or to the dead letters).
    public func recordLeaseRescue(kind: String) {
        cachedMetric(rescues, kind) {
            registry.makeCounter(
                descriptor: .switchyard(
                    "job_lease_rescues",
                    unit: "total",
                    help: "Jobs whose executor stopped renewing their lease and that were returned to the queue or dead-lettered, by kind."
                ),
                labels: [("kind", kind)]
            )
        }.increment()
    }

    /// Replaces the queue depth with a fresh count; kinds and states missing from it read 0.
    public func setQueueDepth(_ counts: [(kind: String, state: String, count: Int)]) {
        var seen = Set<KindState>()
        for row in counts {
            let key = KindState(kind: row.kind, state: row.state)
            seen.insert(key)
            depthGauge(key).set(to: Double(row.count))
        }
        let stale = depths.withLock { Array($0.keys.filter { !seen.contains($0) }) }
        for key in stale { depthGauge(key).set(to: 0) }
    }

    /// Integrations with recent attempts by health status (healthy, degraded, down), as last scored.
    public func setIntegrationHealth(_ counts: [(status: String, count: Int)]) {
        for row in counts {
            cachedMetric(health, row.status) {
                registry.makeGauge(
                    descriptor: .switchyard(
                        "integrations_health",
                        unit: "",
                        help:
                            "Integrations with job attempts in the last hour by health status (healthy, degraded, down), as last scored by the scheduler."
                    ),
                    labels: [("status", row.status)]
                )
            }.set(to: Double(row.count))
        }
    }

    public func setLeader(_ isLeader: Bool) { leader.set(to: isLeader ? 1 : 0) }

    /// The executor's own view, set at every heartbeat.
    public func setRunning(_ count: Int, stuck stuckCount: Int, oldestAge: Duration) {
        running.set(to: Double(count))
        stuck.set(to: Double(stuckCount))
        oldestRunning.set(to: Self.seconds(oldestAge))
    }

    /// The queue-wide view, set by the scheduler's housekeeping.
    public func setOldestRunningJobAge(_ age: Duration) { oldestRunningInQueue.set(to: Self.seconds(age)) }

    /// The queue's lag as it stands, set by the scheduler's housekeeping: unlike `job_start_latency`, which is only
    /// recorded when a job starts, it keeps growing while no executor takes anything.
    public func setOldestDueJobAge(_ age: Duration) { oldestDue.set(to: Self.seconds(age)) }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    public func recordFires(_ count: Int) { fires.increment(by: Int64(count)) }

    private func depthGauge(_ key: KindState) -> Gauge {
        cachedMetric(depths, key) {
            registry.makeGauge(
                descriptor: .switchyard(
                    "jobs",
                    unit: "",
                    help: "Jobs by kind and state (queued, running, failed = waiting for a retry, dead), as last counted by the scheduler."
                ),
                labels: [("kind", key.kind), ("state", key.state)]
            )
        }
    }
}
