import Foundation
import SwitchyardCore
import SwitchyardSyncs

/// Runs `sync.run` jobs: the job's id is the run's. A run that fails for good fails its job too, so the
/// integration's health counts it; a transient failure retries the job, which resumes at the first uncommitted page.
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
            logger: context.logger
        )
        switch outcome {
        case .done: return
        case .failed(let message): throw JobFailure.permanent(message)
        case .retry(let message, let delay): throw JobFailure.transient(message, retryAfter: delay)
        }
    }
}
