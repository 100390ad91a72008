/// The job queue's settings, shared by `executor`, `scheduler`, `dev` and `bench queue`; each is defined, with its
/// default and range, in `SwitchyardSettings.jobs`.
public struct JobsSettings: Sendable, Equatable {
    public var executorConcurrency = SwitchyardSettings.executorConcurrency.defaultValue
    public var tenantConcurrency = SwitchyardSettings.executorTenantConcurrency.defaultValue
    public var claimBatch = SwitchyardSettings.executorClaimBatch.defaultValue
    public var shutdownTimeoutMilliseconds = SwitchyardSettings.executorShutdownTimeoutMilliseconds.defaultValue
    public var leaseMilliseconds = SwitchyardSettings.jobLeaseMilliseconds.defaultValue
    public var runTimeoutMilliseconds = SwitchyardSettings.jobRunTimeoutMilliseconds.defaultValue
    public var pollIntervalMilliseconds = SwitchyardSettings.queuePollIntervalMilliseconds.defaultValue
    public var pollOnly = SwitchyardSettings.queuePollOnly.defaultValue
    public var retryBaseMilliseconds = SwitchyardSettings.jobRetryBaseMilliseconds.defaultValue
    public var retryMaxMilliseconds = SwitchyardSettings.jobRetryMaxMilliseconds.defaultValue
    public var schedulerTickMilliseconds = SwitchyardSettings.schedulerTickMilliseconds.defaultValue
    public var retentionHours = SwitchyardSettings.jobRetentionHours.defaultValue
    public var deadRetentionHours = SwitchyardSettings.deadJobRetentionHours.defaultValue
    public var webhookRetentionHours = SwitchyardSettings.webhookRetentionHours.defaultValue
    public var syncDeletedRecordRetentionHours = SwitchyardSettings.syncDeletedRecordRetentionHours.defaultValue
    public var destinationDisableAfterHours = SwitchyardSettings.destinationDisableAfterHours.defaultValue

    public init() {}

    static func load(_ settings: SettingsReader) throws(ConfigurationError) -> JobsSettings {
        typealias S = SwitchyardSettings
        var jobs = JobsSettings()
        jobs.executorConcurrency = try settings.value(S.executorConcurrency)
        jobs.tenantConcurrency = try settings.value(S.executorTenantConcurrency)
        jobs.claimBatch = try settings.value(S.executorClaimBatch)
        jobs.shutdownTimeoutMilliseconds = try settings.value(S.executorShutdownTimeoutMilliseconds)
        jobs.leaseMilliseconds = try settings.value(S.jobLeaseMilliseconds)
        jobs.runTimeoutMilliseconds = try settings.value(S.jobRunTimeoutMilliseconds)
        jobs.pollIntervalMilliseconds = try settings.value(S.queuePollIntervalMilliseconds)
        jobs.pollOnly = try settings.value(S.queuePollOnly)
        jobs.retryBaseMilliseconds = try settings.value(S.jobRetryBaseMilliseconds)
        jobs.retryMaxMilliseconds = try settings.value(S.jobRetryMaxMilliseconds.raisingMinimum(to: jobs.retryBaseMilliseconds))
        jobs.schedulerTickMilliseconds = try settings.value(S.schedulerTickMilliseconds)
        jobs.retentionHours = try settings.value(S.jobRetentionHours)
        jobs.deadRetentionHours = try settings.value(S.deadJobRetentionHours)
        jobs.webhookRetentionHours = try settings.value(S.webhookRetentionHours)
        jobs.syncDeletedRecordRetentionHours = try settings.value(S.syncDeletedRecordRetentionHours)
        jobs.destinationDisableAfterHours = try settings.value(S.destinationDisableAfterHours)
        return jobs
    }
}
