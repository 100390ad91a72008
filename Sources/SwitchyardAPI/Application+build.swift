import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdHTTP2
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle
import SwitchyardCore
import SwitchyardHTTP
import SwitchyardJobs
import SwitchyardMetrics
import SwitchyardOAuth
import SwitchyardOutbound
import SwitchyardPostgres
import SwitchyardWebhooks

/// What the API needs to serve requests; built once per process, shared by `serve`, `dev` and the tests.
public struct APIDependencies: Sendable {
    public let configuration: SwitchyardConfiguration
    public let database: Database
    public let metrics: MetricsRegistry
    /// Every call to a provider's API goes through it.
    public let outbound: OutboundClient
    /// The job kinds, for checking what tenants enqueue and schedule.
    public let jobs: JobRegistry
    /// Group commit of webhook deliveries; a service of the application.
    public let webhookWriter: WebhookIngestWriter
    public let webhooks: WebhookIngestor
    /// Tenants' usage counted in this process; `usageFlusher` (a service of the application) writes it.
    public let usage: UsageMeter
    public let usageFlusher: UsageFlusher

    public init(
        configuration: SwitchyardConfiguration,
        database: Database,
        metrics: MetricsRegistry,
        outbound: OutboundClient,
        jobs: JobRegistry = .standard(),
        usage: UsageMeter = UsageMeter(),
        logger: Logger = Logger(label: "switchyard.webhooks")
    ) {
        self.configuration = configuration
        self.database = database
        self.metrics = metrics
        self.outbound = outbound
        self.jobs = jobs
        self.usage = usage
        self.usageFlusher = UsageFlusher(database: database, meter: usage, settings: configuration.usage, logger: logger)
        self.webhookWriter = WebhookIngestWriter(database: database, metrics: metrics.webhooks, logger: logger)
        self.webhooks = WebhookIngestor(database: database, writer: webhookWriter, metrics: metrics.webhooks, usage: usage)
    }
}

/// The `/v1` API, the probes and `/metrics`, with their middleware.
public func buildRouter(_ dependencies: APIDependencies) -> Router<AppRequestContext> {
    let configuration = dependencies.configuration
    let database = dependencies.database
    let limits = configuration.limits
    let authenticator = Authenticator(adminKey: configuration.adminKey, database: database)
    let idempotent = IdempotentPost(database: database, limits: limits)
    let routeTable = RouteTableBox()

    let router = Router(context: AppRequestContext.self)
    router.add(middleware: RequestIDMiddleware())
    router.add(middleware: MetricsMiddleware(metrics: dependencies.metrics.http))
    router.add(middleware: ProblemMiddleware(routes: routeTable))
    router.add(middleware: RequestTextMiddleware())
    ProbeRoutes<AppRequestContext>(database: database, metrics: dependencies.metrics, requestID: { $0.requestID }).addRoutes(to: router)

    let v1 = router.group("v1").add(
        middleware: AuthenticationMiddleware(
            authenticator: authenticator,
            rateLimiter: SharedRateLimiter(
                ratePerSecond: limits.rateLimitPerSecond,
                burst: limits.rateLimitBurst,
                scope: limits.rateLimitScope,
                database: database,
                metrics: dependencies.metrics.rateLimits
            ),
            usage: dependencies.usage
        )
    )
    TenantsController(database: database, limits: limits, idempotent: idempotent)
        .addRoutes(to: v1.group("tenants", context: OperatorRequestContext.self))
    MeController(database: database)
        .addRoutes(to: v1.group("me", context: TenantRequestContext.self))
    APIKeysController(database: database, limits: limits, idempotent: idempotent, authenticator: authenticator)
        .addRoutes(to: v1.group("api-keys", context: TenantRequestContext.self))
    let directory = ProviderDirectory(builtIn: .builtIn, allowedHTTPHosts: dependencies.outbound.ssrfGuard.allowListedHosts)
    let providers = v1.group("providers", context: TenantRequestContext.self)
    ProvidersController(database: database, directory: directory, limits: limits).addRoutes(to: providers)
    OAuthAppsController(database: database, directory: directory, limits: limits)
        .addRoutes(to: v1.group("oauth-apps", context: TenantRequestContext.self))
    PlatformOAuthAppsController(database: database, directory: directory, limits: limits)
        .addRoutes(to: v1.group("platform/oauth-apps", context: OperatorRequestContext.self))
    let oauth = OAuthServices(configuration: configuration, database: database, outbound: dependencies.outbound, directory: directory)
    let integrations = v1.group("integrations", context: TenantRequestContext.self)
    IntegrationsController(database: database, limits: limits, idempotent: idempotent, directory: directory, oauth: oauth)
        .addRoutes(to: integrations)
    ProxyController(caller: oauth.caller, limits: limits, usage: dependencies.usage)
        .addRoutes(to: integrations)
    SyncRecordsController(database: database, limits: limits).addRoutes(to: integrations)
    let syncs = SyncsController(database: database, directory: directory, limits: limits)
    syncs.addRoutes(providers: providers)
    syncs.addRoutes(integrations: integrations)
    syncs.addRoutes(runs: v1.group("sync-runs", context: TenantRequestContext.self))
    ConnectSessionsController(database: database, limits: limits, oauth: oauth)
        .addRoutes(to: v1.group("connect-sessions", context: TenantRequestContext.self))
    EventsController(database: database, limits: limits)
        .addRoutes(to: v1.group("events", context: TenantRequestContext.self))
    WebhookSourcesController(database: database, limits: limits, ingestor: dependencies.webhooks, publicBaseURL: configuration.publicBaseURL)
        .addRoutes(to: v1.group("webhook-sources", context: TenantRequestContext.self))
    WebhookEventsController(database: database, limits: limits)
        .addRoutes(to: v1.group("webhook-events", context: TenantRequestContext.self))
    // Providers: no API key, the signature is the credential.
    WebhookIngestController(ingestor: dependencies.webhooks).addRoutes(to: router)
    // End users' browsers: no API key, the connect token or the OAuth state is the credential.
    ConnectPageController(database: database, oauth: oauth).addRoutes(to: router)
    OAuthCallbackController(oauth: oauth).addRoutes(to: router)
    AuditEventsController(database: database, limits: limits)
        .addRoutes(to: v1.group("audit-events", context: TenantRequestContext.self))

    let jobs = JobsController(database: database, limits: limits, idempotent: idempotent, registry: dependencies.jobs)
    jobs.addRoutes(jobs: v1.group("jobs", context: TenantRequestContext.self))
    jobs.addRoutes(deadLetters: v1.group("dead-letters", context: TenantRequestContext.self))
    SchedulesController(database: database, limits: limits, idempotent: idempotent, registry: dependencies.jobs)
        .addRoutes(to: v1.group("schedules", context: TenantRequestContext.self))
    let destinationActions = DestinationActions(database: database, ssrfGuard: dependencies.outbound.ssrfGuard)
    let destinations = DestinationsController(database: database, limits: limits, actions: destinationActions)
    destinations.addRoutes(destinations: v1.group("destinations", context: TenantRequestContext.self))
    destinations.addRoutes(deliveries: v1.group("deliveries", context: TenantRequestContext.self))
    PortalSessionsController(database: database, settings: configuration.portal, publicBaseURL: configuration.publicBaseURL)
        .addRoutes(to: v1.group("portal-sessions", context: TenantRequestContext.self))
    // People's browsers: no API key, the portal session's cookie (from a one-time link) is the credential.
    PortalController(
        database: database,
        access: PortalAccess(database: database, settings: configuration.portal, secureCookies: configuration.http.tls != nil),
        destinations: destinationActions,
        oauth: oauth,
        publicBaseURL: configuration.publicBaseURL
    ).addRoutes(to: router)
    let usage = UsageController(database: database)
    usage.addRoutes(tenant: v1.group("metrics/usage", context: TenantRequestContext.self))
    usage.addRoutes(operator: v1.group("platform/metrics/usage", context: OperatorRequestContext.self))
    let workflows = WorkflowsController(database: database, limits: limits, idempotent: idempotent)
    workflows.addRoutes(workflows: v1.group("workflows", context: TenantRequestContext.self))
    workflows.addRoutes(runs: v1.group("workflow-runs", context: TenantRequestContext.self))

    routeTable.set(RouteTable(router: router))
    return router
}

