import Configuration
import Foundation
import Logging

/// Everything a Switchyard process reads from its environment, read once at start.
///
/// Each key is an environment variable (flags override some of them, see `switchyard serve --help`):
///
/// | variable | meaning | default |
/// |---|---|---|
/// | `SWITCHYARD_DATABASE_URL` | the application role's connection (no superuser, no BYPASSRLS, owns no tables) | required |
/// | `SWITCHYARD_MIGRATION_DATABASE_URL` | the schema owner's connection, used by `migrate` only | `SWITCHYARD_DATABASE_URL` |
/// | `SWITCHYARD_DATABASE_MAX_CONNECTIONS` | connection pool size per process | 20 |
/// | `SWITCHYARD_DATABASE_STATEMENT_TIMEOUT_MS` | server-side cap on any one statement | 15000 |
/// | `SWITCHYARD_DATABASE_ACQUIRE_TIMEOUT_MS` | longest wait for a pooled connection; then 503 (the database is down or the pool exhausted) | 2000 |
/// | `SWITCHYARD_DATABASE_CALL_TIMEOUT_MS` | longest a transaction may hold its connection; then the connection is closed and the call fails (a dead socket never answers) | 30000 |
/// | `SWITCHYARD_DATABASE_INGEST_TIMEOUT_MS` | the same for a webhook ingest batch; with the acquire timeout it bounds how long a provider waits for a 503 | 3000 |
/// | `SWITCHYARD_HTTP_HOST` / `SWITCHYARD_HTTP_PORT` | listen address | 127.0.0.1 / 8080 |
/// | `SWITCHYARD_TLS_CERTIFICATE_PATH` / `SWITCHYARD_TLS_PRIVATE_KEY_PATH` | PEM files; when set the port speaks TLS with ALPN (h2, http/1.1) | unset: cleartext HTTP/1.1 + h2c |
/// | `SWITCHYARD_HTTP_IDLE_TIMEOUT_SECONDS` | idle connections are closed after this | 60 |
/// | `SWITCHYARD_KEYRING_FILE` | the local keyring (key-encryption keys), a file of mode 0600 written by `switchyard keys generate` | required by `serve` unless `SWITCHYARD_KEYRING` |
/// | `SWITCHYARD_KEYRING` | the keyring's JSON text itself, for platforms that inject secrets as variables | |
/// | `SWITCHYARD_ADMIN_KEY` | the platform operator's key for `/v1/tenants` (at least 32 characters) | required by `serve` |
/// | `SWITCHYARD_MAX_BODY_BYTES` | request body cap (413 above it) | 1048576 |
/// | `SWITCHYARD_MAX_PAGE_SIZE` | cap on `limit` in list requests | 100 |
/// | `SWITCHYARD_RATE_LIMIT_PER_SECOND` / `SWITCHYARD_RATE_LIMIT_BURST` | per-key request rate (429 above it) | 50 / 100 |
/// | `SWITCHYARD_OUTBOUND_CONNECT_TIMEOUT_MS` / `_READ_TIMEOUT_MS` / `_ATTEMPT_TIMEOUT_MS` | calls to providers | 5000 / 30000 / 60000 |
/// | `SWITCHYARD_OUTBOUND_MAX_RESPONSE_BYTES` | providers' response cap | 10485760 |
/// | `SWITCHYARD_OUTBOUND_MAX_RATE_LIMIT_WAIT_MS` | longest wait for a provider's quota | 30000 |
/// | `SWITCHYARD_OUTBOUND_BREAKER_FAILURES` / `_BREAKER_COOL_DOWN_MS` | circuit breaker per integration | 5 / 30000 |
/// | `SWITCHYARD_OUTBOUND_HTTP_ALLOW_LIST` | comma-separated `host[:port]` allowed plain http and private addresses (development only) | empty |
/// | `SWITCHYARD_EXECUTOR_...`, `SWITCHYARD_QUEUE_...`, `SWITCHYARD_JOB_...`, `SWITCHYARD_SCHEDULER_...` | the job queue; see `JobsSettings` | |
/// | `SWITCHYARD_PUBLIC_URL` | the address end users' browsers reach this server at; the OAuth redirect URI is `<this>/oauth/callback` | `http(s)://HOST:PORT` |
/// | `SWITCHYARD_OAUTH_REFRESH_SKEW_SECONDS` | access tokens this close to expiry are refreshed before use | 300 |
/// | `SWITCHYARD_CONNECT_SESSION_TTL_SECONDS` | how long a connect link stays usable | 1800 |
/// | `SWITCHYARD_LOG_LEVEL` | trace, debug, info, notice, warning, error, critical | info |
/// | `SWITCHYARD_LOG_FORMAT` | `text` or `json` | text |
public struct SwitchyardConfiguration: Sendable {
    public var database: DatabaseConfiguration
    public var http: HTTPConfiguration
    public var limits: LimitsConfiguration
    public var logging: LoggingConfiguration
    /// The operator key; `nil` only for processes that serve no API (`migrate`).
    public var adminKey: String?
    /// Where the key-encryption keys come from; `nil` only for processes that touch no secret (`migrate`).
    public var keyring: KeyringSource?
    /// Calls to third-party APIs.
    public var outbound: OutboundSettings = OutboundSettings()
    /// The job queue, its executors and the scheduler (see `JobsSettings`).
    public var jobs: JobsSettings = JobsSettings()
    /// The OAuth connect flow and token refresh.
    public var oauth: OAuthSettings = OAuthSettings()

