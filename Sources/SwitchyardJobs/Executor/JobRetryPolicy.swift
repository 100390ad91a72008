import SwitchyardCore
import SwitchyardOutbound
import SwitchyardPostgres

/// When a failed job runs again (REQUIREMENTS RL-3): exponential backoff with full jitter, a handler's
/// requested delay as a floor, dead letter after the job's `max_attempts`.
public struct JobRetryPolicy: Sendable {
    let backoff: RetryPolicy

    public init(base: Duration, max: Duration) {
        backoff = RetryPolicy(maxAttempts: .max, baseDelay: base, maxBackoff: max)
    }

    public init(_ settings: JobsSettings) {
        self.init(base: .milliseconds(settings.retryBaseMilliseconds), max: .milliseconds(settings.retryMaxMilliseconds))
    }

    /// The largest delay after failed attempt number `attempt` (1 for the first).
    public func ceiling(afterAttempt attempt: Int) -> Duration {
        backoff.backoff(retry: attempt, unitRandom: 1)
    }

    /// What becomes of a job whose attempt number `attempt` failed with `failure`.
    public func outcome(attempt: Int, maxAttempts: Int, failure: JobFailure, unitRandom: Double = .random(in: 0..<1)) -> JobCompletion.Outcome {
        guard attempt < maxAttempts else { return .dead }
        let requested: Duration?
        switch failure.kind {
        case .permanent: return .dead
        case .scheduled(let after): return .retry(after: after)
        case .transient(let delay): requested = delay
        }
        let drawn = backoff.backoff(retry: attempt, unitRandom: unitRandom)
        guard let requested, requested > drawn else { return .retry(after: drawn) }
        return .retry(after: requested)
    }
}
