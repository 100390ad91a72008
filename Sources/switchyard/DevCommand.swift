import ArgumentParser
import Configuration
import Foundation
import Hummingbird
import Logging
import SwitchyardAPI
import SwitchyardCore
import SwitchyardDevCluster
import SwitchyardJobs
import SwitchyardMetrics
import SwitchyardOAuth
import SwitchyardOutbound
import SwitchyardPostgres
import SwitchyardVault

/// Everything in one process for a first run: a private PostgreSQL, migrations, a demo tenant, the API.
struct DevCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dev",
        abstract: "Run the platform (API, scheduler and an executor) locally on a private PostgreSQL that it starts and stops itself.",
        discussion:
            "Data and keys are kept in ./.switchyard/ (git-ignored), the keyring included. Set SWITCHYARD_DATABASE_URL to use your own database instead. Plain http to 127.0.0.1 and localhost is allowed for custom providers unless SWITCHYARD_OUTBOUND_HTTP_ALLOW_LIST says otherwise."
    )

    @OptionGroup var http: HTTPOptions

    @Option(help: "Where the private cluster and the dev keys live.")
    var directory: String = ".switchyard"

    func run() async throws {
        typealias S = SwitchyardSettings
        var environment = ProcessInfo.processInfo.environment
        let existingDatabase = environment[S.databaseURL.environmentKey] != nil
        let loaded = try SwitchyardConfiguration.loadOrExit(
            overrides: http.overrides,
            environment: environment,
            requiring: .init(database: existingDatabase, adminKey: false, keyring: false)
        )
        loaded.logging.bootstrap()
        let logger = Logger(label: "switchyard.dev")

        let started = ContinuousClock.now
        let dev: DevEnvironment
        do {
            dev = try await DevEnvironment.prepare(
                directory: URL(filePath: directory, directoryHint: .isDirectory),
                existing: existingDatabase ? (loaded.database.url, loaded.database.migrationURL) : nil,
                logger: logger
            )
        } catch let failure as LocalPostgresCluster.CommandFailure {
            FileHandle.standardError.write(Data("switchyard dev: \(failure)\n".utf8))
            throw ExitCode.failure
        }
        // Run as the command returns, when the services have stopped: nothing else is left to need this thread.
        defer { dev.cluster?.stopBeforeExit() }

        let report = try await Migrator(logger: logger).run(url: dev.ownerURL)
        let credentials = try dev.loadCredentials(adminKeyOverride: environment[S.adminKey.environmentKey])
        environment[S.databaseURL.environmentKey] = dev.applicationURL.urlString
        environment[S.adminKey.environmentKey] = credentials.adminKey
        if environment[S.outboundHTTPAllowList.environmentKey] == nil {
            // Local development: let custom providers and the proxy reach services on this machine.
            environment[S.outboundHTTPAllowList.environmentKey] = "127.0.0.1,localhost"
        }
        if loaded.keyring == nil {
            environment[S.keyringFile.environmentKey] = try dev.ensureKeyring().path
        }
        let configuration = try SwitchyardConfiguration.loadOrExit(overrides: http.overrides, environment: environment, requiring: .init())
        try await Preflight.check(configuration.database.url, logger: logger)

        let vault = try await Vault.loadOrExit(configuration)
        let metrics = MetricsRegistry(version: Switchyard.version)
        let database = try Database(configuration: configuration.database, vault: vault, metrics: metrics.database, logger: logger)
        let outbound = OutboundClient(
            configuration: OutboundConfiguration(configuration.outbound),
            metrics: metrics.outbound,
            sharedQuota: PostgresProviderQuotaStore(database: database, logger: logger)
        )
        let usage = UsageMeter()
        let jobs = JobRegistry.executor(
            configuration: configuration,
            database: database,
            outbound: outbound,
            webhookMetrics: metrics.webhooks,
            deliveryMetrics: metrics.deliveries,
            usage: usage,
            workflowMetrics: metrics.workflows
        )
        let app = try buildApplication(
            APIDependencies(configuration: configuration, database: database, metrics: metrics, outbound: outbound, usage: usage),
            // The scheduler and an executor in the same process, so a newcomer still needs one command.
            extraServices: [
                DataKeyMaintenance(database: database, logger: logger),
                JobScheduler(
                    database: database,
                    options: SchedulerOptions(configuration.jobs),
                    metrics: metrics.jobs,
                    deliveryMetrics: metrics.deliveries,
                    logger: logger,
                    periodicWork: [WorkflowSchedules.countActiveRuns(into: metrics.workflows)]
                ),
                JobExecutor(
                    database: database,
                    registry: jobs,
                    options: ExecutorOptions(configuration.jobs),
                    metrics: metrics.jobs,
                    usage: usage,
                    logger: logger
                ),
            ],
            logger: logger,
            onServerRunning: { channel in
                do {
                    var credentials = credentials
                    let tenantKey = try await dev.ensureDemoTenant(database: database, credentials: &credentials, logger: logger)
                    let port = channel.localAddress?.port ?? configuration.http.port
                    let elapsed = ContinuousClock.now - started
                    Self.announce(
                        Self.banner(
                            http: configuration.http,
                            port: port,
                            adminKey: credentials.adminKey,
                            tenantKey: tenantKey,
                            migrations: report.applied.count,
                            elapsed: elapsed,
                            directory: dev.credentialsFile.deletingLastPathComponent().path
                        )
                    )
                } catch {
                    logger.error("could not create the demo tenant: \(loggableDescription(of: error))")
                }
            }
        )
        try await app.runService()
    }

    /// Written straight to the file descriptor: `print` is block-buffered when stdout is not a terminal.
    static func announce(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    static func banner(
        http: HTTPConfiguration,
        port: Int,
        adminKey: String,
        tenantKey: String,
        migrations: Int,
        elapsed: Duration,
        directory: String
    ) -> String {
        let base = "\(http.tls == nil ? "http" : "https")://\(http.host):\(port)"
        let protocols = http.tls == nil ? "HTTP/1.1 and h2c" : "TLS; h2 and HTTP/1.1 by ALPN"
        return """

            Switchyard is running at \(base)  (\(protocols); ready in \(elapsed.formatted(.units(allowed: [.seconds, .milliseconds], width: .narrow))), \(migrations) new migration(s))

              operator key:  \(adminKey)
              demo tenant key: \(tenantKey)
              (both kept in \(directory)/dev-credentials.json)

              curl -s \(base)/v1/me -H 'Authorization: Bearer \(tenantKey)'
              curl -s \(base)/metrics

            Press Ctrl-C to stop; the private PostgreSQL stops with it.

            """
    }
}
