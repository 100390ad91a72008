import HTTPTypes

/// The `Retry-After` response header (RFC 9110 §10.2.3): delay-seconds or an HTTP-date.
public enum RetryAfter {
    /// How long the server asked us to wait, never negative; `nil` when the header is absent or unreadable.
    public static func delay(in fields: HTTPFields, unixTime: Double) -> Duration? {
        guard let value = fields[.retryAfter] else { return nil }
        return parse(value, unixTime: unixTime)
    }

    static func parse(_ value: String, unixTime: Double) -> Duration? {
        let trimmed = Substring(value).trimmingASCIISpaces()
        if let seconds = Double(trimmed), seconds.isFinite {
            // RFC 9110 says a non-negative integer; some servers send decimals, which are just as clear.
            return .seconds(max(0, seconds))
        }
        guard let date = HTTPDate.parse(trimmed) else { return nil }
        return .seconds(max(0, date - unixTime))
    }
}
