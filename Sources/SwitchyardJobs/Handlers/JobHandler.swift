import Foundation
import Logging
import SwitchyardCore
import Synchronization

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
    /// What the handler says about this attempt, kept in its history entry (`detail`) whatever the outcome.
    public let attemptDetail: AttemptDetail

    public init(
        jobID: UUID,
        tenantID: TenantID,
        integrationID: UUID?,
        attempt: Int,
        maxAttempts: Int,
        deadline: ContinuousClock.Instant,
        logger: Logger,
        attemptDetail: AttemptDetail = AttemptDetail()
    ) {
        self.jobID = jobID
        self.tenantID = tenantID
        self.integrationID = integrationID
        self.attempt = attempt
        self.maxAttempts = maxAttempts
        self.deadline = deadline
        self.logger = logger
        self.attemptDetail = attemptDetail
    }
}

/// The detail of one attempt a handler records as it goes (a delivery's response status and body): a handler that
/// then throws still leaves it in the attempt's history entry.
public final class AttemptDetail: Sendable {
    private let fields = Mutex<[String: JSONValue]>([:])

    public init() {}

    public func record(_ key: String, _ value: JSONValue) {
        fields.withLock { $0[key] = value }
    }

    public var values: [String: JSONValue] { fields.withLock { $0 } }
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
        /// Retry after exactly `after`: the handler keeps its own documented schedule (webhook deliveries).
        case scheduled(after: Duration)
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

    /// A failure the handler has its own retry schedule for: the next attempt starts after `after`, not after the
    /// executor's backoff; the job still becomes a dead letter when its `max_attempts` are spent.
    public static func scheduled(_ message: String, after: Duration) -> JobFailure {
        JobFailure(kind: .scheduled(after: after), message: message)
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

/// Thrown by a handler that cannot start its work now for a reason outside the job (its destination's circuit is
/// open, the destination's rate or concurrency limit is reached): the job goes back to the queue, due after `after`,
/// and neither an attempt nor a history entry is spent on it.
public struct JobDeferred: Error, Sendable {
    public let after: Duration
    public let reason: String

    public init(after: Duration, reason: String) {
        self.after = after
        self.reason = reason
    }
}
