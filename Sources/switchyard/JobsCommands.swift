import ArgumentParser
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import SwitchyardCore
import SwitchyardHTTP
import SwitchyardJobs
import SwitchyardMetrics
import SwitchyardOAuth
import SwitchyardOutbound
import SwitchyardPostgres

/// `--metrics-port`: where `executor` and `scheduler` serve `/metrics`, `/healthz` and `/readyz`.
struct ProbeOptions: ParsableArguments {
    @Option(help: "Serve /metrics, /healthz and /readyz on this port (SWITCHYARD_HTTP_HOST); not served when unset.")
    var metricsPort: Int?
}

/// `switchyard executor`: runs jobs. Start as many as the load needs; they share the queue.
struct ExecutorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "executor",
        abstract: "Run queued jobs (N workers per process; run more processes for more throughput).",
        discussion:
            "Settings: SWITCHYARD_EXECUTOR_CONCURRENCY, SWITCHYARD_EXECUTOR_TENANT_CONCURRENCY, SWITCHYARD_JOB_LEASE_MS, SWITCHYARD_QUEUE_POLL_ONLY and the others listed in README.md. SIGTERM stops claiming and lets running jobs finish within SWITCHYARD_EXECUTOR_SHUTDOWN_TIMEOUT_MS."
    )

    @Option(help: "Jobs run at once by this process (SWITCHYARD_EXECUTOR_CONCURRENCY).")
    var concurrency: Int?

    @OptionGroup var probes: ProbeOptions

    func run() async throws {
        var configuration = try SwitchyardConfiguration.loadOrExit(requiring: .init(adminKey: false))
        if let concurrency { configuration.jobs.executorConcurrency = max(1, concurrency) }
        try await runJobsProcess(configuration: configuration, probes: probes, name: "executor") { database, metrics, logger in
            // Handlers call providers (token refresh) through the same outbound client as the API.
            let outbound = OutboundClient(
                configuration: OutboundConfiguration(configuration.outbound),
                metrics: metrics.outbound,
                sharedQuota: PostgresProviderQuotaStore(database: database, logger: logger)
            )
            let usage = UsageMeter()
            let registry = JobRegistry.executor(
                configuration: configuration,
                database: database,
                outbound: outbound,
                webhookMetrics: metrics.webhooks,
                deliveryMetrics: metrics.deliveries,
                usage: usage,
                workflowMetrics: metrics.workflows
            )
            let executor = JobExecutor(
                database: database,
                registry: registry,
                options: ExecutorOptions(configuration.jobs),
                metrics: metrics.jobs,
                usage: usage,
                logger: logger
            )
            // Started before the executor, so stopped after it: its last flush has every attempt's count.
            let usageFlusher = UsageFlusher(database: database, meter: usage, settings: configuration.usage, logger: logger)
            return ProcessServices(services: [outbound, usageFlusher, executor], readiness: { executor.notReadyReason() })
        }
    }
}

/// `switchyard scheduler`: fires schedules and runs the queue's periodic work. Run two for availability;
/// one leads, the other takes over when it goes.
struct SchedulerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scheduler",
        abstract: "Fire due schedules as jobs, rescue expired leases and prune finished jobs.",
        discussion: "Run one or two: a leader lock makes one of them do the work, and a fire is unique per schedule and time whatever runs."
    )

    @OptionGroup var probes: ProbeOptions

    func run() async throws {
        let configuration = try SwitchyardConfiguration.loadOrExit(requiring: .init(adminKey: false))
        try await runJobsProcess(configuration: configuration, probes: probes, name: "scheduler") { database, metrics, logger in
            ProcessServices(services: [
                JobScheduler(
                    database: database,
                    options: SchedulerOptions(configuration.jobs),
                    metrics: metrics.jobs,
                    deliveryMetrics: metrics.deliveries,
                    logger: logger,
                    periodicWork: [WorkflowSchedules.countActiveRuns(into: metrics.workflows)]
                )
            ])
        }
    }
}

/// A jobs process's services and what, besides the database, its `/readyz` checks.
struct ProcessServices {
    var services: [any Service]
    var readiness: @Sendable () -> String? = { nil }
}

/// The shape of the `executor` and `scheduler` processes: the pool, their services (started in order,
/// stopped in reverse), the optional probes server, stopped gracefully on SIGTERM or SIGINT.
///
/// Shutdown always ends: graceful shutdown escalates to cancellation after the executor's shutdown timeout plus
/// the database call deadline, and a cancellation that hangs (a handler that ignores it) ends the process.
func runJobsProcess(
    configuration: SwitchyardConfiguration,
    probes: ProbeOptions,
    name: String,
    _ makeServices: (Database, MetricsRegistry, Logger) -> ProcessServices
) async throws {
    let (logger, metrics, database) = try await ProcessBasics.start(configuration, label: "switchyard.\(name)", name: "switchyard \(name)").unpacked
    let made = makeServices(database, metrics, logger)
    var services: [ServiceGroupConfiguration.ServiceConfiguration] = ([database] + made.services).map { .init(service: $0) }
    if let port = probes.metricsPort {
        services.append(
            .init(
                service: buildProbeApplication(
                    database: database,
                    metrics: metrics,
                    host: configuration.http.host,
                    port: port,
                    logger: logger,
                    readiness: made.readiness
                )
            )
        )
    }
    var groupConfiguration = ServiceGroupConfiguration(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
    groupConfiguration.maximumGracefulShutdownDuration =
        .milliseconds(configuration.jobs.shutdownTimeoutMilliseconds + configuration.database.callTimeoutMilliseconds)
    groupConfiguration.maximumCancellationDuration = .seconds(10)
    try await ServiceGroup(configuration: groupConfiguration).run()
}
