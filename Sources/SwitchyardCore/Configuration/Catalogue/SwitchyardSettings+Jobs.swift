extension SwitchyardSettings {
    public static let executorConcurrency = IntegerSetting(
        "SWITCHYARD_EXECUTOR_CONCURRENCY",
        default: 10,
        in: 1...1000,
        "jobs one executor process runs at once (`executor --concurrency`)"
    )
    public static let executorTenantConcurrency = IntegerSetting(
        "SWITCHYARD_EXECUTOR_TENANT_CONCURRENCY",
        default: 20,
        in: 1...100_000,
        "jobs of one tenant running at once across all executors (a soft cap: two executors claiming at once may each see room)"
    )
    public static let executorClaimBatch = IntegerSetting(
        "SWITCHYARD_EXECUTOR_CLAIM_BATCH",
        default: 100,
        in: 1...1000,
        "most jobs claimed by one statement"
    )
    public static let executorShutdownTimeoutMilliseconds = IntegerSetting(
        "SWITCHYARD_EXECUTOR_SHUTDOWN_TIMEOUT_MS",
        default: 25_000,
        in: 0...3_600_000,
        "on `SIGTERM`, how long running jobs may finish before they are given back to other executors"
    )
    public static let jobLeaseMilliseconds = IntegerSetting(
        "SWITCHYARD_JOB_LEASE_MS",
        default: 30_000,
        in: 300...86_400_000,
        "a claimed job's lease, renewed every third of it while the job makes progress; an expired one is rescued"
    )
    public static let jobRunTimeoutMilliseconds = IntegerSetting(
        "SWITCHYARD_JOB_RUN_TIMEOUT_MS",
        default: 300_000,
        in: 100...86_400_000,
        "a handler running longer is abandoned: its lease lapses, another executor retries the job, and this executor reports not ready"
    )
    public static let queuePollIntervalMilliseconds = IntegerSetting(
        "SWITCHYARD_QUEUE_POLL_INTERVAL_MS",
        default: 1_000,
        in: 10...3_600_000,
        "how often an idle executor looks for due jobs without being notified"
    )
    public static let queuePollOnly = FlagSetting(
        "SWITCHYARD_QUEUE_POLL_ONLY",
        default: false,
        "poll only, without `LISTEN` (for PgBouncer in transaction pooling mode)"
    )
    public static let jobRetryBaseMilliseconds = IntegerSetting(
        "SWITCHYARD_JOB_RETRY_BASE_MS",
        default: 1_000,
        in: 1...86_400_000,
        "backoff cap of the first retry, doubling per retry (full jitter below the cap)"
    )
    public static let jobRetryMaxMilliseconds = IntegerSetting(
        "SWITCHYARD_JOB_RETRY_MAX_MS",
        default: 3_600_000,
        in: 1...(7 * 86_400_000),
        "the most the backoff cap doubles to; when set, not below `SWITCHYARD_JOB_RETRY_BASE_MS`"
    )
    public static let schedulerTickMilliseconds = IntegerSetting(
        "SWITCHYARD_SCHEDULER_TICK_MS",
        default: 1_000,
        in: 10...3_600_000,
        "how often the scheduler fires due schedules and rescues expired leases"
    )
    public static let jobRetentionHours = IntegerSetting(
        "SWITCHYARD_JOB_RETENTION_HOURS",
        default: 24,
        in: 1...87_600,
        "finished jobs (succeeded, cancelled) are deleted after this"
    )
    public static let deadJobRetentionHours = IntegerSetting(
        "SWITCHYARD_DEAD_JOB_RETENTION_HOURS",
        default: 720,
        in: 1...87_600,
        "dead letters are deleted after this"
    )
    public static let webhookRetentionHours = IntegerSetting(
        "SWITCHYARD_WEBHOOK_RETENTION_HOURS",
        default: 720,
        in: 1...87_600,
        "recorded webhook events are deleted this long after they arrived (by the scheduler)"
    )
    public static let syncDeletedRecordRetentionHours = IntegerSetting(
        "SWITCHYARD_SYNC_DELETED_RECORD_RETENTION_HOURS",
        default: 720,
        in: 1...87_600,
        "synced records marked deleted stay in the records store and its change feed this long (then the scheduler removes them)"
    )
    public static let destinationDisableAfterHours = IntegerSetting(
        "SWITCHYARD_DESTINATION_DISABLE_AFTER_HOURS",
        default: 120,
        in: 1...87_600,
        "a destination whose deliveries have all failed for this long is disabled (a `destination.disabled` event says so)"
    )
}
