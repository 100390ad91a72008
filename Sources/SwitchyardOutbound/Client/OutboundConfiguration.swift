import SwitchyardCore

/// Settings of the outbound client, shared by every call to a third-party API.
///
/// The environment sets those defined in `SwitchyardSettings` (`SWITCHYARD_OUTBOUND_...`, through `OutboundSettings`),
/// and this initialiser's defaults are theirs; the others are fixed, or changed by tests.
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
        connectTimeout: Duration = .milliseconds(SwitchyardSettings.outboundConnectTimeoutMilliseconds.defaultValue),
        readTimeout: Duration = .milliseconds(SwitchyardSettings.outboundReadTimeoutMilliseconds.defaultValue),
        attemptTimeout: Duration = .milliseconds(SwitchyardSettings.outboundAttemptTimeoutMilliseconds.defaultValue),
        maxResponseBytes: Int = SwitchyardSettings.outboundMaxResponseBytes.defaultValue,
        maxRateLimitWait: Duration = .milliseconds(SwitchyardSettings.outboundMaxRateLimitWaitMilliseconds.defaultValue),
        breakerFailureThreshold: Int = SwitchyardSettings.outboundBreakerFailures.defaultValue,
        breakerCoolDown: Duration = .milliseconds(SwitchyardSettings.outboundBreakerCoolDownMilliseconds.defaultValue),
        lowQuotaFraction: Double = 0.2,
        rateLimitResetMargin: Duration = .milliseconds(250),
        maxTrackedKeys: Int = 10_000,
        maxConnectionsPerHost: Int = 8,
        idleConnectionTimeout: Duration = .seconds(60),
        plainHTTPAllowList: [String] = SwitchyardSettings.outboundHTTPAllowList.defaultValue
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
