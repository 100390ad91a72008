import ArgumentParser
import Foundation
import SwitchyardBenchmarks
import SwitchyardCore
import SwitchyardPostgres
import SwitchyardVault

/// `switchyard bench executors`: no-op jobs of several tenants run by 1, 2 and 4 executor processes on one PostgreSQL.
struct BenchExecutorsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "executors",
        abstract:
            "No-op jobs of several tenants run by 1, 2 and 4 `switchyard executor` processes on one PostgreSQL: jobs/s, where the CPU went (executors, PostgreSQL, machine) and fairness across tenants, per configuration.",
        discussion:
            "Starts a private PostgreSQL (durable, in a temporary directory) unless SWITCHYARD_DATABASE_URL names a migrated database. Build with -c release for meaningful figures."
    )

    @Option(help: "No-op jobs per configuration, spread evenly over the tenants.")
    var jobs: Int = 40_000

    @Option(help: "Tenants the jobs belong to.")
    var tenants: Int = 4

    @Option(help: "Executor processes of each configuration, comma-separated.")
    var processes: String = "1,2,4"

    @Option(help: "Workers per executor process (SWITCHYARD_EXECUTOR_CONCURRENCY).")
    var concurrency: Int = 64

    func run() async throws {
        let counts = processes.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }.filter { $0 > 0 }
        guard !counts.isEmpty else { throw ValidationError("--processes takes counts such as 1,2,4") }
        // The executors are this binary, started again as `switchyard executor`.
        let executable = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        try await BenchDatabase.run { configuration, logger in
            let vault = Vault(provider: LocalKeyProvider(keyring: .generate(keyID: "bench")))
            let database = try Database(configuration: configuration.database, vault: vault, metrics: nil, logger: logger)
            let benchmark = ExecutorScaleBenchmark(
                database: database,
                applicationURL: configuration.database.url,
                executable: executable,
                jobs: jobs,
                tenants: tenants,
                processCounts: counts,
                concurrency: concurrency,
                logger: logger
            )
            let report = try await BenchDatabase.serving(database) { try await benchmark.run() }
            print(report)
        }
    }
}