    public init(
        database: DatabaseConfiguration,
        http: HTTPConfiguration,
        limits: LimitsConfiguration,
        logging: LoggingConfiguration,
        adminKey: String?,
        keyring: KeyringSource? = nil,
        outbound: OutboundSettings = OutboundSettings(),
        jobs: JobsSettings = JobsSettings(),
        oauth: OAuthSettings = OAuthSettings()
    ) {
        self.database = database
        self.http = http
        self.limits = limits
        self.logging = logging
        self.adminKey = adminKey
        self.keyring = keyring
        self.outbound = outbound
        self.jobs = jobs
        self.oauth = oauth
    }

    /// Where browsers reach this server, without a trailing slash: `SWITCHYARD_PUBLIC_URL`, else the listen address.
    public var publicBaseURL: String {
        if let url = oauth.publicURL { return url }
        let scheme = http.tls == nil ? "http" : "https"
        let host = ["0.0.0.0", "::", ""].contains(http.host) ? "127.0.0.1" : http.host
        return "\(scheme)://\(host.contains(":") ? "[\(host)]" : host):\(http.port)"
    }
}

/// The OAuth connect flow and token refresh (REQUIREMENTS OA-1..OA-9).
public struct OAuthSettings: Sendable, Equatable {
    /// `SWITCHYARD_PUBLIC_URL` without a trailing slash; nil derives it from the listen address.
    public var publicURL: String?
    /// Tokens expiring within this many seconds are refreshed before they are handed out (OA-5).
    public var refreshSkewSeconds = 300
    /// How long a connect session's link works.
    public var connectSessionTTLSeconds = 1800
    /// How long an authorization request's `state` stays valid (OA-1: 10 minutes).
    public var stateTTLSeconds = 600

    public init(publicURL: String? = nil, refreshSkewSeconds: Int = 300, connectSessionTTLSeconds: Int = 1800, stateTTLSeconds: Int = 600) {
        self.publicURL = publicURL
        self.refreshSkewSeconds = refreshSkewSeconds
        self.connectSessionTTLSeconds = connectSessionTTLSeconds
        self.stateTTLSeconds = stateTTLSeconds
    }
}

/// Timeouts, caps and resilience settings of calls to third-party APIs (see `OutboundConfiguration`).
public struct OutboundSettings: Sendable, Equatable {
    public var connectTimeoutMilliseconds = 5_000
    public var readTimeoutMilliseconds = 30_000
    public var attemptTimeoutMilliseconds = 60_000
    public var maxResponseBytes = 10 << 20
    public var maxRateLimitWaitMilliseconds = 30_000
    public var breakerFailures = 5
    public var breakerCoolDownMilliseconds = 30_000
    /// `host[:port]` entries allowed plain http and private addresses: development and tests only.
    public var plainHTTPAllowList: [String] = []

    public init() {}
}

/// Where the local keyring is read from.
public enum KeyringSource: Sendable, Equatable {
    case file(path: String)
    /// The JSON text, from `SWITCHYARD_KEYRING`.
    case inline(json: String)
}

