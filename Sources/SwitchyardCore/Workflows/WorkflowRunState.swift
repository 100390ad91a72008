/// Where a workflow run is. `waiting`: a delay or a sync it waits for, with no executor held; `failed`: a step
/// exhausted its retries and the run is a dead letter until redriven; `skipped`: a filter stopped it.
public enum WorkflowRunStatus: String, Sendable, Codable, CaseIterable {
    case queued, running, waiting, succeeded, failed, skipped, cancelled

    /// The run will not go on by itself.
    public var isFinished: Bool { self == .succeeded || self == .failed || self == .skipped || self == .cancelled }
}

/// Where one step of a run is.
public enum WorkflowStepState: String, Sendable, Codable, CaseIterable {
    case pending, running, succeeded, failed, skipped

    /// A finished step never runs again (REQUIREMENTS WF-1).
    public var isFinished: Bool { self == .succeeded || self == .skipped }
}
