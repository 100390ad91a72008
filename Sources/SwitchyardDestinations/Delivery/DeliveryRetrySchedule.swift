/// When a failed delivery is tried again (README, "Destinations"): after attempt n fails, the next waits a random
/// delay between zero and step n (full jitter), but never less than the receiver's `Retry-After` (capped). After the
/// last step the delivery is a dead letter.
public struct DeliveryRetrySchedule: Sendable, Equatable {
    /// About 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h: eight attempts over about a day and a half.
    public static let standard = DeliveryRetrySchedule(
        steps: [.seconds(5), .seconds(300), .seconds(1800), .seconds(7200), .seconds(18_000), .seconds(36_000), .seconds(36_000)],
        retryAfterCap: .seconds(36_000)
    )

    public let steps: [Duration]
    /// The longest `Retry-After` honoured: a receiver cannot hold a delivery back for longer than the schedule's largest step.
    public let retryAfterCap: Duration

    public init(steps: [Duration], retryAfterCap: Duration) {
        self.steps = steps
        self.retryAfterCap = retryAfterCap
    }

    /// Every attempt a delivery gets: the first and one per step.
    public var attempts: Int { steps.count + 1 }

    /// The delay before the retry that follows failed attempt `attempt` (from 1), or nil when none is left.
    public func delay(afterAttempt attempt: Int, retryAfter: Duration?, unitRandom: Double) -> Duration? {
        guard attempt >= 1, attempt <= steps.count else { return nil }
        let drawn = steps[attempt - 1] * min(max(unitRandom, 0), 1)
        guard let retryAfter else { return drawn }
        return max(drawn, min(retryAfter, retryAfterCap))
    }
}
