import SwitchyardCore
import SwitchyardOutbound

extension OutboundConfiguration {
    /// The outbound client's configuration from the process's settings.
    public init(_ settings: OutboundSettings) {
        self.init(
            connectTimeout: .milliseconds(settings.connectTimeoutMilliseconds),
            readTimeout: .milliseconds(settings.readTimeoutMilliseconds),
            attemptTimeout: .milliseconds(settings.attemptTimeoutMilliseconds),
            maxResponseBytes: settings.maxResponseBytes,
            maxRateLimitWait: .milliseconds(settings.maxRateLimitWaitMilliseconds),
            breakerFailureThreshold: settings.breakerFailures,
            breakerCoolDown: .milliseconds(settings.breakerCoolDownMilliseconds),
            plainHTTPAllowList: settings.plainHTTPAllowList
        )
    }
}