public struct DatabaseConfiguration: Sendable {
    public var url: DatabaseURL
    public var migrationURL: DatabaseURL
    public var maxConnections: Int
    public var statementTimeoutMilliseconds: Int
    /// How long a call waits for a pooled connection (REQUIREMENTS RL-8).
    public var acquireTimeoutMilliseconds: Int
    /// How long a call may hold its connection before the connection is closed under it.
    public var callTimeoutMilliseconds: Int
    /// The same for the webhook ingest writer's batches.
    public var ingestCallTimeoutMilliseconds: Int
    /// How long an ingest batch waits for one of the writer's connections (at most `acquireTimeoutMilliseconds`):
    /// short, so that while the database is down deliveries get their 503 quickly. Not a setting; tests on a loaded
    /// shared cluster raise it, as they do the acquire deadline.
    public var ingestAcquireTimeoutMilliseconds: Int

    public init(
        url: DatabaseURL,
        migrationURL: DatabaseURL? = nil,
        maxConnections: Int = 20,
        statementTimeoutMilliseconds: Int = 15_000,
        acquireTimeoutMilliseconds: Int = 2_000,
        callTimeoutMilliseconds: Int = 30_000,
        ingestCallTimeoutMilliseconds: Int = 3_000,
        ingestAcquireTimeoutMilliseconds: Int = 1_000
    ) {
        self.url = url
        self.migrationURL = migrationURL ?? url
        self.maxConnections = maxConnections
        self.statementTimeoutMilliseconds = statementTimeoutMilliseconds
        self.acquireTimeoutMilliseconds = acquireTimeoutMilliseconds
        self.callTimeoutMilliseconds = callTimeoutMilliseconds
        self.ingestCallTimeoutMilliseconds = ingestCallTimeoutMilliseconds
        self.ingestAcquireTimeoutMilliseconds = ingestAcquireTimeoutMilliseconds
    }
}

public struct HTTPConfiguration: Sendable {
    public struct TLSFiles: Sendable {
        public var certificatePath: String
        public var privateKeyPath: String

        public init(certificatePath: String, privateKeyPath: String) {
            self.certificatePath = certificatePath
            self.privateKeyPath = privateKeyPath
        }
    }

    public var host: String
    public var port: Int
    public var tls: TLSFiles?
    public var idleTimeoutSeconds: Int

    public init(host: String = "127.0.0.1", port: Int = 8080, tls: TLSFiles? = nil, idleTimeoutSeconds: Int = 60) {
        self.host = host
        self.port = port
        self.tls = tls
        self.idleTimeoutSeconds = idleTimeoutSeconds
    }
}

public struct LimitsConfiguration: Sendable {
    public var maxBodyBytes: Int
    public var maxPageSize: Int
    public var defaultPageSize: Int
    public var rateLimitPerSecond: Double
    public var rateLimitBurst: Int

    public init(
        maxBodyBytes: Int = 1 << 20,
        maxPageSize: Int = 100,
        defaultPageSize: Int = 20,
        rateLimitPerSecond: Double = 50,
        rateLimitBurst: Int = 100
    ) {
        self.maxBodyBytes = maxBodyBytes
        self.maxPageSize = maxPageSize
        self.defaultPageSize = min(defaultPageSize, maxPageSize)
        self.rateLimitPerSecond = rateLimitPerSecond
        self.rateLimitBurst = rateLimitBurst
    }
}

public struct LoggingConfiguration: Sendable {
    public enum Format: String, Sendable {
        case text, json
    }

    public var level: Logger.Level
    public var format: Format

    public init(level: Logger.Level = .info, format: Format = .text) {
        self.level = level
        self.format = format
    }
}

extension SwitchyardConfiguration {
    /// Which settings a command needs: `migrate` needs no admin key, `dev` provides its own database.
    public struct Requirements: Sendable {
        public var database = true
        public var adminKey = true
        /// `SWITCHYARD_MIGRATION_DATABASE_URL` alone satisfies `database` (for `migrate`).
        public var migrationURLSuffices = false
        public var keyring = true

        public init(database: Bool = true, adminKey: Bool = true, migrationURLSuffices: Bool = false, keyring: Bool = true) {
            self.database = database
            self.adminKey = adminKey
            self.migrationURLSuffices = migrationURLSuffices
            self.keyring = keyring
        }
    }

