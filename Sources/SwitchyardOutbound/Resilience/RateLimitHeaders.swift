import HTTPTypes

/// Which response headers announce a provider's quota, so the limiter can slow down before the quota runs out.
///
/// The defaults are the common `X-RateLimit-*` trio (GitHub, Shopify's REST admin, many others).
/// Values may be decimals; for list values (`100, 100;w=60`) the first number is used.
public struct RateLimitHeaders: Sendable, Hashable {
    public enum ResetFormat: Sendable, Hashable {
        /// Seconds until the window resets (`X-RateLimit-Reset: 42`).
        case deltaSeconds
        /// Unix time at which the window resets (`X-RateLimit-Reset: 1735689600`).
        case epochSeconds
        /// Epoch seconds when the value is at least 10^9 (September 2001), delta seconds otherwise.
        case automatic
    }

    public var limit: HTTPField.Name
    public var remaining: HTTPField.Name
    public var reset: HTTPField.Name
    public var resetFormat: ResetFormat

    public init(
        limit: HTTPField.Name = HTTPField.Name("X-RateLimit-Limit")!,
        remaining: HTTPField.Name = HTTPField.Name("X-RateLimit-Remaining")!,
        reset: HTTPField.Name = HTTPField.Name("X-RateLimit-Reset")!,
        resetFormat: ResetFormat = .automatic
    ) {
        self.limit = limit
        self.remaining = remaining
        self.reset = reset
        self.resetFormat = resetFormat
    }

    public static let standard = RateLimitHeaders()

    /// What one response announced; `nil` fields were absent or unreadable.
    struct Announcement: Sendable, Equatable {
        var limit: Int?
        var remaining: Int?
        var resetAfter: Duration?
    }

    /// Reads the announcement in `fields`; `nil` when none of the headers is present.
    func announcement(in fields: HTTPFields, unixTime: Double) -> Announcement? {
        let limit = Self.number(fields[self.limit]).map { Int(max(0, $0)) }
        let remaining = Self.number(fields[self.remaining]).map { Int(max(0, $0)) }
        let resetAfter = Self.number(fields[self.reset]).map { value -> Duration in
            let isEpoch =
                switch resetFormat {
                case .deltaSeconds: false
                case .epochSeconds: true
                case .automatic: value >= 1_000_000_000
                }
            return .seconds(max(0, isEpoch ? value - unixTime : value))
        }
        guard limit != nil || remaining != nil || resetAfter != nil else { return nil }
        return Announcement(limit: limit, remaining: remaining, resetAfter: resetAfter)
    }

    private static func number(_ value: String?) -> Double? {
        guard let value else { return nil }
        let first = value.split(separator: ",").first?.split(separator: ";").first ?? ""
        guard let number = Double(first.trimmingASCIISpaces()), number.isFinite else { return nil }
        return number
    }
}

extension Substring {
    func trimmingASCIISpaces() -> Substring {
        var text = self
        while text.first == " " || text.first == "\t" { text = text.dropFirst() }
        while text.last == " " || text.last == "\t" { text = text.dropLast() }
        return text
    }
}
