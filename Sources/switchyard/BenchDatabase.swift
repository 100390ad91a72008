import Foundation
import Logging
import SwitchyardCore
import SwitchyardDevCluster
import SwitchyardPostgres

/// The database a benchmark runs on: `SWITCHYARD_DATABASE_URL` when set, else a private, durable PostgreSQL in a
/// temporary directory (fsync on: the figures are about durable commits), migrated, removed afterwards.
enum BenchDatabase {
    /// Loads the configuration (quiet unless `SWITCHYARD_LOG_LEVEL` says otherwise) and runs `body` with a database.
    static func run<Result>(
        _ body: (inout SwitchyardConfiguration, Logger) async throws -> Result
    ) async throws -> Result {
        let environment = ProcessInfo.processInfo.environment
        let ownDatabase = environment[SwitchyardSettings.databaseURL.environmentKey] != nil
        var configuration = try SwitchyardConfiguration.loadOrExit(
            environment: environment,
            requiring: .init(database: ownDatabase, adminKey: false, keyring: false)
        )
        // The report is the output; progress lines only when asked for.
        if environment[SwitchyardSettings.logLevel.environmentKey] == nil { configuration.logging.level = .warning }
        configuration.logging.bootstrap()
        let logger = Logger(label: "switchyard.bench")
        var cluster: LocalPostgresCluster?
        if !ownDatabase {
            let directory = URL(filePath: NSTemporaryDirectory()).appending(path: "switchyard-bench-\(ProcessInfo.processInfo.processIdentifier)")
            let started = try await LocalPostgresCluster.start(.init(directory: directory, durable: true), logger: logger)
            cluster = started
            let urls = try await started.provisionDatabase(named: "switchyard_bench", logger: logger)
            _ = try await Migrator(logger: logger).run(url: urls.owner)
            configuration.database = DatabaseConfiguration(url: urls.application, migrationURL: urls.owner)
        }
        // Run when the benchmark is over: nothing else is left to need this thread.
        defer {
            cluster?.stopBeforeExit()
            cluster?.removeFiles()
        }
        return try await body(&configuration, logger)
    }

    /// Runs `body` while `database`'s pool runs (its connections serve the benchmark), then stops the pool.
    static func serving<Result: Sendable>(_ database: Database, _ body: @Sendable () async throws -> Result) async throws -> Result {
        try await withThrowingTaskGroup(of: Result?.self) { group in
            group.addTask {
                try await database.run()
                return nil
            }
            defer { group.cancelAll() }
            return try await body()
        }
    }
}
