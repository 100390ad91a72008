import Foundation
import SwitchyardCore
import SwitchyardWorkflows

/// Runs `workflow.run` jobs: one attempt of a run, from its first unfinished step. A run that waits (a delay, a sync,
/// a step's retry) continues in a later attempt without spending one; a failed run fails its job for good, which is
/// the run's dead letter (`POST /v1/workflow-runs/{id}/redrive`, or the dead letters' redrive, resumes it).
public struct WorkflowRunHandler: JobHandler {
    let runner: WorkflowRunner

    public init(runner: WorkflowRunner) {
        self.runner = runner
    }

    public func run(_ payload: WorkflowRunPayload, context: JobContext) async throws {
        let outcome = try await runner.run(payload, jobID: context.jobID, tenant: context.tenantID, attempt: context.attempt, logger: context.logger)
        switch outcome {
        case .finished(.failed, let error): throw JobFailure.permanent(error ?? "the run failed")
        case .finished, .notStarted: return
        case .waiting(let after, let progress): throw JobContinues(after: after, progress: progress)
        case .deferred(let after, let reason): throw JobDeferred(after: after, reason: reason)
        }
    }
}
