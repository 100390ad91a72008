import Foundation
import Logging

/// Everything a Switchyard process reads from its environment, read once at start (`load(from:requiring:)`).
///
/// Each setting is an environment variable defined in `SwitchyardSettings` (flags override some of them, see
/// `switchyard serve --help`).
public struct SwitchyardConfiguration: Sendable {
    public var database: DatabaseConfiguration
    public var http: HTTPConfiguration
    public var limits: LimitsConfiguration
    public var logging: LoggingConfiguration
    /// The operator key; `nil` only for processes that serve no API (`migrate`).
    public var adminKey: String?
    /// Where the key-encryption keys come from; `nil` only for processes that touch no secret (`migrate`).
    public var keyring: KeyringSource?
    /// Which provider wraps new data keys, and AWS KMS's settings when it is configured.
    public var keyProvider: KeyProviderConfiguration = KeyProviderConfiguration()
    /// Calls to third-party APIs.
    public var outbound: OutboundSettings = OutboundSettings()
    /// The job queue, its executors and the scheduler (see `JobsSettings`).
    public var jobs: JobsSettings = JobsSettings()
    /// The OAuth connect flow and token refresh.
    public var oauth: OAuthSettings = OAuthSettings()
    /// Per-tenant usage counters (`GET /v1/metrics/usage`).
    public var usage: UsageSettings = UsageSettings()
    /// The tenant portal's links and sessions.
    public var portal: PortalSettings = PortalSettings()

    public init(
        database: DatabaseConfiguration,
        http: HTTPConfiguration,
        limits: LimitsConfiguration,
        logging: LoggingConfiguration,
        adminKey: String?,
        keyring: KeyringSource? = nil,
        keyProvider: KeyProviderConfiguration = KeyProviderConfiguration(),
        outbound: OutboundSettings = OutboundSettings(),
        jobs: JobsSettings = JobsSettings(),
        oauth: OAuthSettings = OAuthSettings(),
        usage: UsageSettings = UsageSettings(),
        portal: PortalSettings = PortalSettings()
    ) {
        self.database = database
        self.http = http
        self.limits = limits
        self.logging = logging
        self.adminKey = adminKey
        self.keyring = keyring
        self.keyProvider = keyProvider
        self.outbound = outbound
        self.jobs = jobs
        self.oauth = oauth
        self.usage = usage
        self.portal = portal
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
    public var refreshSkewSeconds = SwitchyardSettings.oauthRefreshSkewSeconds.defaultValue
    /// How long a connect session's link works.
    public var connectSessionTTLSeconds = SwitchyardSettings.connectSessionTTLSeconds.defaultValue
    /// How long an authorization request's `state` stays valid (OA-1: 10 minutes).
    public var stateTTLSeconds = 600

    public init(
        publicURL: String? = nil,
        refreshSkewSeconds: Int = SwitchyardSettings.oauthRefreshSkewSeconds.defaultValue,
        connectSessionTTLSeconds: Int = SwitchyardSettings.connectSessionTTLSeconds.defaultValue,
        stateTTLSeconds: Int = 600
    ) {
        self.publicURL = publicURL
        self.refreshSkewSeconds = refreshSkewSeconds
        self.connectSessionTTLSeconds = connectSessionTTLSeconds
        self.stateTTLSeconds = stateTTLSeconds
    }
}

/// Timeouts, caps and resilience settings of calls to third-party APIs (see `OutboundConfiguration`).
public struct OutboundSettings: Sendable, Equatable {
    public var connectTimeoutMilliseconds = SwitchyardSettings.outboundConnectTimeoutMilliseconds.defaultValue
    public var readTimeoutMilliseconds = SwitchyardSettings.outboundReadTimeoutMilliseconds.defaultValue
    public var attemptTimeoutMilliseconds = SwitchyardSettings.outboundAttemptTimeoutMilliseconds.defaultValue
    public var maxResponseBytes = SwitchyardSettings.outboundMaxResponseBytes.defaultValue
    public var maxRateLimitWaitMilliseconds = SwitchyardSettings.outboundMaxRateLimitWaitMilliseconds.defaultValue
    public var breakerFailures = SwitchyardSettings.outboundBreakerFailures.defaultValue
    public var breakerCoolDownMilliseconds = SwitchyardSettings.outboundBreakerCoolDownMilliseconds.defaultValue
    /// `host[:port]` entries allowed plain http and private addresses: development and tests only.
    public var plainHTTPAllowList = SwitchyardSettings.outboundHTTPAllowList.defaultValue

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
    /// Whether the hot statements are prepared (named) once per connection; off, they run as unnamed statements,
    /// which a pooler in transaction mode that does not track named ones (PgBouncer before 1.21) can pass.
    public var preparedStatements: Bool

