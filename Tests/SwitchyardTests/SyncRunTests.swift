import Foundation
import SwitchyardBenchmarks
import SwitchyardCore
import SwitchyardPostgres
import SwitchyardSyncs
import SwitchyardTestSupport
import Testing

/// Sync runs against a paginated loopback provider and a real PostgreSQL: every pagination style, full and
/// incremental runs, delete detection, malformed pages, 429 and 401 answers, and resuming from the checkpoint.
@Suite("Sync runs: pagination, full and incremental runs, delete detection, faults (issue 14)")
struct SyncRunTests {
    /// Each pagination style a definition can describe, over the provider route that speaks it, five records a page.
    static func styles() throws -> [(String, SyncDefinition)] {
        [
            (
                "Link header",
                try .records(
                    path: "/link/items",
                    query: ["per_page": "5"],
                    pagination: SyncPagination(.linkHeader),
                    records: ""
                )
            ),
            ("cursor in the body", try .cursorItems()),
            (
                "cursor from the last record",
                try .records(
                    path: "/starting-after/items",
                    query: ["limit": "5"],
                    pagination: SyncPagination(
                        .cursor,
                        cursorFromLastRecord: try JSONPointer("/id"),
                        hasMore: try JSONPointer("/has_more"),
                        parameter: .query("starting_after")
                    ),
                    records: "/data",
                    incremental: nil
                )
            ),
            (
                "next URL",
                try .records(
                    path: "/next/items",
                    query: ["limit": "5"],
                    pagination: SyncPagination(.nextURL, nextURL: try JSONPointer("/next")),
                    records: "/items"
                )
            ),
            (
                "offset and limit",
                try .records(
                    path: "/offset/items",
                    pagination: SyncPagination(.offset, parameter: .query("offset"), limitParameter: .query("limit"), pageSize: 5),
                    records: "/results"
                )
            ),
            (
                "page number",
                try .records(
                    path: "/pages/items",
                    pagination: SyncPagination(
                        .pageNumber,
                        hasMore: try JSONPointer("/has_more"),
                        parameter: .query("page"),
                        limitParameter: .query("size"),
                        pageSize: 5
                    ),
                    records: "/records"
                )
            ),
            (
                "GraphQL cursor in the request body",
                try .records(
                    path: "/graphql",
                    method: .post,
                    body: .object(["query": .string("{ items }"), "variables": .object(["first": .number(5)])]),
                    pagination: SyncPagination(
                        .cursor,
                        nextCursor: try JSONPointer("/data/items/pageInfo/endCursor"),
                        hasMore: try JSONPointer("/data/items/pageInfo/hasNextPage"),
                        parameter: .body("/variables/after")
                    ),
                    records: "/data/items/nodes",
                    incremental: SyncIncremental(parameter: .body("/variables/since"))
                )
            ),
        ]
    }

    @Test("every pagination style reads all pages once and stores every record", arguments: 0..<7)
    func paginationStyles(_ index: Int) async throws {
        let (style, definition) = try Self.styles()[index]
        try definition.validate()
        try await SyncFixture.with([definition]) { fixture in
            for id in 1...23 { fixture.provider.put(id, name: "item \(id)") }
            let run = try await fixture.run("items", mode: .full)
            #expect(run.status == .succeeded, "\(style): \(run.error ?? "")")
            #expect(run.pages == 5, "\(style)")
            #expect(run.added == 23 && run.updated == 0 && run.unchanged == 0, "\(style)")
            #expect(fixture.provider.requests().count == 5, "\(style): one request per page")
            let records = try await fixture.records("item")
            #expect(Set(records.keys) == Set((1...23).map(String.init)), "\(style)")
            #expect(records["7"]?.json.contains(#""name": "item 7""#) == true, "\(style)")
        }
    }

