extension Duration {
    /// The duration in whole milliseconds, rounded toward zero: how the database and the logs take durations.
    public var wholeMilliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }

    /// Whole seconds, rounded up, for messages.
    public var roundedUpSeconds: Int {
        let (seconds, attoseconds) = components
        return Int(seconds) + (attoseconds > 0 ? 1 : 0)
    }

    /// A wait as `Retry-After` says it: whole seconds, rounded up, and at least 1 (0 would mean "now").
    public var retryAfterSeconds: Int { max(1, roundedUpSeconds) }

    /// The duration in seconds, as a floating-point number.
    public var inSeconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
