import HTTPTypes

/// When and how often a failed attempt is repeated (RL-3): exponential backoff with full jitter,
/// `Retry-After` honoured, bounded by an attempt count and by the total time spent waiting.
public struct RetryPolicy: Sendable, Hashable {
    /// Attempts in all, the first included; 1 means no retry.
    public var maxAttempts: Int
    /// The backoff cap before the first retry; it doubles with every retry up to `maxBackoff`.
    public var baseDelay: Duration
    /// The largest backoff drawn for one retry (a `Retry-After` may ask for more, within `maxTotalDelay`).
    public var maxBackoff: Duration
    /// The most time spent waiting between attempts in all. A `Retry-After` that would exceed it ends the retries
    /// rather than being cut short.
    public var maxTotalDelay: Duration
    /// Whether POST, PATCH and other non-idempotent requests are retried after they may have reached the
    /// provider. Set it only when the request carries an idempotency key or is otherwise safe to repeat.
    /// Attempts that failed to connect are always retried: nothing was sent.
    public var retryNonIdempotent: Bool

    public init(
        maxAttempts: Int = 3,
        baseDelay: Duration = .milliseconds(200),
        maxBackoff: Duration = .seconds(10),
        maxTotalDelay: Duration = .seconds(30),
        retryNonIdempotent: Bool = false
    ) {
        self.maxAttempts = max(1, maxAttempts)
        self.baseDelay = baseDelay
        self.maxBackoff = maxBackoff
        self.maxTotalDelay = maxTotalDelay
        self.retryNonIdempotent = retryNonIdempotent
    }

    /// Three attempts, 200 ms doubling to 10 s, at most 30 s of waiting.
    public static let standard = RetryPolicy()
    /// One attempt only.
    public static let never = RetryPolicy(maxAttempts: 1)

    /// Methods that RFC 9110 §9.2.2 defines as idempotent.
    public static func isIdempotent(_ method: HTTPRequest.Method) -> Bool {
        switch method {
        case .get, .head, .options, .trace, .put, .delete: true
        default: false
        }
    }

    /// The full-jitter backoff before retry number `retry` (1 for the first retry):
    /// uniform in [0, min(maxBackoff, baseDelay · 2^(retry-1))]. `unitRandom` is uniform in [0, 1).
    public func backoff(retry: Int, unitRandom: Double) -> Duration {
        // Doubling stops once past the cap, so the product cannot overflow.
        var ceiling = baseDelay
        for _ in 1..<max(retry, 1) where ceiling < maxBackoff {
            ceiling *= 2
        }
        return min(ceiling, maxBackoff) * min(max(unitRandom, 0), 1)
    }

    /// The wait before retry number `retry`, or `nil` when the policy says to stop.
    /// A `Retry-After` is a floor: the wait is never shorter than the provider asked.
    func delay(beforeRetry retry: Int, retryAfter: Duration?, waitedSoFar: Duration, unitRandom: Double) -> Duration? {
        guard retry < maxAttempts else { return nil }
        var delay = backoff(retry: retry, unitRandom: unitRandom)
        if let retryAfter, retryAfter > delay {
            delay = retryAfter
        }
        guard waitedSoFar + delay <= maxTotalDelay else { return nil }
        return delay
    }
}
