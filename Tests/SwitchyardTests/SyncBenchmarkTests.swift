import Foundation
import SwitchyardBenchmarks
import SwitchyardTestSupport
import Testing

/// `switchyard bench sync` end to end on a handful of records: no timings are asserted, only that both runs
/// complete through the whole path and the report carries its figures.
@Suite("Sync benchmark")
struct SyncBenchmarkTests {
    @Test("a small run completes the full, the incremental and the deleting run and prints a ratio line")
    func smallRun() async throws {
        let environment = try await TestEnvironment.make()
        let report = try await environment.withDatabase(maxConnections: 8) { database in
            try await SyncBenchmark(
                configuration: environment.configuration,
                database: database,
                records: 250,
                recordBytes: 300,
                pageSize: 50,
                logger: environment.logger
            ).run()
        }
        #expect(report.fullPages == 5)
        // Records 1, 101 and 201 change; the incremental run rewrites exactly those.
        #expect(report.changed == 3)
        #expect(report.incrementalAdded == 0)
        #expect(report.incrementalUpdated == 3)
        // Records 50, 150 and 250 go; the second full run marks exactly those deleted and writes nothing.
        #expect(report.removed == 3)
        #expect(report.rescanDeleted == 3)
        #expect(report.rescanWritten == 0)
        let ratio = report.description.split(separator: "\n").first { $0.hasPrefix("ratio:") }
        #expect(ratio.flatMap { $0.dropFirst("ratio:".count).split(separator: " ").first.flatMap { Double($0) } } != nil)
    }
}
