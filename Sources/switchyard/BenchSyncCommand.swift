import ArgumentParser
import Foundation
import Logging
import SwitchyardBenchmarks
import SwitchyardCore
import SwitchyardPostgres
import SwitchyardVault

/// `switchyard bench sync`: a full sync through the whole path versus the raw upsert ceiling, then an incremental run.
struct BenchSyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract:
            "A full sync of a loopback provider's records through the whole path versus one prepared upsert per page on the same database; peak RSS growth; an incremental run after 1% changed.",
        discussion:
            "Starts a private PostgreSQL (durable, in a temporary directory) unless SWITCHYARD_DATABASE_URL names a migrated database. Build with -c release for meaningful figures."
    )

    @Option(help: "Records the provider serves.")
    var records: Int = 100_000

    @Option(help: "Approximate size of one record's JSON, in bytes.")
    var recordBytes: Int = 1000

    @Option(help: "Records per page.")
    var pageSize: Int = 100

    func run() async throws {
        try await BenchDatabase.run { configuration, logger in
            configuration.database.maxConnections = 8
            let vault = Vault(provider: LocalKeyProvider(keyring: .generate(keyID: "bench")))
            let database = try Database(configuration: configuration.database, vault: vault, metrics: nil, logger: logger)
            let benchmark = SyncBenchmark(
                configuration: configuration,
                database: database,
                records: records,
                recordBytes: recordBytes,
                pageSize: pageSize,
                logger: logger
            )
            let report = try await BenchDatabase.serving(database) { try await benchmark.run() }
            print(report)
        }
    }
}