    public init(
        url: DatabaseURL,
        migrationURL: DatabaseURL? = nil,
        maxConnections: Int = SwitchyardSettings.databaseMaxConnections.defaultValue,
        statementTimeoutMilliseconds: Int = SwitchyardSettings.databaseStatementTimeoutMilliseconds.defaultValue,
        acquireTimeoutMilliseconds: Int = SwitchyardSettings.databaseAcquireTimeoutMilliseconds.defaultValue,
        callTimeoutMilliseconds: Int = SwitchyardSettings.databaseCallTimeoutMilliseconds.defaultValue,
        ingestCallTimeoutMilliseconds: Int = SwitchyardSettings.databaseIngestTimeoutMilliseconds.defaultValue,
        ingestAcquireTimeoutMilliseconds: Int = 1_000,
        preparedStatements: Bool = SwitchyardSettings.databasePreparedStatements.defaultValue
    ) {
        self.url = url
        self.migrationURL = migrationURL ?? url
        self.maxConnections = maxConnections
        self.statementTimeoutMilliseconds = statementTimeoutMilliseconds
        self.acquireTimeoutMilliseconds = acquireTimeoutMilliseconds
        self.callTimeoutMilliseconds = callTimeoutMilliseconds
        self.ingestCallTimeoutMilliseconds = ingestCallTimeoutMilliseconds
        self.ingestAcquireTimeoutMilliseconds = ingestAcquireTimeoutMilliseconds
        self.preparedStatements = preparedStatements
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

    public init(
        host: String = SwitchyardSettings.httpHost.defaultValue,
        port: Int = SwitchyardSettings.httpPort.defaultValue,
        tls: TLSFiles? = nil,
        idleTimeoutSeconds: Int = SwitchyardSettings.httpIdleTimeoutSeconds.defaultValue
    ) {
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
    /// Whether a tenant key's rate limit holds across all `serve` processes or in each one.
    public var rateLimitScope: RateLimitScope

    public init(
        maxBodyBytes: Int = SwitchyardSettings.maxBodyBytes.defaultValue,
        maxPageSize: Int = SwitchyardSettings.maxPageSize.defaultValue,
        defaultPageSize: Int = 20,
        rateLimitPerSecond: Double = Double(SwitchyardSettings.rateLimitPerSecond.defaultValue),
        rateLimitBurst: Int = SwitchyardSettings.rateLimitBurst.defaultValue,
        rateLimitScope: RateLimitScope = SwitchyardSettings.rateLimitScope.defaultValue
    ) {
        self.maxBodyBytes = maxBodyBytes
        self.maxPageSize = maxPageSize
        self.defaultPageSize = min(defaultPageSize, maxPageSize)
        self.rateLimitPerSecond = rateLimitPerSecond
        self.rateLimitBurst = rateLimitBurst
        self.rateLimitScope = rateLimitScope
    }
}

/// Where a tenant key's request budget lives (`SWITCHYARD_RATE_LIMIT_SCOPE`).
public enum RateLimitScope: String, Sendable, CaseIterable {
    /// One budget per key for all `serve` processes, leased in small batches from PostgreSQL (issue 18).
    case shared
    /// One budget per key in each process: N processes allow N times the rate.
    case process
}

public struct LoggingConfiguration: Sendable {
    public enum Format: String, Sendable, CaseIterable {
        case text, json
    }

    public var level: Logger.Level
    public var format: Format

    public init(level: Logger.Level = SwitchyardSettings.logLevel.defaultValue, format: Format = SwitchyardSettings.logFormat.defaultValue) {
        self.level = level
        self.format = format
    }
}
