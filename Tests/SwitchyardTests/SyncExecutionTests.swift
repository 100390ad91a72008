import Foundation
import SwitchyardBenchmarks
import SwitchyardCore
import SwitchyardJobs
import SwitchyardPostgres
import SwitchyardSyncs
import SwitchyardTestSupport
import Testing

/// Sync runs as the platform runs them: fired by the scheduler, run by executors as `sync.run` jobs, surviving an
/// executor killed mid-run, and counted by integration health.
@Suite("Sync runs on the job queue: scheduling, kill -9 mid-run, health (issue 14)")
struct SyncExecutionTests {
    @Test("an executor killed with SIGKILL mid-run: the next one resumes at the first uncommitted page and writes nothing twice")
    func killedMidRun() async throws {
        try await SyncFixture.with([try .cursorItems(pageSize: 10)]) { fixture in
            for id in 1...400 { fixture.provider.put(id, name: "item \(id)") }
            fixture.provider.setPageDelay(.milliseconds(60))
            let run = try await fixture.start("items", mode: .full)
            let child = try SwitchyardProcess(
                ["executor"],
                environment: fixture.environment,
                settings: childExecutorSettings([
                    "SWITCHYARD_KEYRING": fixture.keyringJSON, "SWITCHYARD_OUTBOUND_HTTP_ALLOW_LIST": fixture.provider.hostAndPort,
                ])
            )
            try await eventually("the child executor commits a few pages; its log: \(child.output)") {
                try await fixture.syncRun(run.id).pages >= 5
            }
            child.signal(SIGKILL)
            _ = try await child.waitForExit()
            let atKill = try await fixture.syncRun(run.id)
            #expect(atKill.status == .running && atKill.pages < 40, "the run was still going when the executor died")
            let askedBeforeRestart = fixture.provider.requests(to: "/cursor/items").count

            let registry = JobRegistry.executor(
                configuration: fixture.environment.configuration,
                database: fixture.database,
                outbound: fixture.outbound
            )
            try await fixture.database.withExecutor(registry: registry, logger: fixture.logger) {
                try await eventually("another executor completes the run", timeout: .seconds(60)) {
                    try await fixture.syncRun(run.id).status == .succeeded
                }
                try await eventually("its job is finished") { try await fixture.jobState(run.id) == .succeeded }
            }
            let finished = try await fixture.syncRun(run.id)
            #expect(finished.pages == 40)
            #expect(finished.added == 400 && finished.updated == 0 && finished.unchanged == 0, "a page written twice would count as unchanged")
            #expect(try await fixture.records("item").count == 400)
            // Resumed, not restarted: no request after the restart asks for the first page, and the pages asked for
            // are at most the uncommitted ones plus the one in flight when the child died.
            let afterRestart = fixture.provider.requests(to: "/cursor/items").dropFirst(askedBeforeRestart)
            #expect(afterRestart.allSatisfy { $0.query["after"] != nil })
            #expect(afterRestart.count == 40 - atKill.pages)
            let job = try await fixture.database.withTenant(fixture.tenant, logger: fixture.logger) { try await $0.job(run.id) }
            #expect(job?.history.map(\.outcome) == ["lease_expired", "succeeded"])
        }
    }

    @Test("a run longer than half the job run timeout continues in new attempts at page boundaries, spending no attempt")
    func longRunContinues() async throws {
        try await SyncFixture.with([try .cursorItems(pageSize: 10)]) { fixture in
            for id in 1...1_600 { fixture.provider.put(id, name: "item \(id)") }
            fixture.provider.setPageDelay(.milliseconds(100))
            // An attempt reads for half of this (10 s); the 160 pages take over 16 s. The other half is the margin for
            // the page in flight when it stops, on a loaded machine: a longer tail would be abandoned, not continued
            // (with 3 s of margin, a full suite on a slow machine ran past it, and with 5 s a full suite beside a
            // release build: the lease lapsed and the job was rescued). The lease is as long, for the same reason.
            var settings = fastJobsSettings()
            settings.runTimeoutMilliseconds = 20_000
            settings.leaseMilliseconds = 10_000
            let run = try await fixture.start("items", mode: .full)
            let registry = JobRegistry.executor(
                configuration: fixture.environment.configuration,
                database: fixture.database,
                outbound: fixture.outbound
            )
            try await fixture.database.withExecutor(registry: registry, settings: settings, logger: fixture.logger) {
                try await eventually("the run completes", timeout: .seconds(120)) { try await fixture.syncRun(run.id).status == .succeeded }
                try await eventually("its job is finished") { try await fixture.jobState(run.id) == .succeeded }
            }
            let finished = try await fixture.syncRun(run.id)
            #expect(finished.pages == 160 && finished.added == 1_600 && finished.unchanged == 0)
            let job = try #require(try await fixture.database.withTenant(fixture.tenant, logger: fixture.logger) { try await $0.job(run.id) })
            let outcomes = job.history.map(\.outcome)
            #expect(outcomes.count >= 2 && outcomes.dropLast().allSatisfy { $0 == "released" } && outcomes.last == "succeeded", "\(outcomes)")
            #expect(job.attempts == 1, "continuing spends no attempt")
            #expect(job.history.first?.error?.hasSuffix("pages committed; the run continues from the next one") == true)
            #expect(job.lastError == nil)
        }
    }

