import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import SwitchyardCore
import SwitchyardJobs
import SwitchyardMetrics
import SwitchyardPostgres

/// `switchyard executor`: runs jobs. Start as many as the load needs; they share the queue.
struct ExecutorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "executor",
        abstract: "Run queued jobs (N workers per process; run more processes for more throughput).",
        discussion: "Settings: SWITCHYARD_EXECUTOR_CONCURRENCY, SWITCHYARD_EXECUTOR_TENANT_CONCURRENCY, SWITCHYARD_JOB_LEASE_MS, SWITCHYARD_QUEUE_POLL_ONLY and the others listed in README.md. SIGTERM stops claiming and lets running jobs finish within SWITCHYARD_EXECUTOR_SHUTDOWN_TIMEOUT_MS."
    )

    @Option(help: "Jobs run at once by this process (SWITCHYARD_EXECUTOR_CONCURRENCY).")
    var concurrency: Int?

    func run() async throws {
        var configuration = try SwitchyardConfiguration.loadOrExit(requiring: .init(adminKey: false))
        if let concurrency { configuration.jobs.executorConcurrency = max(1, concurrency) }
        try await runJobsProcess(configuration: configuration, label: "switchyard.executor") { database, metrics, logger in
            JobExecutor(database: database, registry: .standard(), options: ExecutorOptions(configuration.jobs), metrics: metrics.jobs, logger: logger)
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

    func run() async throws {
        let configuration = try SwitchyardConfiguration.loadOrExit(requiring: .init(adminKey: false))
        try await runJobsProcess(configuration: configuration, label: "switchyard.scheduler") { database, metrics, logger in
            JobScheduler(database: database, options: SchedulerOptions(configuration.jobs), metrics: metrics.jobs, logger: logger)
        }
    }
}

/// The shape of the `executor` and `scheduler` processes: preflight, the pool, one service, SIGTERM/SIGINT.
func runJobsProcess(
    configuration: SwitchyardConfiguration, label: String,
    _ makeService: (Database, MetricsRegistry, Logger) -> any Service
) async throws {
    configuration.logging.bootstrap()
    let logger = Logger(label: label)
    do {
        try await Preflight.check(configuration.database.url, logger: logger)
    } catch let failure as Preflight.Failure {
        FileHandle.standardError.write(Data("\(label): \(failure)\n".utf8))
        throw ExitCode.failure
    }
    let vault = try Vault.loadOrExit(configuration.keyring)
    let metrics = MetricsRegistry(version: Switchyard.version)
    let database = try Database(configuration: configuration.database, vault: vault, metrics: metrics.database, logger: logger)
    let group = ServiceGroup(
        configuration: .init(
            services: [.init(service: database), .init(service: makeService(database, metrics, logger))],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
    )
    try await group.run()
}