    @Test("a full run, then an incremental one asking only for changes, then a full one: records end added, updated and deleted")
    func fullIncrementalAndDeletes() async throws {
        try await SyncFixture.with([try .cursorItems()]) { fixture in
            for id in 1...12 { fixture.provider.put(id, name: "item \(id)") }
            let first = try await fixture.run("items")
            #expect(first.mode == .full && first.status == .succeeded)
            #expect(first.added == 12 && first.pages == 3)
            let checkpoint = try #require(first.checkpoint)
            #expect(checkpoint == "\"\(fixture.provider.updatedAt(12)!)\"")

            // A change, an addition and a removal at the provider.
            fixture.provider.put(3, name: "item 3, renamed")
            fixture.provider.put(13, name: "item 13")
            fixture.provider.remove(5)
            let incremental = try await fixture.run("items")
            #expect(incremental.mode == .incremental && incremental.status == .succeeded, "\(incremental.error ?? "")")
            #expect(incremental.since == checkpoint)
            let asked = fixture.provider.requests(to: "/cursor/items").suffix(incremental.pages)
            #expect(asked.allSatisfy { $0.query["since"] == fixture.provider.updatedAt(12) })
            // Record 12 (at the checkpoint, since is inclusive) comes again unchanged: it is not rewritten.
            #expect(incremental.added == 1 && incremental.updated == 1 && incremental.unchanged == 1 && incremental.deleted == 0)

            // Only a full run can see that 5 is gone.
            let full = try await fixture.run("items", mode: .full)
            #expect(full.status == .succeeded && full.deleted == 1 && full.added == 0 && full.updated == 0 && full.unchanged == 12)
            let records = try await fixture.records("item")
            #expect(records["5"]?.deleted == true)
            #expect(records["3"]?.json.contains("renamed") == true && records["3"]?.deleted == false)
            #expect(records["13"]?.deleted == false)
            #expect(records.count == 13)

            let completed = try await fixture.events("sync.completed")
            #expect(completed.count == 3)
            let changed = try await fixture.events("records.changed")
            #expect(changed.last?.data["deleted"] == .number(1) && changed.last?.data["model"] == .string("item"))
            // The last completed run's checkpoint is the integration's.
            let state = try await fixture.database.withTenant(fixture.tenant, logger: fixture.logger) {
                try await $0.integrationSync(integration: fixture.integration, name: "items")
            }
            #expect(state?.checkpoint == full.checkpoint && state?.lastRunID == full.id)
        }
    }

    @Test("a reset is not undone by a run that started before it; a provider deleted takes its sync definitions along")
    func resetAndProviderDeletion() async throws {
        try await SyncFixture.with([try .cursorItems()]) { fixture in
            for id in 1...6 { fixture.provider.put(id, name: "item \(id)") }
            try await fixture.run("items")
            func checkpoint() async throws -> String? {
                try await fixture.database.withTenant(fixture.tenant, logger: fixture.logger) {
                    try await $0.integrationSync(integration: fixture.integration, name: "items")
                }?.checkpoint
            }
            #expect(try await checkpoint() != nil)
            let before = try await fixture.start("items")
            #expect(before.mode == .incremental)
            _ = try await fixture.database.withTenant(fixture.tenant, logger: fixture.logger) {
                try await $0.changeIntegrationSync(integration: fixture.integration, name: "items", IntegrationSyncChange(forgetCheckpoint: true))
            }
            #expect(try await fixture.resume(before.id, sync: "items").status == .succeeded)
            #expect(try await checkpoint() == nil, "the older run left the reset alone")
            let after = try await fixture.run("items")
            #expect(after.mode == .full && after.status == .succeeded)
            #expect(try await checkpoint() == after.checkpoint)

            let left = try await fixture.database.withTenant(fixture.tenant, logger: fixture.logger) { transaction in
                _ = try await transaction.deleteIntegration(fixture.integration)
                _ = try await transaction.deleteCustomProvider("records")
                return try await transaction.syncDefinitions(provider: "records")
            }
            #expect(left.isEmpty)
        }
    }

    @Test("a record that comes back after its deletion is undeleted by the next run")
    func undelete() async throws {
        try await SyncFixture.with([try .cursorItems()]) { fixture in
            for id in 1...3 { fixture.provider.put(id, name: "item \(id)") }
            try await fixture.run("items")
            fixture.provider.remove(2)
            #expect(try await fixture.run("items", mode: .full).deleted == 1)
            fixture.provider.put(2, name: "item 2 again")
            let back = try await fixture.run("items", mode: .full)
            #expect(back.updated == 1 && back.deleted == 0)
            #expect(try await fixture.records("item")["2"]?.deleted == false)
        }
    }

