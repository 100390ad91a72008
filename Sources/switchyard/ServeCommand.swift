import ArgumentParser
import Foundation
import Hummingbird
import Logging
import SwitchyardAPI
import SwitchyardCore
import SwitchyardMetrics
import SwitchyardOAuth
import SwitchyardOutbound
import SwitchyardPostgres

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Serve the HTTP API (HTTP/1.1, h2c, and h2 over TLS).")

    @OptionGroup var http: HTTPOptions

    func run() async throws {
        let configuration = try SwitchyardConfiguration.loadOrExit(overrides: http.overrides, requiring: .init())
        let (logger, metrics, database) = try await ProcessBasics.start(configuration, label: "switchyard.serve", name: "switchyard serve").unpacked
        let app = try buildApplication(
            APIDependencies(
                configuration: configuration,
                database: database,
                metrics: metrics,
                outbound: OutboundClient(
                    configuration: OutboundConfiguration(configuration.outbound),
                    metrics: metrics.outbound,
                    sharedQuota: PostgresProviderQuotaStore(database: database, logger: logger)
                )
            ),
            extraServices: [DataKeyMaintenance(database: database, logger: logger)],
            logger: logger
        )
        try await app.runService()
    }
}

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply Migrations/*.sql (embedded in this binary) as the schema owner.",
        discussion: "Connects with SWITCHYARD_MIGRATION_DATABASE_URL, or SWITCHYARD_DATABASE_URL when that is unset."
    )

    func run() async throws {
        let configuration = try SwitchyardConfiguration.loadOrExit(
            requiring: .init(database: true, adminKey: false, migrationURLSuffices: true, keyring: false)
        )
        configuration.logging.bootstrap()
        let logger = Logger(label: "switchyard.migrate")
        do {
            let report = try await Migrator(logger: logger).run(url: configuration.database.migrationURL)
            print(
                "switchyard migrate: applied \(report.applied.count) migration(s), \(report.alreadyApplied) already applied; schema version \(Migration.latestVersion)"
            )
        } catch let failure as Migrator.Failure {
            FileHandle.standardError.write(Data("switchyard migrate: \(failure)\n".utf8))
            throw ExitCode.failure
        } catch {
            let url = configuration.database.migrationURL
            FileHandle.standardError.write(
                Data(
                    "switchyard migrate: cannot migrate \(url.host):\(url.port)/\(url.database) as \(url.username): \(loggableDescription(of: error))\n"
                        .utf8
                )
            )
            throw ExitCode.failure
        }
    }
}
