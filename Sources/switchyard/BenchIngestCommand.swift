import ArgumentParser
import Foundation
import Logging
import SwitchyardBenchmarks
import SwitchyardCore
import SwitchyardPostgres
import SwitchyardVault

/// `switchyard bench ingest`: webhook ingestion with group commit versus one durable transaction per event.
struct BenchIngestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Signed webhook deliveries through the server versus one durable insert transaction per event, on the same database.",
        discussion:
            "Starts a private PostgreSQL (durable, in a temporary directory) unless SWITCHYARD_DATABASE_URL names a migrated database. Build with -c release for meaningful figures."
    )

    // 40,000: each of the four slices then lasts about a second; at 20,000 one run's slice ratios spread 1.07-1.61.
    @Option(help: "Deliveries in the peak and ceiling phases (each in four slices).")
    var deliveries: Int = 40_000

    @Option(help: "Concurrent connections, for the senders and for the ceiling.")
    var concurrency: Int = 64

    @Option(help: "Connections of the paced phase (open loop: enough that deliveries never wait for a free one).")
    var pacedConnections: Int = 256

    @Option(help: "The paced phase's load, as a fraction of the measured peak.")
    var pacedLoad: Double = 0.8

    @Option(help: "Seconds the paced phase lasts (its deliveries: its rate times this).")
    var pacedSeconds: Double = 8

    @Flag(help: "Send from this process (beside the server) instead of a `bench ingest-load` process of its own.")
    var inProcess = false

    @Flag(help: "Also run the peak phase's closed loop through wrk (apt-get install -y wrk) against the same server, right after it.")
    var wrk = false

    func run() async throws {
        try await BenchDatabase.run { configuration, logger in
            configuration.database.maxConnections = 16
            configuration.limits.rateLimitPerSecond = 1_000_000
            configuration.limits.rateLimitBurst = 1_000_000
            let vault = Vault(provider: LocalKeyProvider(keyring: .generate(keyID: "bench")))
            let database = try Database(configuration: configuration.database, vault: vault, metrics: nil, logger: logger)
            // The benchmark's server runs the database pool, as `serve` does.
            print(
                try await IngestBenchmark(
                    configuration: configuration,
                    database: database,
                    deliveries: deliveries,
                    concurrency: concurrency,
                    pacedConnections: pacedConnections,
                    pacedLoad: pacedLoad,
                    pacedDuration: .seconds(pacedSeconds),
                    generator: inProcess
                        ? .inProcess : .process(executable: try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")),
                    crossCheckWithWrk: wrk,
                    logger: logger
                ).run()
            )
        }
    }
}

/// `switchyard bench ingest-load`: `bench ingest`'s load generator as a process of its own (started by `bench ingest`).
struct BenchIngestLoadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest-load",
        abstract: "Sends `bench ingest`'s signed deliveries to a running server and prints their latencies as JSON.",
        shouldDisplay: false
    )

    @Option var port: Int
    @Option var path: String
    @Option var signature: String
    @Option var count: Int
    @Option var concurrency: Int
    @Option var prefix: String
    @Option(help: "Deliveries per second; none: each connection sends as soon as it is answered.") var pace: Double?

    func run() async throws {
        try await IngestSenderProcess.serve(
            port: port,
            path: path,
            signature: signature,
            count: count,
            concurrency: concurrency,
            prefix: prefix,
            pace: pace
        )
    }
}
