import Foundation
import Logging
import SwitchyardCore

/// What a handler knows about the job it runs.
public struct JobContext: Sendable {
    public let jobID: UUID
    public let tenantID: TenantID
    public let integrationID: UUID?
    /// This attempt's number, from 1.
    public let attempt: Int
    public let maxAttempts: Int
    /// When the executor abandons this attempt (its run timeout): a handler with long work stops at a safe point
    /// before it and throws `JobContinues`.
    public let deadline: ContinuousClock.Instant
    /// Carries `job_id`, `kind` and `tenant_id` metadata.
    public let logger: Logger
}

/// Runs the jobs of one kind, with the payload decoded to its type.
///
/// Returning means success. Throwing `JobFailure.permanent` dead-letters the job at once; any other
/// error is transient and the job is retried with backoff until its attempts run out. Jobs may run
/// more than once (REQUIREMENTS RL-2), so handlers make their effects idempotent.
public protocol JobHandler: Sendable {
    associatedtype Payload: JobPayload
    func run(_ payload: Payload, context: JobContext) async throws
}

/// A failure a handler reports with intent: permanent, or transient with a delay it wants honoured.
public struct JobFailure: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// Retrying cannot help (a 4xx from the provider, invalid payload).
        case permanent
        /// Retry later; after at least `retryAfter` when given (e.g. the provider's `Retry-After`).
        case transient(retryAfter: Duration?)
    }

    public let kind: Kind
    /// Kept as the job's `last_error`, visible to the tenant: no secrets.
    public let message: String

    public static func permanent(_ message: String) -> JobFailure {
        JobFailure(kind: .permanent, message: message)
    }

    public static func transient(_ message: String, retryAfter: Duration? = nil) -> JobFailure {
        JobFailure(kind: .transient(retryAfter: retryAfter), message: message)
    }

    public var description: String { message }
}

/// Thrown by a handler that stopped at a safe point with work left (a long sync between two pages): the job goes
/// back to the queue, due after `after`, and the attempt is not spent. The next attempt continues where this one
/// stopped, so a long job never runs into the run timeout.
public struct JobContinues: Error, Sendable {
    public let after: Duration
    /// Says how far the job got, for its history.
    public let progress: String

    public init(after: Duration = .zero, progress: String) {
        self.after = after
        self.progress = progress
    }
}
