import ArgumentParser
import Foundation
import Logging
import SwitchyardBenchmarks
import SwitchyardCore
import SwitchyardPostgres
import SwitchyardVault

/// `switchyard bench api`: the authenticated read path against the bare `/healthz` route.
struct BenchAPICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api",
        abstract: "GET /v1/me, /v1/integrations/{id} and its /credentials through the server versus GET /healthz on the same server.",
        discussion:
            "Starts a private PostgreSQL (durable, in a temporary directory) unless SWITCHYARD_DATABASE_URL names a migrated database. Build with -c release for meaningful figures."
    )

    /// 64, as `bench ingest`: at 16 the combined reads leave a quarter of the machine idle, each request waiting on its
    /// batch's round trip, so the figure is that latency's rather than the route's rate at saturation.
    @Option(help: "Keep-alive connections in the saturated phase (and workers in the paced one).")
    var concurrency: Int = 64

    @Option(help: "Seconds each route is saturated.")
    var seconds: Int = 5

    @Option(help: "Requests per second per route in the paced phase.")
    var pacedRate: Int = 1_000

    @Option(help: "Seconds each route is paced.")
    var pacedSeconds: Int = 4

    func run() async throws {
        try await BenchDatabase.run { configuration, logger in
            configuration.database.maxConnections = 16
            // Each key at full speed: the limit must not be what is measured.
            configuration.limits.rateLimitPerSecond = 1_000_000
            configuration.limits.rateLimitBurst = 1_000_000
            let vault = Vault(provider: LocalKeyProvider(keyring: .generate(keyID: "bench")))
            let database = try Database(configuration: configuration.database, vault: vault, metrics: nil, logger: logger)
            print(
                try await APIReadBenchmark(
                    configuration: configuration,
                    database: database,
                    concurrency: concurrency,
                    saturation: .seconds(seconds),
                    pacedRate: Double(pacedRate),
                    paced: .seconds(pacedSeconds),
                    logger: logger
                ).run()
            )
        }
    }
}
