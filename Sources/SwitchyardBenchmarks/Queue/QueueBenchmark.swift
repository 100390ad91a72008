import Foundation
import Logging
import SwitchyardCore
import SwitchyardJobs
import SwitchyardPostgres

/// `switchyard bench queue`: N no-op jobs through the real executor, then N more through the raw SQL
/// ceiling (batch-10 claim and complete), on the same database.
public struct QueueBenchmark: Sendable {
    public struct Report: Sendable, CustomStringConvertible {
        public let jobs: Int
        public let executorSeconds: Double
        public let rawSeconds: Double
        public let executorConcurrency: Int
        public let claimBatch: Int
        public let rawWorkers: Int

        public var executorRate: Double { Double(jobs) / executorSeconds }
        public var rawRate: Double { Double(jobs) / rawSeconds }
        public var ratio: Double { executorRate / rawRate }

        public var description: String {
            """
            jobs:             \(jobs) no-op jobs per phase
            executor:         \(Int(executorRate.rounded())) jobs/s  (\(String(format: "%.2f", executorSeconds)) s; \(executorConcurrency) workers claiming up to \(claimBatch) at a time, one process)
            raw SQL ceiling:  \(Int(rawRate.rounded())) jobs/s  (\(String(format: "%.2f", rawSeconds)) s; \(rawWorkers) connections claiming 10 and completing 10 per round trip pair)
            ratio:            \(String(format: "%.2f", ratio))  (executor / raw; the goal is >= 1.0)
            """
        }
    }

    let database: Database
    let url: DatabaseURL
    let settings: JobsSettings
    let jobs: Int
    let rawWorkers: Int
    let logger: Logger

    public init(database: Database, url: DatabaseURL, settings: JobsSettings, jobs: Int, rawWorkers: Int, logger: Logger) {
        self.database = database
        self.url = url
        self.settings = settings
        self.jobs = jobs
        self.rawWorkers = rawWorkers
        self.logger = logger
    }

    public func run() async throws -> Report {
        let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        let tenant = try await database.withOperator(logger: logger) { try await $0.createTenant(slug: "bench-\(suffix)", name: "Queue benchmark") }
            .id

        let executorSeconds = try await executorPhase(tenant)

        try await enqueue(tenant)
        let rawStart = ContinuousClock.now
        let done = try await RawClaimLoop.run(url: url, tenant: tenant, workers: rawWorkers, logger: logger)
        let rawSeconds = (ContinuousClock.now - rawStart).inSeconds
        guard done == jobs else { throw BenchmarkFailure("the raw loop completed \(done) of \(jobs) jobs") }

        return Report(
            jobs: jobs,
            executorSeconds: executorSeconds,
            rawSeconds: rawSeconds,
            executorConcurrency: settings.executorConcurrency,
            claimBatch: settings.claimBatch,
            rawWorkers: rawWorkers
        )
    }

    /// The executor's phase alone, for a tenant of its own: N no-op jobs queued, then run; returns the seconds they took
    /// (`bench workflow` compares its steps with it).
    public func executorPhase() async throws -> Double {
        let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        let tenant = try await database.withOperator(logger: logger) { try await $0.createTenant(slug: "bench-noop-\(suffix)", name: "No-op jobs") }
            .id
        return try await executorPhase(tenant)
    }

    private func executorPhase(_ tenant: TenantID) async throws -> Double {
        try await enqueue(tenant)
        let executorStart = ContinuousClock.now
        var options = ExecutorOptions(settings)
        options.pollInterval = .milliseconds(50)
        let executor = JobExecutor(database: database, registry: .standard(), options: options, metrics: nil, logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await executor.run() }
            // Cheap to ask (it stops at the first active job), so the watching costs the run little.
            while try await database.withTenant(tenant, logger: logger, { try await $0.hasActiveJobs() }) {
                try await Task.sleep(for: .milliseconds(20))
            }
            group.cancelAll()
        }
        let executorSeconds = (ContinuousClock.now - executorStart).inSeconds
        let succeeded = try await database.withTenant(tenant, logger: logger) { try await $0.countJobs(state: .succeeded) }
        guard succeeded == jobs else { throw BenchmarkFailure("the executor completed \(succeeded) of \(jobs) jobs") }
        return executorSeconds
    }

    private func enqueue(_ tenant: TenantID) async throws {
        let job = try NewJob(NoopPayload())
        for start in stride(from: 0, to: jobs, by: 5000) {
            let count = min(5000, jobs - start)
            _ = try await database.withTenant(tenant, logger: logger) { try await $0.enqueue(batch: Array(repeating: job, count: count)) }
        }
    }

}