    /// Reads the configuration from `reader` (environment variables, with flag overrides in front).
    /// Throws the first invalid or missing setting, by name.
    public static func load(
        from reader: ConfigReader,
        requiring requirements: Requirements = .init()
    ) throws(ConfigurationError) -> SwitchyardConfiguration {
        let settings = SettingsReader(reader: reader)
        let placeholder = DatabaseURL(host: "127.0.0.1", port: 5432, username: "switchyard", password: nil, database: "switchyard", tlsMode: .disable)
        let migrationURL = try settings.databaseURL("switchyard.migration.database.url", required: false)
        // `migrate` runs with the owner's URL alone: the application's URL is then optional.
        let needsApplicationURL = requirements.database && !(requirements.migrationURLSuffices && migrationURL != nil)
        let url = try settings.databaseURL("switchyard.database.url", required: needsApplicationURL) ?? migrationURL ?? placeholder

        let certificate = settings.string("switchyard.tls.certificate.path")
        let privateKey = settings.string("switchyard.tls.private.key.path")
        var tls: HTTPConfiguration.TLSFiles?
        switch (certificate, privateKey) {
        case (nil, nil): tls = nil
        case (let certificate?, let privateKey?): tls = .init(certificatePath: certificate, privateKeyPath: privateKey)
        case (nil, _):
            throw ConfigurationError(
                variable: "SWITCHYARD_TLS_CERTIFICATE_PATH",
                problem: "must be set together with SWITCHYARD_TLS_PRIVATE_KEY_PATH"
            )
        case (_, nil):
            throw ConfigurationError(
                variable: "SWITCHYARD_TLS_PRIVATE_KEY_PATH",
                problem: "must be set together with SWITCHYARD_TLS_CERTIFICATE_PATH"
            )
        }

        let adminKey = settings.secret("switchyard.admin.key")
        if requirements.adminKey {
            guard let adminKey else {
                throw ConfigurationError(
                    variable: "SWITCHYARD_ADMIN_KEY",
                    problem: "is required: the platform operator's key (at least 32 random characters)"
                )
            }
            guard adminKey.count >= 32 else {
                throw ConfigurationError(variable: "SWITCHYARD_ADMIN_KEY", problem: "must be at least 32 characters long")
            }
        }

        let keyring: KeyringSource?
        switch (settings.string("switchyard.keyring.file"), settings.secret("switchyard.keyring")) {
        case (let path?, nil): keyring = .file(path: path)
        case (nil, let json?): keyring = .inline(json: json)
        case (nil, nil):
            guard !requirements.keyring else {
                throw ConfigurationError(
                    variable: "SWITCHYARD_KEYRING_FILE",
                    problem: "is required: the keyring file written by `switchyard keys generate --output FILE` (or its JSON in SWITCHYARD_KEYRING)"
                )
            }
            keyring = nil
        case (_?, _?):
            throw ConfigurationError(variable: "SWITCHYARD_KEYRING", problem: "set either SWITCHYARD_KEYRING_FILE or SWITCHYARD_KEYRING, not both")
        }

        let levelName = settings.string("switchyard.log.level") ?? "info"
        guard let level = Logger.Level(rawValue: levelName) else {
            throw ConfigurationError(variable: "SWITCHYARD_LOG_LEVEL", problem: "must be one of trace, debug, info, notice, warning, error, critical")
        }
        let formatName = settings.string("switchyard.log.format") ?? "text"
        guard let format = LoggingConfiguration.Format(rawValue: formatName) else {
            throw ConfigurationError(variable: "SWITCHYARD_LOG_FORMAT", problem: "must be text or json")
        }

        var outbound = OutboundSettings()
        outbound.connectTimeoutMilliseconds = try settings.integer("switchyard.outbound.connect.timeout.ms", default: 5_000, in: 100...600_000)
        outbound.readTimeoutMilliseconds = try settings.integer("switchyard.outbound.read.timeout.ms", default: 30_000, in: 100...3_600_000)
        outbound.attemptTimeoutMilliseconds = try settings.integer("switchyard.outbound.attempt.timeout.ms", default: 60_000, in: 100...3_600_000)
        outbound.maxResponseBytes = try settings.integer("switchyard.outbound.max.response.bytes", default: 10 << 20, in: 1024...(1 << 30))
        outbound.maxRateLimitWaitMilliseconds = try settings.integer("switchyard.outbound.max.rate.limit.wait.ms", default: 30_000, in: 0...3_600_000)
        outbound.breakerFailures = try settings.integer("switchyard.outbound.breaker.failures", default: 5, in: 1...1000)
        outbound.breakerCoolDownMilliseconds = try settings.integer("switchyard.outbound.breaker.cool.down.ms", default: 30_000, in: 100...3_600_000)
        outbound.plainHTTPAllowList = (settings.string("switchyard.outbound.http.allow.list") ?? "")
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }

