/// How one outbound attempt ended, in the classes RL-4 defines plus the ways a request is refused before it is sent.
public enum OutboundOutcome: String, Sendable, Hashable, CaseIterable {
    /// 1xx–3xx (redirects are returned, not followed).
    case success
    /// A 4xx other than 408, 409, 425 and 429, an oversized response, or an invalid request: retrying cannot help.
    case permanent
    /// 408, 409, 425, 5xx, timeouts and connection errors: the same request may succeed later.
    case transient
    /// 429 from the provider, or our own limiter would have had to wait longer than allowed. Transient in RL-4's terms.
    case rateLimited = "rate_limited"
    /// The destination's circuit breaker is open; nothing was sent.
    case circuitOpen = "circuit_open"
    /// The SSRF guard refused the destination; nothing was sent.
    case blocked

    /// Classifies a response status (RL-4).
    public init(status: Int) {
        switch status {
        case ..<400: self = .success
        case 429: self = .rateLimited
        case 408, 409, 425: self = .transient
        case 400..<500: self = .permanent
        default: self = .transient
        }
    }

    /// Whether sending the same request again may give a different answer.
    public var isRetryable: Bool {
        self == .transient || self == .rateLimited
    }

    /// The value of the `outcome` metric label.
    public var label: String { rawValue }
}
