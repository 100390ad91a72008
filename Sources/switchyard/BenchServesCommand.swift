import ArgumentParser
import Foundation
import SwitchyardBenchmarks
import SwitchyardCore
import SwitchyardDevCluster
import SwitchyardPostgres
import SwitchyardVault

/// `switchyard bench serves`: signed webhook deliveries into 1 and 2 `serve` processes on one PostgreSQL.
struct BenchServesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serves",
        abstract:
            "Signed webhook deliveries into 1 and 2 `switchyard serve` processes on one PostgreSQL, each fed by a load generator process of its own: events/s, acknowledgement latency and where the CPU went, per configuration.",
        discussion:
            "Starts a private PostgreSQL (durable, in a temporary directory) unless SWITCHYARD_DATABASE_URL names a migrated database. The serve processes and this one share a keyring made for the run. Build with -c release for meaningful figures."
    )

    @Option(help: "Deliveries per configuration.")
    var deliveries: Int = 20_000

    @Option(help: "Keep-alive connections in all, split evenly over the serve processes.")
    var connections: Int = 64

    @Option(help: "Serve processes of each configuration, comma-separated.")
    var processes: String = "1,2"

    func run() async throws {
        let counts = processes.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }.filter { $0 > 0 }
        guard !counts.isEmpty else { throw ValidationError("--processes takes counts such as 1,2") }
        let executable = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        try await BenchDatabase.run { configuration, logger in
            // The serve processes open the source's signing secret this process seals: one keyring for all.
            let keyring = LocalKeyring.generate(keyID: "bench")
            let vault = Vault(provider: LocalKeyProvider(keyring: keyring))
            let database = try Database(configuration: configuration.database, vault: vault, metrics: nil, logger: logger)
            let benchmark = ServeScaleBenchmark(
                database: database,
                applicationURL: configuration.database.url,
                keyringJSON: keyring.json(),
                executable: executable,
                deliveries: deliveries,
                connections: connections,
                processCounts: counts,
                freePort: { try LocalPostgresCluster.freeLoopbackPort() },
                logger: logger
            )
            let report = try await BenchDatabase.serving(database) { try await benchmark.run() }
            print(report)
        }
    }
}
