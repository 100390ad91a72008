import Foundation

/// `workflow.run`: one workflow run, executed step by step; each attempt resumes at the run's first unfinished step.
///
/// A manual run's row exists before its job (`runID`). A run started by an event is created by its job, whose id
/// becomes the run's: the event trigger of migration 0027 enqueues one job per matching workflow with the event in
/// it, and the job creates the run only when the trigger's condition holds.
public struct WorkflowRunPayload: JobPayload, Equatable {
    public static let kind = "workflow.run"
    /// Attempts are spent only by crashes and database failures: a step's own retries wait without spending one
    /// (`JobContinues`), and a step that exhausts its retries fails the run (and the job) at once. The event trigger
    /// (`Migrations/0027_start_workflows_on_events.sql`) writes the same number.
    public static let maxAttempts = 10
    public var workflowID: UUID
    public var runID: UUID?
    /// For a run not yet created: the version it pins and the event that starts it.
    public var version: Int?
    public var event: JSONValue?

    public init(workflowID: UUID, runID: UUID?, version: Int? = nil, event: JSONValue? = nil) {
        self.workflowID = workflowID
        self.runID = runID
        self.version = version
        self.event = event
    }

    enum CodingKeys: String, CodingKey {
        case workflowID = "workflow_id"
        case runID = "run_id"
        case version
        case event
    }
}
