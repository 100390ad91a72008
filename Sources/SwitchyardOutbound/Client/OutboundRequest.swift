import HTTPTypes
import NIOCore
import SwitchyardCore

/// One call to a third-party API, with what the client needs to send it politely and safely.
public struct OutboundRequest: Sendable {
    public var method: HTTPRequest.Method
    /// Absolute `https` URL (plain `http` only for allow-listed hosts). Checked by the SSRF guard before every request.
    public var url: String
    /// Sent as given, except hop-by-hop and framing headers (`Connection`, `Host`, `Content-Length`, ...), which the
    /// client sets itself. Never logged.
    public var headers: HTTPFields
    public var body: ByteBuffer?
    /// The provider's catalogue id (`github`, `hubspot`): the metrics label. Keep it bounded; never an integration id.
    public var provider: String
    /// Whose quota this request spends: usually the integration (one provider account), sometimes a destination.
    public var limiterKey: String
    /// The tenant whose provider account `limiterKey` names: with one, the quota is spent together with the other
    /// processes through the client's shared store (issue 18); without, this process limits the key alone.
    public var tenant: TenantID?
    /// Which circuit breaker this request belongs to: usually the same as `limiterKey`.
    public var breakerKey: String
    /// The headers the provider announces its quota in.
    public var rateLimitHeaders: RateLimitHeaders
    public var retry: RetryPolicy
    /// How long this request may wait for the quota before failing with `rateLimited`; `nil` uses the client's default.
    public var maxRateLimitWait: Duration?

    public init(
        method: HTTPRequest.Method,
        url: String,
        headers: HTTPFields = [:],
        body: ByteBuffer? = nil,
        provider: String,
        key: String,
        tenant: TenantID? = nil,
        breakerKey: String? = nil,
        rateLimitHeaders: RateLimitHeaders = .standard,
        retry: RetryPolicy = .standard,
        maxRateLimitWait: Duration? = nil
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.provider = provider
        self.limiterKey = key
        self.tenant = tenant
        self.breakerKey = breakerKey ?? key
        self.rateLimitHeaders = rateLimitHeaders
        self.retry = retry
        self.maxRateLimitWait = maxRateLimitWait
    }
}
