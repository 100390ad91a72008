import ArgumentParser
import Foundation
import Logging
import SwitchyardBenchmarks
import SwitchyardCore
import SwitchyardPostgres
import SwitchyardVault

/// `switchyard bench fanout`: events fanned out to loopback receivers through the executor versus a plain HTTP load
/// generator, then the latency from commit to first attempt at half the peak.
struct BenchFanoutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fanout",
        abstract:
            "Events fanned out to loopback receivers (one destination each) through the executor versus a plain HTTP load generator on the same receivers; p99 from an event's commit to its first delivery attempt at half the peak.",
        discussion:
            "Starts a private PostgreSQL (durable, in a temporary directory) unless SWITCHYARD_DATABASE_URL names a migrated database. Build with -c release for meaningful figures."
    )

    @Option(help: "Loopback receivers, one destination each.")
    var receivers: Int = 50

    @Option(help: "Events recorded; each is delivered to every receiver.")
    var events: Int = 1000

    @Option(help: "Executor workers (SWITCHYARD_EXECUTOR_CONCURRENCY), also the load generator's concurrency.")
    var concurrency: Int = 256

    @Option(help: "Seconds of events at half the peak, for the latency figures.")
    var latencySeconds: Double = 5

    func run() async throws {
        try await BenchDatabase.run { configuration, logger in
            configuration.database.maxConnections = 16
            configuration.jobs.executorConcurrency = concurrency
            configuration.jobs.claimBatch = min(SwitchyardSettings.executorClaimBatch.range.upperBound, concurrency)
            // One tenant's deliveries: its cap must not be what limits the run (the load generator has none).
            configuration.jobs.tenantConcurrency = 100_000
            let vault = Vault(provider: LocalKeyProvider(keyring: .generate(keyID: "bench")))
            let database = try Database(configuration: configuration.database, vault: vault, metrics: nil, logger: logger)
            let benchmark = FanoutBenchmark(
                configuration: configuration,
                database: database,
                receivers: receivers,
                events: events,
                latencySeconds: latencySeconds,
                logger: logger
            )
            let report = try await BenchDatabase.serving(database) { try await benchmark.run() }
            print(report)
        }
    }
}
