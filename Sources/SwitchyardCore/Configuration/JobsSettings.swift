/// The job queue's settings, shared by `executor`, `scheduler`, `dev` and `bench queue`.
///
/// | variable | meaning | default |
/// |---|---|---|
/// | `SWITCHYARD_EXECUTOR_CONCURRENCY` | jobs one executor process runs at once | 10 |
/// | `SWITCHYARD_EXECUTOR_TENANT_CONCURRENCY` | jobs of one tenant running at once across all executors (a soft cap: two executors claiming at the same instant may each see room) | 20 |
/// | `SWITCHYARD_EXECUTOR_CLAIM_BATCH` | most jobs claimed by one statement | 100 |
/// | `SWITCHYARD_EXECUTOR_SHUTDOWN_TIMEOUT_MS` | on SIGTERM, how long running jobs may finish before they are released to other executors | 25000 |
/// | `SWITCHYARD_JOB_LEASE_MS` | a claimed job's lease; a heartbeat renews it every third of it, and an expired one is rescued | 30000 |
/// | `SWITCHYARD_JOB_RUN_TIMEOUT_MS` | a handler running longer is abandoned: its lease is no longer renewed (another executor retries the job) and the executor reports not ready while it is stuck | 300000 |
/// | `SWITCHYARD_QUEUE_POLL_INTERVAL_MS` | how often an idle executor looks for due jobs without being notified | 1000 |
/// | `SWITCHYARD_QUEUE_POLL_ONLY` | `true` to poll only, without LISTEN (for PgBouncer in transaction pooling mode) | false |
/// | `SWITCHYARD_JOB_RETRY_BASE_MS` / `SWITCHYARD_JOB_RETRY_MAX_MS` | backoff cap before the first retry, doubling per retry up to the maximum (full jitter below the cap) | 1000 / 3600000 |
/// | `SWITCHYARD_SCHEDULER_TICK_MS` | how often the scheduler fires due schedules and rescues expired leases | 1000 |
/// | `SWITCHYARD_JOB_RETENTION_HOURS` / `SWITCHYARD_DEAD_JOB_RETENTION_HOURS` | finished jobs (succeeded, cancelled) / dead letters are deleted after this | 24 / 720 |
/// | `SWITCHYARD_WEBHOOK_RETENTION_HOURS` | recorded webhook events are deleted this long after they arrived | 720 |
public struct JobsSettings: Sendable, Equatable {
    public var executorConcurrency = 10
    public var tenantConcurrency = 20
    public var claimBatch = 100
    public var shutdownTimeoutMilliseconds = 25_000
    public var leaseMilliseconds = 30_000
    public var runTimeoutMilliseconds = 300_000
    public var pollIntervalMilliseconds = 1_000
    public var pollOnly = false
    public var retryBaseMilliseconds = 1_000
    public var retryMaxMilliseconds = 3_600_000
    public var schedulerTickMilliseconds = 1_000
    public var retentionHours = 24
    public var deadRetentionHours = 720
    public var webhookRetentionHours = 720

    public init() {}

    static func load(_ settings: SettingsReader) throws(ConfigurationError) -> JobsSettings {
        var jobs = JobsSettings()
        jobs.executorConcurrency = try settings.integer("switchyard.executor.concurrency", default: 10, in: 1...1000)
        jobs.tenantConcurrency = try settings.integer("switchyard.executor.tenant.concurrency", default: 20, in: 1...100_000)
        jobs.claimBatch = try settings.integer("switchyard.executor.claim.batch", default: 100, in: 1...1000)
        jobs.shutdownTimeoutMilliseconds = try settings.integer("switchyard.executor.shutdown.timeout.ms", default: 25_000, in: 0...3_600_000)
        jobs.leaseMilliseconds = try settings.integer("switchyard.job.lease.ms", default: 30_000, in: 300...86_400_000)
        jobs.runTimeoutMilliseconds = try settings.integer("switchyard.job.run.timeout.ms", default: 300_000, in: 100...86_400_000)
        jobs.pollIntervalMilliseconds = try settings.integer("switchyard.queue.poll.interval.ms", default: 1_000, in: 10...3_600_000)
        switch settings.string("switchyard.queue.poll.only")?.lowercased() {
        case nil, "false", "0", "no": jobs.pollOnly = false
        case "true", "1", "yes": jobs.pollOnly = true
        case let other?: throw ConfigurationError(variable: "SWITCHYARD_QUEUE_POLL_ONLY", problem: "must be true or false, got '\(other)'")
        }
        jobs.retryBaseMilliseconds = try settings.integer("switchyard.job.retry.base.ms", default: 1_000, in: 1...86_400_000)
        jobs.retryMaxMilliseconds = try settings.integer(
            "switchyard.job.retry.max.ms",
            default: 3_600_000,
            in: jobs.retryBaseMilliseconds...(7 * 86_400_000)
        )
        jobs.schedulerTickMilliseconds = try settings.integer("switchyard.scheduler.tick.ms", default: 1_000, in: 10...3_600_000)
        jobs.retentionHours = try settings.integer("switchyard.job.retention.hours", default: 24, in: 1...87_600)
        jobs.deadRetentionHours = try settings.integer("switchyard.dead.job.retention.hours", default: 720, in: 1...87_600)
        jobs.webhookRetentionHours = try settings.integer("switchyard.webhook.retention.hours", default: 720, in: 1...87_600)
        return jobs
    }
}