        var oauth = OAuthSettings()
        if let publicURL = settings.string("switchyard.public.url") {
            guard let components = URLComponents(string: publicURL), ["http", "https"].contains(components.scheme?.lowercased() ?? ""),
                components.host?.isEmpty == false, components.query == nil, components.fragment == nil, components.user == nil
            else {
                throw ConfigurationError(
                    variable: "SWITCHYARD_PUBLIC_URL",
                    problem: "must be an http(s) URL such as https://switchyard.example.com, without query or fragment"
                )
            }
            oauth.publicURL = publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL
        }
        oauth.refreshSkewSeconds = try settings.integer("switchyard.oauth.refresh.skew.seconds", default: 300, in: 0...86_400)
        oauth.connectSessionTTLSeconds = try settings.integer("switchyard.connect.session.ttl.seconds", default: 1800, in: 60...86_400)

        let maxPageSize = try settings.integer("switchyard.max.page.size", default: 100, in: 1...1000)
        return SwitchyardConfiguration(
            database: DatabaseConfiguration(
                url: url,
                migrationURL: migrationURL,
                maxConnections: try settings.integer("switchyard.database.max.connections", default: 20, in: 1...1000),
                statementTimeoutMilliseconds: try settings.integer("switchyard.database.statement.timeout.ms", default: 15_000, in: 100...3_600_000),
                acquireTimeoutMilliseconds: try settings.integer("switchyard.database.acquire.timeout.ms", default: 2_000, in: 50...600_000),
                callTimeoutMilliseconds: try settings.integer("switchyard.database.call.timeout.ms", default: 30_000, in: 100...3_600_000),
                ingestCallTimeoutMilliseconds: try settings.integer("switchyard.database.ingest.timeout.ms", default: 3_000, in: 100...600_000)
            ),
            http: HTTPConfiguration(
                host: settings.string("switchyard.http.host") ?? "127.0.0.1",
                port: try settings.integer("switchyard.http.port", default: 8080, in: 0...65535),
                tls: tls,
                idleTimeoutSeconds: try settings.integer("switchyard.http.idle.timeout.seconds", default: 60, in: 1...86_400)
            ),
            limits: LimitsConfiguration(
                maxBodyBytes: try settings.integer("switchyard.max.body.bytes", default: 1 << 20, in: 1024...(64 << 20)),
                maxPageSize: maxPageSize,
                defaultPageSize: min(20, maxPageSize),
                rateLimitPerSecond: Double(try settings.integer("switchyard.rate.limit.per.second", default: 50, in: 1...1_000_000)),
                rateLimitBurst: try settings.integer("switchyard.rate.limit.burst", default: 100, in: 1...1_000_000)
            ),
            logging: LoggingConfiguration(level: level, format: format),
            adminKey: adminKey,
            keyring: keyring,
            outbound: outbound,
            jobs: try JobsSettings.load(settings),
            oauth: oauth
        )
    }
}

/// Typed reads of single settings, each error naming its environment variable.
struct SettingsReader {
    let reader: ConfigReader

    static func variableName(_ key: String) -> String {
        key.replacingOccurrences(of: ".", with: "_").uppercased()
    }

    func string(_ key: String) -> String? {
        guard let value = reader.string(forKey: ConfigKey(key)), !value.isEmpty else { return nil }
        return value
    }

    func secret(_ key: String) -> String? {
        guard let value = reader.string(forKey: ConfigKey(key), isSecret: true), !value.isEmpty else { return nil }
        return value
    }

    func integer(_ key: String, default defaultValue: Int, in range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
        guard let text = string(key) else { return defaultValue }
        guard let value = Int(text), range.contains(value) else {
            throw ConfigurationError(
                variable: Self.variableName(key),
                problem: "must be a whole number from \(range.lowerBound) to \(range.upperBound), got '\(text)'"
            )
        }
        return value
    }

    func databaseURL(_ key: String, required: Bool) throws(ConfigurationError) -> DatabaseURL? {
        guard let text = secret(key) else {
            if required {
                throw ConfigurationError(
                    variable: Self.variableName(key),
                    problem: "is required: postgres://USER:PASSWORD@HOST:PORT/DATABASE (or run `switchyard dev` for a private database)"
                )
            }
            return nil
        }
        return try DatabaseURL(parsing: text, variable: Self.variableName(key))
    }
}
