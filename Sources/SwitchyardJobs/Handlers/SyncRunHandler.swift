import Foundation
import SwitchyardCore
import SwitchyardSyncs

/// Runs `sync.run` jobs: the job's id is the run's. A run that fails for good fails its job too, so the
/// integration's health counts it; a transient failure retries the job, which resumes at the first uncommitted page.
/// An attempt reads pages for half of its run timeout at most, then continues in a new attempt (`JobContinues`), so
/// a sync of any size never looks like a wedged handler.
public struct SyncRunHandler: JobHandler {
    let runner: SyncRunner

    public init(runner: SyncRunner) {
        self.runner = runner
    }

    public func run(_ payload: SyncRunPayload, context: JobContext) async throws {
        let outcome = try await runner.run(
            context.jobID,
            payload: payload,
            tenant: context.tenantID,
            isLastAttempt: context.attempt >= context.maxAttempts,
            until: ContinuousClock.now + (context.deadline - ContinuousClock.now) / 2,
            logger: context.logger
        )
        switch outcome {
        case .done: return
        case .failed(let message): throw JobFailure.permanent(message)
        case .retry(let message, let delay): throw JobFailure.transient(message, retryAfter: delay)
        case .continuing(let progress): throw JobContinues(progress: progress)
        }
    }
}
