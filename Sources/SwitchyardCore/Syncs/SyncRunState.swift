/// Whether a sync run reads everything (and then marks what it did not see as deleted) or only what changed
/// since the last completed run's checkpoint.
public enum SyncRunMode: String, Sendable, Codable, CaseIterable {
    case full, incremental
}

/// What started a sync run.
public enum SyncRunTrigger: String, Sendable, Codable, CaseIterable {
    case schedule, api, reset, webhook
}

/// Where a sync run is: `queued` until its job first runs, `running` until it succeeds or fails.
public enum SyncRunStatus: String, Sendable, Codable, CaseIterable {
    case queued, running, succeeded, failed

    public var isFinished: Bool { self == .succeeded || self == .failed }
}