    @Test("enabling a sync schedules it: the scheduler fires it, an executor runs it, events follow and health counts it")
    func scheduled() async throws {
        try await SyncFixture.with([try .cursorItems()]) { fixture in
            for id in 1...7 { fixture.provider.put(id, name: "item \(id)") }
            _ = try await fixture.database.withTenant(fixture.tenant, logger: fixture.logger) {
                try await $0.changeIntegrationSync(integration: fixture.integration, name: "items", IntegrationSyncChange(enabled: true))
            }
            // A sync whose stored definition no longer reads does not stop the others from being fired.
            try await fixture.database.withTenant(fixture.tenant, logger: fixture.logger) { transaction in
                _ = try await transaction.saveSyncDefinition(provider: "records", name: "broken", definition: #"{"name":"broken"}"#)
                try await transaction.changeIntegrationSync(integration: fixture.integration, name: "broken", IntegrationSyncChange(enabled: true))
            }
            let scheduler = JobScheduler(
                database: fixture.database,
                options: SchedulerOptions(fastJobsSettings()),
                metrics: nil,
                logger: fixture.logger
            )
            try await scheduler.tick()
            try await scheduler.tick()  // Not due again: its next run is a frequency away.
            let runs = try await fixture.database.withTenant(fixture.tenant, logger: fixture.logger) {
                try await $0.syncRuns(integration: fixture.integration, sync: "items", page: PageRequest(limit: 10, cursor: nil))
            }.items
            #expect(runs.count == 1 && runs.first?.trigger == .schedule && runs.first?.mode == .full && runs.first?.status == .queued)
            let state = try await fixture.database.withTenant(fixture.tenant, logger: fixture.logger) {
                try await $0.integrationSync(integration: fixture.integration, name: "items")
            }
            #expect(state.map { $0.nextRunAt > Date().addingTimeInterval(30) } == true)
            let broken = try await fixture.database.withTenant(fixture.tenant, logger: fixture.logger) {
                try await $0.integrationSync(integration: fixture.integration, name: "broken")
            }
            #expect(broken.map { $0.nextRunAt > Date().addingTimeInterval(200) } == true, "looked at again in 5 minutes")

            let registry = JobRegistry.executor(
                configuration: fixture.environment.configuration,
                database: fixture.database,
                outbound: fixture.outbound
            )
            try await fixture.database.withExecutor(registry: registry, logger: fixture.logger) {
                try await eventually("the executor completes the run") { try await fixture.syncRun(runs[0].id).status == .succeeded }
                // Its job too (written after the run ends), so the next run of the sync can start.
                try await eventually("its job is finished") { try await fixture.jobState(runs[0].id) == .succeeded }
            }
            #expect(try await fixture.records("item").count == 7)
            #expect(try await fixture.events("sync.completed").first?.data["added"] == .number(7))
            #expect(try await fixture.events("records.changed").first?.data["added"] == .number(7))

            // A failing run fails its job, and health scoring counts both outcomes.
            fixture.provider.script("/cursor/items", RecordsProvider.Reply(status: 404, body: "{}"))
            let failing = try await fixture.start("items", mode: .full)
            try await fixture.database.withExecutor(registry: registry, logger: fixture.logger) {
                try await eventually("the failing run ends") { try await fixture.syncRun(failing.id).status == .failed }
                try await eventually("its job is a dead letter") { try await fixture.jobState(failing.id) == .dead }
            }
            #expect(try await fixture.syncRun(failing.id).error == "Page 1: the provider answered 404.")
            #expect(try await fixture.events("sync.failed").count == 1)
            try await IntegrationHealthScoring(database: fixture.database, metrics: nil).run(logger: fixture.logger)
            let health = try await fixture.database.withTenant(fixture.tenant, logger: fixture.logger) {
                try await $0.integration(fixture.integration)
            }?.health
            #expect(health?.score == 0.5)
            #expect(health?.reason.contains("404") == true)
        }
    }
}
