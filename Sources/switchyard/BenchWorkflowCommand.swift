import ArgumentParser
import Foundation
import Logging
import SwitchyardBenchmarks
import SwitchyardCore
import SwitchyardPostgres
import SwitchyardVault

/// `switchyard bench workflow`: event-triggered runs of a three-step workflow (filter, map, http to a loopback API)
/// through the executor, then no-op jobs through the same executor, and the ratio of a step's cost to a no-op job's.
struct BenchWorkflowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workflow",
        abstract:
            "Runs of a three-step workflow (filter, map, http through an integration to a loopback API), each started by an event, through the executor; then bench queue's no-op jobs, and the ratio of a step's cost to a no-op job's.",
        discussion:
            "Starts a private PostgreSQL (durable, in a temporary directory) unless SWITCHYARD_DATABASE_URL names a migrated database. Build with -c release for meaningful figures."
    )

    @Option(help: "Events recorded, each starting one run; also the number of no-op jobs.")
    var events: Int = 20_000

    @Option(help: "Executor workers (SWITCHYARD_EXECUTOR_CONCURRENCY).")
    var concurrency: Int = 256

    func run() async throws {
        try await BenchDatabase.run { configuration, logger in
            configuration.database.maxConnections = concurrency / 8 + 8
            configuration.jobs.executorConcurrency = concurrency
            configuration.jobs.claimBatch = min(SwitchyardSettings.executorClaimBatch.range.upperBound, concurrency)
            // One tenant's runs: its cap must not be what limits the run.
            configuration.jobs.tenantConcurrency = 100_000
            let vault = Vault(provider: LocalKeyProvider(keyring: .generate(keyID: "bench")))
            let database = try Database(configuration: configuration.database, vault: vault, metrics: nil, logger: logger)
            let benchmark = WorkflowBenchmark(configuration: configuration, database: database, events: events, logger: logger)
            let report = try await BenchDatabase.serving(database) { try await benchmark.run() }
            print(report)
        }
    }
}
