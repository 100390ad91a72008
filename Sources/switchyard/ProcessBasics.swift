import ArgumentParser
import Foundation
import Logging
import SwitchyardCore
import SwitchyardMetrics
import SwitchyardPostgres
import SwitchyardVault

/// What every long-running process starts from: logging, the preflight check, the vault, metrics and the pool.
struct ProcessBasics {
    let logger: Logger
    let metrics: MetricsRegistry
    let database: Database

    /// Stops with a one-line message when the database is not ready for this build (`name` leads the line).
    static func start(_ configuration: SwitchyardConfiguration, label: String, name: String) async throws -> ProcessBasics {
        configuration.logging.bootstrap()
        let logger = Logger(label: label)
        do {
            try await Preflight.check(configuration.database.url, logger: logger)
        } catch let failure as Preflight.Failure {
            FileHandle.standardError.write(Data("\(name): \(failure)\n".utf8))
            throw ExitCode.failure
        }
        let vault = try await Vault.loadOrExit(configuration)
        let metrics = MetricsRegistry(version: Switchyard.version)
        let database = try Database(configuration: configuration.database, vault: vault, metrics: metrics.database, logger: logger)
        return ProcessBasics(logger: logger, metrics: metrics, database: database)
    }

    var unpacked: (Logger, MetricsRegistry, Database) { (logger, metrics, database) }
}