    @Test("malformed pages fail the run naming the page and the pointer; committed pages stay and nothing is deleted")
    func malformedPages() async throws {
        let cases: [(String, String)] = [
            (#"{"data":{"id":1}}"#, "Page 2: the records pointer '/data' holds a JSON object, not an array."),
            (#"{"items":[]}"#, "Page 2: the response has nothing at the records pointer '/data'."),
            (#"{"data":[{"id":99},{"name":"no id"}]}"#, "Page 2: record 2 of the page has no id at '/id'"),
            (#"{"data":[{"id":{"nested":true}}]}"#, "Page 2: record 1 of the page has no id at '/id'"),
            ("<html>not json</html>", "Page 2: the response could not be stored as JSON records"),
        ]
        for (body, message) in cases {
            try await SyncFixture.with([try .cursorItems()]) { fixture in
                for id in 1...12 { fixture.provider.put(id, name: "item \(id)") }
                try await fixture.run("items")
                fixture.provider.script("/cursor/items", after: 1, RecordsProvider.Reply(status: 200, body: body))
                let run = try await fixture.run("items", mode: .full)
                #expect(run.status == .failed)
                #expect(run.error?.hasPrefix(message) == true, "\(run.error ?? "no error") for \(body)")
                #expect(run.pages == 1 && run.deleted == 0)
                let records = try await fixture.records("item")
                #expect(records.count == 12 && records.values.allSatisfy { !$0.deleted }, "a failed full run deletes nothing")
                let failed = try await fixture.events("sync.failed")
                #expect(failed.count == 1 && failed.first?.data["error"] == .string(run.error ?? ""))
            }
        }
    }

    @Test("a response over the size cap fails the run cleanly")
    func oversizedResponse() async throws {
        let capped: @Sendable (inout TestEnvironment) -> Void = { $0.configuration.outbound.maxResponseBytes = 4096 }
        try await SyncFixture.with([try .cursorItems(pageSize: 50)], recordBytes: 1000, configure: capped) { fixture in
            for id in 1...50 { fixture.provider.put(id, name: "item \(id)") }
            let run = try await fixture.run("items")
            #expect(run.status == .failed)
            #expect(run.error == "Page 1: the provider's response exceeded 4096 bytes.")
            #expect(try await fixture.records("item").isEmpty)
        }
    }

    @Test("429 with Retry-After: the page is asked again no sooner; a long Retry-After defers the run, which resumes at that page")
    func rateLimited() async throws {
        try await SyncFixture.with([try .cursorItems()]) { fixture in
            for id in 1...12 { fixture.provider.put(id, name: "item \(id)") }
            fixture.provider.script("/cursor/items", after: 1, RecordsProvider.Reply(status: 429, headers: ["Retry-After": "1"], body: "{}"))
            let run = try await fixture.run("items")
            #expect(run.status == .succeeded && run.added == 12, "\(run.error ?? "")")
            let requests = fixture.provider.requests(to: "/cursor/items")
            #expect(requests.count == 4)
            #expect(requests[2].receivedAt - requests[1].receivedAt >= .seconds(1), "the retry waited for Retry-After")

            // Longer than the outbound client waits within one attempt: the job is deferred by as much.
            fixture.provider.script("/cursor/items", after: 1, RecordsProvider.Reply(status: 429, headers: ["Retry-After": "120"], body: "{}"))
            let deferred = try await fixture.start("items", mode: .full)
            let outcome = try await fixture.runner.run(
                deferred.id,
                payload: SyncRunPayload(integrationID: fixture.integration, sync: "items"),
                tenant: fixture.tenant,
                isLastAttempt: false,
                logger: fixture.logger
            )
            guard case .retry(let message, let after) = outcome else { throw TestFailure("expected a retry, got \(outcome)") }
            #expect(message.hasPrefix("Page 2:"))
            #expect(after.map { $0 >= .seconds(100) } == true)
            let waiting = try await fixture.syncRun(deferred.id)
            #expect(waiting.status == .running && waiting.pages == 1 && waiting.error == message)
            // Until then this process's limiter refuses the integration's calls without asking the provider.
            let asked = fixture.provider.requests(to: "/cursor/items").count
            let early = try await fixture.runner.run(
                deferred.id,
                payload: SyncRunPayload(integrationID: fixture.integration, sync: "items"),
                tenant: fixture.tenant,
                isLastAttempt: false,
                logger: fixture.logger
            )
            guard case .retry(_, let wait) = early else { throw TestFailure("expected a retry, got \(early)") }
            #expect(wait.map { $0 >= .seconds(100) } == true)
            #expect(fixture.provider.requests(to: "/cursor/items").count == asked)
        }
    }

    @Test("a 401 marks the integration needs_reauth and fails the run; its syncs are no longer due")
    func revokedCredential() async throws {
        try await SyncFixture.with([try .cursorItems()]) { fixture in
            for id in 1...3 { fixture.provider.put(id, name: "item \(id)") }
            _ = try await fixture.database.withTenant(fixture.tenant, logger: fixture.logger) {
                try await $0.changeIntegrationSync(integration: fixture.integration, name: "items", IntegrationSyncChange(enabled: true))
            }
            #expect(try await fixture.database.withQueue(logger: fixture.logger) { try await $0.dueSyncs(limit: 10) }.count == 1)
            fixture.provider.changeAPIKey(to: "rotated")
            let run = try await fixture.run("items")
            #expect(run.status == .failed)
            #expect(run.error == "Page 1: the provider refused the integration's credential (401); the integration needs re-authorization.")
            let integration = try await fixture.database.withTenant(fixture.tenant, logger: fixture.logger) {
                try await $0.integration(fixture.integration)
            }
            #expect(integration?.status == .needsReauth)
            #expect(try await fixture.events("integration.needs_reauth").count == 1)
            #expect(try await fixture.database.withQueue(logger: fixture.logger) { try await $0.dueSyncs(limit: 10) }.isEmpty)
        }
    }

    @Test("keys replaced during a run: the held credential's 401 is retried with the stored one, and the run goes on")
    func credentialReplacedMidRun() async throws {
        try await SyncFixture.with([try .cursorItems()]) { fixture in
            for id in 1...40 { fixture.provider.put(id, name: "item \(id)") }
            fixture.provider.setPageDelay(.milliseconds(50))
            let run = try await fixture.start("items", mode: .full)
            async let finished = fixture.resume(run.id, sync: "items")
            try await eventually("a few pages are committed") { try await fixture.syncRun(run.id).pages >= 2 }
            try await fixture.database.withTenant(fixture.tenant, logger: fixture.logger) {
                try await $0.storeCredential(.apiKey(fields: ["api_key": "rotated_key_0123"]), for: fixture.integration)
            }
            fixture.provider.changeAPIKey(to: "rotated_key_0123")
            let done = try await finished
            #expect(done.status == .succeeded && done.pages == 8 && done.added == 40, "\(done.error ?? "")")
            let integration = try await fixture.database.withTenant(fixture.tenant, logger: fixture.logger) {
                try await $0.integration(fixture.integration)
            }
            #expect(integration?.status == .connected)
        }
    }

    @Test("two runs of one sync never overlap: a second start finds the active run")
    func noOverlap() async throws {
        try await SyncFixture.with([try .cursorItems()]) { fixture in
            let first = try await fixture.start("items")
            let second = try await fixture.start("items", mode: .full)
            #expect(first.id == second.id)
            try await fixture.resume(first.id, sync: "items")
            let third = try await fixture.start("items")
            #expect(third.id != first.id)
        }
    }

    @Test("two attempts of one run at once (a lease that expired under a live executor) write each page once")
    func concurrentAttempts() async throws {
        try await SyncFixture.with([try .cursorItems()]) { fixture in
            for id in 1...40 { fixture.provider.put(id, name: "item \(id)") }
            fixture.provider.setPageDelay(.milliseconds(20))
            let run = try await fixture.start("items", mode: .full)
            async let a = fixture.resume(run.id, sync: "items")
            async let b = fixture.resume(run.id, sync: "items")
            _ = try await (a, b)
            let finished = try await fixture.syncRun(run.id)
            #expect(finished.status == .succeeded, "\(finished.error ?? "")")
            #expect(finished.pages == 8 && finished.added == 40 && finished.unchanged == 0 && finished.updated == 0)
            #expect(try await fixture.records("item").count == 40)
        }
    }

    @Test("a page written while the one before it commits waits for that commit, and moves the run on only when it committed")
    func pageAfterCommittingPage() async throws {
        try await SyncFixture.with([try .cursorItems()]) { fixture in
            let run = try await fixture.start("items", mode: .full)
            _ = try await fixture.database.withTenant(fixture.tenant, logger: fixture.logger) { try await $0.startSyncRun(run.id) }
            func page(_ number: Int) -> SyncPageWrite {
                var write = SyncPageWrite(
                    integration: fixture.integration,
                    model: "item",
                    document: #"{"data":[{"id":\#(number)}]}"#,
                    records: ["data"],
                    id: ["id"]
                )
                write.run = SyncPageProgress(run: run.id, page: number, position: "{}", linkNext: nil, recordsSeenIDs: true)
                return write
            }
            // The rolled-back case first: the run is then still at page 0 for the committed one.
            for commits in [false, true] {
                let (wrote, wroteFirst) = AsyncStream<Void>.makeStream()
                let (gate, release) = AsyncStream<Void>.makeStream()
                let first = Task {
                    try await fixture.database.withTenant(fixture.tenant, logger: fixture.logger) { transaction in
                        #expect(try await transaction.writeSyncPage(page(1)).progressed)
                        wroteFirst.yield()
                        for await _ in gate { break }
                        if !commits { throw TestFailure("page 1 rolls back") }
                    }
                }
                for await _ in wrote { break }
                let answered = ManagedAtomicFlag()
                let second = Task {
                    try await fixture.database.withTenant(fixture.tenant, logger: fixture.logger) { transaction in
                        let progressed = try await transaction.writeSyncPage(page(2)).progressed
                        answered.set()
                        // As the run pass does: a page that did not move the run on is rolled back.
                        guard progressed else { throw TestFailure("page 2 did not follow page 1") }
                    }
                }
                try await Task.sleep(for: .milliseconds(300))
                #expect(!answered.isSet, "page 2 waits on the run's row while page 1's transaction is open")
                release.yield()
                _ = await first.result
                let followed = (try? await second.value) != nil
                #expect(answered.isSet)
                #expect(followed == commits)
                #expect(try await fixture.syncRun(run.id).pages == (commits ? 2 : 0))
            }
        }
    }

    @Test("a webhook event mapped by an enabled sync writes or deletes its record through the same writer")
    func realtimeWebhooks() async throws {
        let mapped = try SyncDefinition.records(
            path: "/cursor/items",
            query: ["limit": "5"],
            pagination: SyncPagination(.cursor, nextCursor: try JSONPointer("/next_cursor"), parameter: .query("after")),
            records: "/data",
            webhooks: [
                SyncWebhookMapping(
                    eventType: "item.changed",
                    record: try JSONPointer("/item"),
                    deleteWhen: SyncWebhookCondition(pointer: try JSONPointer("/action"), equals: "deleted")
                ),
                SyncWebhookMapping(eventType: "item.poked", record: try JSONPointer("/item"), action: .trigger),
            ]
        )
        try await SyncFixture.with([mapped]) { fixture in
            func deliver(_ type: String, _ body: String) async throws -> [SyncWebhooks.Applied] {
                try await fixture.database.withTenant(fixture.tenant, logger: fixture.logger) { transaction in
                    guard let integration = try await transaction.integration(fixture.integration) else { throw TestFailure("no integration") }
                    let json = try JSONDecoder().decode(JSONValue.self, from: Data(body.utf8))
                    return try await SyncWebhooks.apply(eventType: type, body: body, json: json, integration: integration, in: transaction)
                }
            }
            // Not enabled for this integration: nothing happens.
            #expect(try await deliver("item.changed", #"{"item":{"id":7,"name":"seven"}}"#).isEmpty)
            _ = try await fixture.database.withTenant(fixture.tenant, logger: fixture.logger) {
                try await $0.changeIntegrationSync(integration: fixture.integration, name: "items", IntegrationSyncChange(enabled: true))
            }
            #expect(
                try await deliver("item.changed", #"{"action":"created","item":{"id":7,"name":"seven"}}"#) == [
                    .written(model: "item", added: 1, updated: 0)
                ]
            )
            #expect(try await deliver("item.changed", #"{"action":"created","item":{"name":"seven","id":7}}"#) == [.unchanged(model: "item")])
            #expect(
                try await deliver("item.changed", #"{"action":"edited","item":{"id":7,"name":"SEVEN"}}"#) == [
                    .written(model: "item", added: 0, updated: 1)
                ]
            )
            #expect(try await fixture.records("item")["7"]?.json.contains("SEVEN") == true)
            #expect(try await deliver("item.changed", #"{"action":"deleted","item":{"id":7}}"#) == [.deleted(model: "item")])
            #expect(try await fixture.records("item")["7"]?.deleted == true)
            #expect(
                try await deliver("item.changed", #"{"action":"created","thing":{}}"#).first.map { if case .unusable = $0 { true } else { false } }
                    == true
            )
            guard case .triggered(let run)? = try await deliver("item.poked", #"{"item":{"id":1}}"#).first else { throw TestFailure("no run") }
            #expect(try await fixture.syncRun(run).trigger == .webhook)
            #expect(try await fixture.events("records.changed").count == 3)
        }
    }
}
