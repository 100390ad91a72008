/// Settings of the outbound client, shared by every call to a third-party API.
///
/// Suggested environment variables, for when the executable reads them (defaults in brackets):
///
/// | variable | meaning | default |
/// |---|---|---|
/// | `SWITCHYARD_OUTBOUND_CONNECT_TIMEOUT_MS` | TCP + TLS connect timeout | 5000 |
/// | `SWITCHYARD_OUTBOUND_READ_TIMEOUT_MS` | longest silence while reading a response | 30000 |
/// | `SWITCHYARD_OUTBOUND_ATTEMPT_TIMEOUT_MS` | one attempt, from sending to the last body byte | 60000 |
/// | `SWITCHYARD_OUTBOUND_MAX_RESPONSE_BYTES` | response body cap | 10485760 |
/// | `SWITCHYARD_OUTBOUND_MAX_RATE_LIMIT_WAIT_MS` | longest wait for a provider's quota before `rateLimited` | 30000 |
/// | `SWITCHYARD_OUTBOUND_BREAKER_FAILURES` | consecutive failures that open a circuit | 5 |
/// | `SWITCHYARD_OUTBOUND_BREAKER_COOL_DOWN_MS` | open time before the half-open probe | 30000 |
/// | `SWITCHYARD_OUTBOUND_MAX_CONNECTIONS_PER_HOST` | HTTP/1.1 connection pool size per host | 8 |
/// | `SWITCHYARD_OUTBOUND_HTTP_ALLOW_LIST` | comma-separated `host[:port]` that may use plain http and private addresses (development only) | empty |
public struct OutboundConfiguration: Sendable {
    public var connectTimeout: Duration
    public var readTimeout: Duration
    /// The whole of one attempt, including the body: a provider that trickles bytes cannot hold a request forever.
    public var attemptTimeout: Duration
    public var maxResponseBytes: Int
    public var maxRateLimitWait: Duration
    public var breakerFailureThreshold: Int
    public var breakerCoolDown: Duration
    /// Below this fraction of the announced limit, requests are spaced out to last until the reset.
    public var lowQuotaFraction: Double
    /// Added to announced reset times, for clock skew and rounding.
    public var rateLimitResetMargin: Duration
    /// Most limiter and breaker keys remembered (each); least recently used idle ones are forgotten beyond it.
    public var maxTrackedKeys: Int
    public var maxConnectionsPerHost: Int
    public var idleConnectionTimeout: Duration
    /// `host[:port]` entries allowed plain http and private addresses: development and tests only.
    public var plainHTTPAllowList: [String]
    /// Tests only: connect to another host than the URL names, as a DNS answer that changed would.
    package var dnsOverride: [String: String] = [:]

    public init(
        connectTimeout: Duration = .seconds(5),
        readTimeout: Duration = .seconds(30),
        attemptTimeout: Duration = .seconds(60),
        maxResponseBytes: Int = 10 << 20,
        maxRateLimitWait: Duration = .seconds(30),
        breakerFailureThreshold: Int = 5,
        breakerCoolDown: Duration = .seconds(30),
        lowQuotaFraction: Double = 0.2,
        rateLimitResetMargin: Duration = .milliseconds(250),
        maxTrackedKeys: Int = 10_000,
        maxConnectionsPerHost: Int = 8,
        idleConnectionTimeout: Duration = .seconds(60),
        plainHTTPAllowList: [String] = []
    ) {
        self.connectTimeout = connectTimeout
        self.readTimeout = readTimeout
        self.attemptTimeout = attemptTimeout
        self.maxResponseBytes = maxResponseBytes
        self.maxRateLimitWait = maxRateLimitWait
        self.breakerFailureThreshold = max(1, breakerFailureThreshold)
        self.breakerCoolDown = breakerCoolDown
        self.lowQuotaFraction = min(max(lowQuotaFraction, 0), 1)
        self.rateLimitResetMargin = rateLimitResetMargin
        self.maxTrackedKeys = max(1, maxTrackedKeys)
        self.maxConnectionsPerHost = max(1, maxConnectionsPerHost)
        self.idleConnectionTimeout = idleConnectionTimeout
        self.plainHTTPAllowList = plainHTTPAllowList
    }
}
