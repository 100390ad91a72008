import ArgumentParser
import Foundation
import Logging
import SwitchyardBenchmarks
import SwitchyardCore
import SwitchyardPostgres
import SwitchyardVault

/// `switchyard bench ...`: benchmarks that anyone can run with one command.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Run a benchmark.",
        subcommands: [
            Queue.self, BenchIngestCommand.self, BenchIngestLoadCommand.self, BenchSyncCommand.self, BenchFanoutCommand.self,
            BenchWorkflowCommand.self,
            BenchExecutorsCommand.self, BenchServesCommand.self, BenchAPICommand.self,
        ]
    )

    struct Queue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "No-op jobs through the executor versus the raw SQL ceiling (batch-10 claim and complete) on the same database.",
            discussion:
                "Starts a private PostgreSQL (durable, in a temporary directory) unless SWITCHYARD_DATABASE_URL names a migrated database. Build with -c release for meaningful figures."
        )

        @Option(help: "No-op jobs per phase.")
        var jobs: Int = 20_000

        @Option(help: "Executor workers (the executor's SWITCHYARD_EXECUTOR_CONCURRENCY); claims take up to this many jobs, at most 1000.")
        var concurrency: Int = 256

        @Option(help: "Connections running the raw SQL loop.")
        var rawWorkers: Int = 4

        func run() async throws {
            try await BenchDatabase.run { configuration, logger in
                configuration.database.maxConnections = concurrency / 8 + 8
                configuration.jobs.executorConcurrency = concurrency
                // No-op jobs finish at once: big claims are what amortise each transaction's commit.
                configuration.jobs.claimBatch = min(SwitchyardSettings.executorClaimBatch.range.upperBound, concurrency)
                // One tenant's jobs: its cap must not be what limits the run (the raw loop has none).
                configuration.jobs.tenantConcurrency = 100_000
                let vault = Vault(provider: LocalKeyProvider(keyring: .generate(keyID: "bench")))
                let database = try Database(configuration: configuration.database, vault: vault, metrics: nil, logger: logger)
                let benchmark = QueueBenchmark(
                    database: database,
                    url: configuration.database.url,
                    settings: configuration.jobs,
                    jobs: jobs,
                    rawWorkers: rawWorkers,
                    logger: logger
                )
                let report = try await BenchDatabase.serving(database) { try await benchmark.run() }
                print(report)
            }
        }
    }
}