/// The HTTP server for `configuration.http`: TLS with ALPN (h2, http/1.1) when a certificate is
/// configured, otherwise cleartext HTTP/1.1 and h2c on the same port.
public func buildServer(_ http: HTTPConfiguration) throws -> HTTPServerBuilder {
    let idleTimeout = Duration.seconds(http.idleTimeoutSeconds)
    guard let files = http.tls else {
        return .http1AndH2C(idleTimeout: idleTimeout)
    }
    let certificates: [NIOSSLCertificate]
    let privateKey: NIOSSLPrivateKey
    do {
        certificates = try NIOSSLCertificate.fromPEMFile(files.certificatePath)
    } catch {
        throw ConfigurationError(
            variable: SwitchyardSettings.tlsCertificatePath.environmentKey,
            problem: "cannot read a PEM certificate chain from \(files.certificatePath)"
        )
    }
    do {
        privateKey = try NIOSSLPrivateKey(file: files.privateKeyPath, format: .pem)
    } catch {
        throw ConfigurationError(
            variable: SwitchyardSettings.tlsPrivateKeyPath.environmentKey,
            problem: "cannot read a PEM private key from \(files.privateKeyPath)"
        )
    }
    let tls = TLSConfiguration.makeServerConfiguration(certificateChain: certificates.map { .certificate($0) }, privateKey: .privateKey(privateKey))
    let configuration = HTTP2UpgradeChannel.Configuration(
        idleTimeout: idleTimeout,
        streamConfiguration: .init(additionalChannelHandlers: [HeaderOverflowResponder()])
    )
    return HTTPServerBuilder { responder in
        EventLoopPinnedChannel(base: try HTTP2UpgradeChannel(tlsConfiguration: tls, configuration: configuration, responder: responder))
    }
}

/// The API as a service: the HTTP server plus the database pool it owns.
public func buildApplication(
    _ dependencies: APIDependencies,
    extraServices: [any Service] = [],
    logger: Logger,
    onServerRunning: (@Sendable (any Channel) async -> Void)? = nil
) throws -> some ApplicationProtocol {
    let http = dependencies.configuration.http
    return Application(
        router: buildRouter(dependencies),
        server: try buildServer(http),
        configuration: .init(address: .hostname(http.host, port: http.port), serverName: "switchyard"),
        // Stopped in reverse order: the usage flusher's last flush comes after the executor of `dev` (an extra service)
        // has stopped counting, and before the pool closes.
        services: [dependencies.database, dependencies.outbound, dependencies.webhookWriter, dependencies.usageFlusher] + extraServices,
        onServerRunning: onServerRunning ?? { _ in },
        logger: logger
    )
}
