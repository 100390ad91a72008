import Foundation
import Logging
import SwitchyardCore
import SwitchyardJobs
import SwitchyardPostgres
import SwitchyardTestSupport
import Testing

@Suite("Job queue across a PostgreSQL restart (REQUIREMENTS RL-6)")
struct JobDurabilityTests {
    @Test("PostgreSQL crashes and comes back under load: the executor reconnects and every enqueued job succeeds")
    func executorSurvivesRestart() async throws {
        let logger = Logger(label: "switchyard.tests.job-durability")
        let directory = URL(filePath: NSTemporaryDirectory()).appending(path: "switchyard-job-durability-\(UUID().uuidString)")
        let cluster = try LocalPostgresCluster.start(.init(directory: directory, durable: true), logger: logger)
        defer {
            cluster.stop()
            cluster.removeFiles()
        }
        let urls = try await cluster.provisionDatabase(named: "switchyard_jobs_durability", logger: logger)
        _ = try await Migrator(logger: logger).run(url: urls.owner)
        let environment = TestEnvironment.make(owner: urls.owner, application: urls.application, logger: logger)
        let jobs = 200
        try await environment.withDatabase(maxConnections: 8) { database in
            let tenant = try await database.makeTenant("durable-jobs", logger: logger)
            _ = try await database.withTenant(tenant, logger: logger) {
                try await $0.enqueue(batch: Array(repeating: try NewJob(NoopPayload(sleepMilliseconds: 20)), count: jobs))
            }
            try await database.withExecutor(registry: .standard(), logger: logger) {
                try await eventually("jobs are under way") { try await database.count(.succeeded, of: tenant, logger: logger) > 10 }
                cluster.crash()
                try await Task.sleep(for: .milliseconds(500))
                // The same port: to the executor's pool, the server went away and came back.
                let restarted = try LocalPostgresCluster.start(.init(directory: directory, durable: true, port: cluster.port), logger: logger)
                #expect(restarted.port == cluster.port)
                logger.notice("restarted; probing the pool")
                let probe = try await database.withCatalog(logger: logger) { try await $0.appliedMigrationVersions() }
                logger.notice("pool answers", metadata: ["versions": "\(probe?.count ?? -1)"])
                try await eventually("every job succeeds after the restart", timeout: .seconds(60)) {
                    (try? await database.count(.succeeded, of: tenant, logger: logger)) == jobs
                }
            }
            #expect(try await database.count(.running, of: tenant, logger: logger) == 0)
        }
    }
}
