import Foundation
import SwitchyardCore
import SwitchyardOAuth
import SwitchyardPostgres
import SwitchyardWorkflows
import Synchronization
import Testing

@Suite("Workflow run ends: group commit per tenant")
struct WorkflowFinishWriterTests {
    @Test("runs that end while a batch is written are written together next; a run whose write fails fails alone")
    func groupCommit() async throws {
        try await WorkflowFixture.with { fixture in
            let workflow = try await fixture.create("ends", #"{"steps": [{"id": "a", "type": "map", "template": {}}]}"#)
            var started: [WorkflowRunRecord] = []
            for _ in 0..<31 { started.append(try await fixture.start(workflow.id)) }
            let runs = started
            let caller = IntegrationCaller(database: fixture.database, outbound: fixture.outbound, refreshSkewSeconds: 60)
            let writer = WorkflowRunBatches(database: fixture.database, caller: caller, tenantLimit: 500).finishes
            @Sendable func finish(_ runID: UUID) -> WorkflowRunFinish {
                WorkflowRunFinish(
                    runID: runID,
                    steps: [
                        WorkflowStepWrite(
                            key: "a",
                            position: 0,
                            type: "map",
                            state: .succeeded,
                            output: .object(["run": .string(runID.lowercasedString)])
                        )
                    ],
                    status: .succeeded,
                    error: nil,
                    stepsRun: 1,
                    event: (type: "workflow.run.succeeded", data: ["run_id": .string(runID.lowercasedString)])
                )
            }
            // The first run's row stays locked, so its write (the first batch) waits while the others queue.
            let release = AsyncStream<Void>.makeStream()
            let locked = AsyncStream<Void>.makeStream()
            let missing = UUID.v7()
            let failures = try await withThrowingTaskGroup(of: UUID?.self) { group in
                group.addTask {
                    try await fixture.database.withTenant(fixture.tenant, logger: fixture.logger) { transaction in
                        _ = try await transaction.workflowRun(runs[0].id, locking: true)
                        locked.continuation.yield()
                        for await _ in release.stream { break }
                    }
                    return nil
                }
                for await _ in locked.stream { break }
                group.addTask {
                    try await writer.submit(finish(runs[0].id), tenant: fixture.tenant, logger: fixture.logger)
                    return nil
                }
                try await eventually("the first run's batch is being written") { writer.state(of: fixture.tenant) == (queued: 0, writing: true) }
                for id in runs.dropFirst().map(\.id) + [missing] {
                    group.addTask {
                        do {
                            try await writer.submit(finish(id), tenant: fixture.tenant, logger: fixture.logger)
                            return nil
                        } catch {
                            return id
                        }
                    }
                }
                try await eventually("the other runs queue behind it") { writer.state(of: fixture.tenant).queued == 31 }
                release.continuation.yield()
                var failed: [UUID] = []
                for try await id in group { if let id { failed.append(id) } }
                return failed
            }
            #expect(failures == [missing])
            #expect(writer.batchesWritten == 2)
            #expect(writer.state(of: fixture.tenant) == (queued: 0, writing: false))
            for run in runs {
                let ended = try await fixture.run(run.id)
                #expect(ended.status == .succeeded && ended.stepsRun == 1 && ended.finishedAt != nil)
                #expect(try await fixture.steps(run.id)["a"]?.output == .object(["run": .string(run.id.lowercasedString)]))
            }
            let events = try await fixture.events("workflow.run.succeeded")
            #expect(Set(events.compactMap { $0.data["run_id"] }) == Set(runs.map { JSONValue.string($0.id.lowercasedString) }))
            #expect(events.count == runs.count)
        }
    }
}
