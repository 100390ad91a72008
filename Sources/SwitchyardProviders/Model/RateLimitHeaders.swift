/// Which response headers report a provider's rate-limit state; `Retry-After` on 429 is assumed everywhere.
public struct RateLimitHeaders: Sendable, Hashable, Codable {
    /// The request allowance of the current window.
    public var limit: String?
    /// What is left of it.
    public var remaining: String?
    /// When the window resets, in `resetFormat`.
    public var reset: String?
    /// How to read `reset`; nil exactly when `reset` is nil.
    public var resetFormat: ResetFormat?

    public init(limit: String?, remaining: String?, reset: String? = nil, resetFormat: ResetFormat? = nil) {
        self.limit = limit
        self.remaining = remaining
        self.reset = reset
        self.resetFormat = resetFormat
    }

    enum CodingKeys: String, CodingKey {
        case limit, remaining, reset
        case resetFormat = "reset_format"
    }

    /// How a reset header expresses time.
    public enum ResetFormat: String, Sendable, Hashable, Codable {
        /// Unix time in seconds.
        case epochSeconds = "epoch_seconds"
        /// Unix time in milliseconds.
        case epochMilliseconds = "epoch_milliseconds"
        /// Seconds from now.
        case deltaSeconds = "delta_seconds"
        /// An ISO 8601 timestamp.
        case timestamp
    }
}
