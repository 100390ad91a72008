extension SwitchyardSettings {
    public static let httpHost = TextSetting(
        "SWITCHYARD_HTTP_HOST",
        default: "127.0.0.1",
        accepts: "a host name or IP address",
        "listen host (`--host`); also the address of `executor` and `scheduler` `--metrics-port`"
    )
    public static let httpPort = IntegerSetting("SWITCHYARD_HTTP_PORT", default: 8080, in: 0...65535, "listen port (`--port`)")
    public static let tlsCertificatePath = TextSetting(
        "SWITCHYARD_TLS_CERTIFICATE_PATH",
        unset: "cleartext HTTP/1.1 + h2c",
        accepts: "a PEM file, set together with `SWITCHYARD_TLS_PRIVATE_KEY_PATH`",
        "the certificate chain; when set the port speaks TLS with ALPN (h2, http/1.1)"
    )
    public static let tlsPrivateKeyPath = TextSetting(
        "SWITCHYARD_TLS_PRIVATE_KEY_PATH",
        unset: "cleartext HTTP/1.1 + h2c",
        accepts: "a PEM file, set together with `SWITCHYARD_TLS_CERTIFICATE_PATH`",
        "the certificate's private key"
    )
    public static let httpIdleTimeoutSeconds = IntegerSetting(
        "SWITCHYARD_HTTP_IDLE_TIMEOUT_SECONDS",
        default: 60,
        in: 1...86_400,
        "idle connections are closed after this"
    )
    public static let maxBodyBytes = IntegerSetting(
        "SWITCHYARD_MAX_BODY_BYTES",
        default: 1 << 20,
        in: 1024...(64 << 20),
        "request body cap (413 above it)"
    )
    public static let maxPageSize = IntegerSetting("SWITCHYARD_MAX_PAGE_SIZE", default: 100, in: 1...1000, "cap on `limit` in list requests")
    public static let rateLimitPerSecond = IntegerSetting(
        "SWITCHYARD_RATE_LIMIT_PER_SECOND",
        default: 50,
        in: 1...1_000_000,
        "per-key request rate (429 with `Retry-After` above it), for all `serve` processes together unless `SWITCHYARD_RATE_LIMIT_SCOPE` is `process`"
    )
    public static let rateLimitBurst = IntegerSetting(
        "SWITCHYARD_RATE_LIMIT_BURST",
        default: 100,
        in: 1...1_000_000,
        "requests a key may make at once before the rate applies"
    )
    public static let rateLimitScope = ChoiceSetting<RateLimitScope>(
        "SWITCHYARD_RATE_LIMIT_SCOPE",
        default: .shared,
        "`shared`: a tenant key's budget holds across all `serve` processes (leased from PostgreSQL a few tokens at a time, see \"Rate limits\"); `process`: each process grants the whole budget"
    )
}
