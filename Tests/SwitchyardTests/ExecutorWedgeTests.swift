import Foundation
import Logging
import SwitchyardCore
import SwitchyardJobs
import SwitchyardPostgres
import SwitchyardTestSupport
import Synchronization
import Testing

/// A handler that hangs on its first attempt, ignoring cancellation, until the test lets it go; later attempts succeed.
struct HangsOnceHandler: JobHandler {
    struct Payload: JobPayload {
        static let kind = "test.hangs-once"
    }

    let gate: Gate

    func run(_ payload: Payload, context: JobContext) async throws {
        guard context.attempt == 1 else { return }
        while (try? await gate.wait()) == nil {}
    }
}

@Suite("Executor wedges (REQUIREMENTS RL-8)")
struct ExecutorWedgeTests {
    @Test(
        "a handler stuck past the run timeout is abandoned: its lease lapses, the job runs again, and the executor reports not ready until the handler returns"
    )
    func stuckHandlerIsAbandoned() async throws {
        let environment = try await TestEnvironment.make()
        let logger = environment.logger
        let gate = Gate()
        var settings = fastJobsSettings()
        settings.runTimeoutMilliseconds = 300
        settings.leaseMilliseconds = 1_000
        let options = ExecutorOptions(settings)
        let registry = { () -> JobRegistry in
            var registry = JobRegistry.standard()
            registry.register(HangsOnceHandler(gate: gate))
            return registry
        }()
        try await environment.withDatabase(maxConnections: 6) { database in
            let tenant = try await database.makeTenant("wedged", logger: logger)
            let id = try await database.enqueue(try NewJob(HangsOnceHandler.Payload(), maxAttempts: 3), for: tenant, logger: logger)
            let executor = JobExecutor(database: database, registry: registry, options: options, metrics: nil, logger: logger)
            #expect(executor.notReadyReason() == nil)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await executor.run() }
                defer { group.cancelAll() }
                // The heartbeat stops renewing the stuck attempt; the lease lapses and the job is run again.
                try await eventually("the abandoned job succeeds on a later attempt") {
                    try await database.job(id, of: tenant, logger: logger).state == .succeeded
                }
                let job = try await database.job(id, of: tenant, logger: logger)
                #expect(job.attempts >= 2)
                #expect(executor.notReadyReason()?.contains("run timeout") == true)
                gate.release()
                try await eventually("the executor is ready once the stuck handler returned") { executor.notReadyReason() == nil }
            }
        }
    }
}
