extension SwitchyardSettings {
    public static let outboundConnectTimeoutMilliseconds = IntegerSetting(
        "SWITCHYARD_OUTBOUND_CONNECT_TIMEOUT_MS",
        default: 5_000,
        in: 100...600_000,
        "calls to providers: TCP and TLS connect timeout"
    )
    public static let outboundReadTimeoutMilliseconds = IntegerSetting(
        "SWITCHYARD_OUTBOUND_READ_TIMEOUT_MS",
        default: 30_000,
        in: 100...3_600_000,
        "calls to providers: longest silence while reading a response"
    )
    public static let outboundAttemptTimeoutMilliseconds = IntegerSetting(
        "SWITCHYARD_OUTBOUND_ATTEMPT_TIMEOUT_MS",
        default: 60_000,
        in: 100...3_600_000,
        "calls to providers: one attempt, from sending to the last body byte"
    )
    public static let outboundMaxResponseBytes = IntegerSetting(
        "SWITCHYARD_OUTBOUND_MAX_RESPONSE_BYTES",
        default: 10 << 20,
        in: 1024...(1 << 30),
        "providers' response body cap"
    )
    public static let outboundMaxRateLimitWaitMilliseconds = IntegerSetting(
        "SWITCHYARD_OUTBOUND_MAX_RATE_LIMIT_WAIT_MS",
        default: 30_000,
        in: 0...3_600_000,
        "longest wait for a provider's quota before 429"
    )
    public static let outboundBreakerFailures = IntegerSetting(
        "SWITCHYARD_OUTBOUND_BREAKER_FAILURES",
        default: 5,
        in: 1...1000,
        "consecutive failures that open an integration's circuit breaker (503 while open)"
    )
    public static let outboundBreakerCoolDownMilliseconds = IntegerSetting(
        "SWITCHYARD_OUTBOUND_BREAKER_COOL_DOWN_MS",
        default: 30_000,
        in: 100...3_600_000,
        "how long a circuit stays open before a probe call"
    )
    public static let outboundHTTPAllowList = TextSetting(
        "SWITCHYARD_OUTBOUND_HTTP_ALLOW_LIST",
        listOf: "`host[:port]`",
        unset: "empty (`dev`: 127.0.0.1, localhost)",
        "hosts reachable over plain http and on private addresses (development only)"
    )
}
