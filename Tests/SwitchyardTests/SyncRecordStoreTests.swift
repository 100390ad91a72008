import Foundation
import HummingbirdTesting
import Logging
import SwitchyardAPIClient
import SwitchyardAPIContract
import SwitchyardCore
import SwitchyardJobs
import SwitchyardTestSupport
import Synchronization
import Testing

@testable import SwitchyardPostgres

/// The records store of syncs and its change feed, on a real PostgreSQL.
///
/// The feed shows a change once every transaction older than its writer has finished, in the whole cluster: the
/// suites around these share one PostgreSQL, so the tests wait for what they wrote to become visible.
@Suite("Sync records store and change feed")
struct SyncRecordStoreTests {
    /// A tenant with one integration, and a running pool of the application role.
    static func run(_ body: @Sendable (Database, TenantID, UUID, Logger) async throws -> Void) async throws {
        let environment = try await TestEnvironment.make()
        let (tenant, integration) = try await environment.withApp { (client: any TestClientProtocol) async throws -> (String, String) in
            let made = try await client.makeTenant(slug: "records")
            return (made.id, try await IntegrationsAPITests.createStripe(client, key: made.key))
        }
        try await environment.withDatabase(maxConnections: 8) { database in
            try await body(
                database,
                TenantID(try #require(UUID(uuidString: tenant))),
                try #require(UUID(uuidString: integration)),
                environment.logger
            )
        }
    }

    static func record(_ id: String, _ value: String) -> String {
        #"{"id":"\#(id)","value":"\#(value)"}"#
    }

    @Test("a page adds, updates and leaves unchanged records; a deleted record comes back as updated")
    func pageOutcomes() async throws {
        try await Self.run { database, tenant, integration, logger in
            func write(_ records: [String]) async throws -> SyncPageOutcome {
                try await database.withTenant(tenant, logger: logger) {
                    try await $0.upsertSyncRecords(records, integration: integration, model: "customers")
                }
            }
            #expect(try await write([Self.record("a", "1"), Self.record("b", "1")]) == SyncPageOutcome(added: 2))
            #expect(
                try await write([Self.record("a", "1"), Self.record("b", "2"), Self.record("c", "1")])
                    == SyncPageOutcome(added: 1, updated: 1, unchanged: 1)
            )
            let deleted = try await database.withTenant(tenant, logger: logger) {
                try await $0.deleteSyncRecords(["a", "missing"], integration: integration, model: "customers")
            }
            #expect(deleted == 1)
            #expect(try await write([Self.record("a", "1")]) == SyncPageOutcome(updated: 1))

            var changes: [SyncRecordChange] = []
            try await eventuallyInFeed("the three records' changes are visible") {
                changes = try await database.withTenant(tenant, logger: logger) {
                    try await $0.syncRecordChanges(integration: integration, model: "customers", after: nil, limit: 100)
                }
                return changes.count >= 3
            }
            // Each record once, in the order of its latest change: b (page 2), c (page 2), then a (written again).
            #expect(changes.map(\.externalID) == ["b", "c", "a"])
            #expect(changes.allSatisfy { $0.deletedAt == nil })
            #expect(changes.last?.json.contains(#""value": "1""#) == true)
            #expect(zip(changes, changes.dropFirst()).allSatisfy { $0.cursor < $1.cursor })
        }
    }

    @Test("a change committed after a younger transaction's is not skipped by a cursor that read the younger one")
    func lateCommitIsNotSkipped() async throws {
        try await Self.run { database, tenant, integration, logger in
            let (written, wroteLate) = AsyncStream<Void>.makeStream()
            let (gate, release) = AsyncStream<Void>.makeStream()
            func changes(after cursor: SyncChangeCursor?) async throws -> [SyncRecordChange] {
                try await database.withTenant(tenant, logger: logger) {
                    try await $0.syncRecordChanges(integration: integration, model: "issues", after: cursor, limit: 100)
                }
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                // The older writer: takes its transaction id first, commits last.
                group.addTask {
                    try await database.withTenant(tenant, logger: logger) { transaction in
                        _ = try await transaction.upsertSyncRecords([Self.record("late", "1")], integration: integration, model: "issues")
                        wroteLate.yield()
                        for await _ in gate { break }
                    }
                }
                for await _ in written { break }
                _ = try await database.withTenant(tenant, logger: logger) {
                    try await $0.upsertSyncRecords([Self.record("early", "1")], integration: integration, model: "issues")
                }
                // "early" is committed, but an older writer is still open: the feed shows neither yet.
                #expect(try await changes(after: nil).isEmpty)
                release.yield()
                try await group.waitForAll()
            }
            var all: [SyncRecordChange] = []
            try await eventuallyInFeed("both changes are visible") {
                all = try await changes(after: nil)
                return all.count >= 2
            }
            #expect(all.map(\.externalID) == ["late", "early"])
            #expect(try await changes(after: all.last?.cursor).isEmpty)
        }
    }

    @Test("under concurrent writers a reader following the cursor sees every record's latest change, each change once")
    func concurrentWriters() async throws {
        try await Self.run { database, tenant, integration, logger in
            let writersDone = ManagedAtomicFlag()
            let followed = try await withThrowingTaskGroup(of: [SyncRecordChange].self) { group in
                for writer in 0..<4 {
                    group.addTask {
                        for round in 0..<25 {
                            try await database.withTenant(tenant, logger: logger) { transaction in
                                let ids = ["r\((writer * 7 + round) % 20)", "w\(writer)-\(round)"]
                                _ = try await transaction.upsertSyncRecords(
                                    ids.map { Self.record($0, "\(writer)-\(round)") },
                                    integration: integration,
                                    model: "contacts"
                                )
                                // Hold the transaction a little, so commits interleave out of id order.
                                try await Task.sleep(for: .milliseconds(Int.random(in: 0...4)))
                            }
                        }
                        return []
                    }
                }
                group.addTask {
                    // Follows the feed until the writers are done and every one of the 120 records has shown up
                    // (or 60 s pass; what it has not seen by then is read after the writers are done).
                    var seen: [SyncRecordChange] = []
                    var records = Set<String>()
                    let deadline = ContinuousClock.now + .seconds(60)
                    while !(writersDone.isSet && records.count == 120) && ContinuousClock.now < deadline {
                        let page = try await database.withTenant(tenant, logger: logger) {
                            try await $0.syncRecordChanges(integration: integration, model: "contacts", after: seen.last?.cursor, limit: 7)
                        }
                        seen += page
                        records.formUnion(page.map(\.externalID))
                        if page.isEmpty { try await Task.sleep(for: .milliseconds(2)) }
                    }
                    return seen
                }
                var collected: [SyncRecordChange] = []
                var writers = 4
                while let result = try await group.next() {
                    if result.isEmpty, writers > 0 {
                        writers -= 1
                        if writers == 0 { writersDone.set() }
                    } else {
                        collected = result
                    }
                }
                return collected
            }
            // The feed shows a change once every transaction older than it has ended, in the whole cluster: another
            // suite's transaction may still hold it back when the writers are done. Wait for the horizon to pass the
            // writers' last commit, then read what the reader has not seen yet.
            let lastWrite = try await database.withTenant(tenant, logger: logger) {
                try await $0.query("SELECT pg_current_xact_id()::text::int8").decode(Int64.self).collect()[0]
            }
            try await eventuallyInFeed("the feed's horizon passes the writers' last transaction", timeout: .seconds(180)) {
                try await database.withTenant(tenant, logger: logger) {
                    try await $0.query("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::int8").decode(Int64.self).collect()[0]
                } > lastWrite
            }
            var seen = followed
            while true {
                let page = try await database.withTenant(tenant, logger: logger) {
                    try await $0.syncRecordChanges(integration: integration, model: "contacts", after: seen.last?.cursor, limit: 50)
                }
                if page.isEmpty { break }
                seen += page
            }
            // No change twice, in cursor order.
            #expect(zip(seen, seen.dropFirst()).allSatisfy { $0.cursor < $1.cursor })
            #expect(Set(seen.map(\.cursor)).count == seen.count)
            // Nothing lost: the last change seen of each record is the record as stored.
            let stored = try await database.withTenant(tenant, logger: logger) {
                try await $0.syncRecordChanges(integration: integration, model: "contacts", after: nil, limit: 1000)
            }
            #expect(stored.count == 20 + 4 * 25)
            // Every change the reader saw after its last one would come after its cursor: there is none.
            let after = try await database.withTenant(tenant, logger: logger) {
                try await $0.syncRecordChanges(integration: integration, model: "contacts", after: seen.last?.cursor, limit: 10)
            }
            #expect(after.isEmpty)
            var latest: [String: String] = [:]
            for change in seen { latest[change.externalID] = change.json }
            #expect(latest == Dictionary(uniqueKeysWithValues: stored.map { ($0.externalID, $0.json) }))
        }
    }
}

extension SyncRecordStoreTests {
    @Test("deleted records leave the store after their retention (scheduler housekeeping); all records go with their integration")
    func retentionAndCascade() async throws {
        try await Self.run { database, tenant, integration, logger in
            _ = try await database.withTenant(tenant, logger: logger) { transaction in
                _ = try await transaction.upsertSyncRecords(
                    [Self.record("a", "1"), Self.record("b", "1")],
                    integration: integration,
                    model: "customers"
                )
                return try await transaction.deleteSyncRecords(["a"], integration: integration, model: "customers")
            }
            var options = SchedulerOptions(fastJobsSettings())
            options.syncDeletedRecordRetention = .seconds(3600)
            try await JobScheduler(database: database, options: options, metrics: nil, logger: logger).housekeeping()
            try await eventuallyInFeed("both records are in the feed") {
                try await database.withTenant(tenant, logger: logger) {
                    try await $0.syncRecordChanges(integration: integration, model: "customers", after: nil, limit: 10)
                }.count == 2
            }
            options.syncDeletedRecordRetention = .zero
            try await JobScheduler(database: database, options: options, metrics: nil, logger: logger).housekeeping()
            try await eventuallyInFeed("only the live record is left") {
                try await database.withTenant(tenant, logger: logger) {
                    try await $0.syncRecordChanges(integration: integration, model: "customers", after: nil, limit: 10)
                }.map(\.externalID) == ["b"]
            }
            #expect(try await database.withTenant(tenant, logger: logger) { try await $0.deleteIntegration(integration) })
            try await eventuallyInFeed("the integration's records are gone") {
                try await database.withTenant(tenant, logger: logger) {
                    try await $0.syncRecordChanges(integration: integration, model: "customers", after: nil, limit: 10)
                }.isEmpty
            }
        }
    }

    @Test("GET /v1/integrations/{id}/records follows the feed through the generated client; bad input is 400 or 404")
    func changeFeedAPI() async throws {
        let environment = try await TestEnvironment.make()
        try await environment.withApp { (client: any TestClientProtocol) async throws in
            let made = try await client.makeTenant(slug: "feed")
            let integration = try await IntegrationsAPITests.createStripe(client, key: made.key)
            let tenant = TenantID(try #require(UUID(uuidString: made.id)))
            let integrationID = try #require(UUID(uuidString: integration))
            try await environment.withDatabase { database in
                try await database.withTenant(tenant, logger: environment.logger) { transaction in
                    _ = try await transaction.upsertSyncRecords(
                        [Self.record("cus_1", "1"), Self.record("cus_2", "1")],
                        integration: integrationID,
                        model: "customers"
                    )
                }
                _ = try await database.withTenant(tenant, logger: environment.logger) {
                    try await $0.deleteSyncRecords(["cus_1"], integration: integrationID, model: "customers")
                }
            }
            let api = client.api(key: made.key)
            var page = Components.Schemas.SyncRecordChangePage(data: [], nextCursor: nil)
            try await eventuallyInFeed("both changes are visible") {
                page = try await api.listSyncRecordChanges(path: .init(integrationId: integration), query: .init(model: "customers")).ok.body.json
                return page.data.count == 2
            }
            #expect(page.data.map(\.externalId) == ["cus_2", "cus_1"])
            #expect(page.data.map(\.deleted) == [false, true])
            #expect(page.data.first?.data.value["value"] as? String == "1")
            let cursor = try #require(page.nextCursor)
            let after = try await api.listSyncRecordChanges(path: .init(integrationId: integration), query: .init(model: "customers", cursor: cursor))
                .ok.body.json
            #expect(after.data.isEmpty && after.nextCursor == cursor)
            let live = try await api.listSyncRecordChanges(
                path: .init(integrationId: integration),
                query: .init(model: "customers", includeDeleted: false)
            ).ok.body.json
            #expect(live.data.map(\.externalId) == ["cus_2"])

            for query in ["model=Customers", "model=customers&cursor=abc", "model=customers&include_deleted=maybe", "model=customers&since=1", ""] {
                let refused = try await client.request(.get, "/v1/integrations/\(integration)/records?\(query)", key: made.key)
                try ProblemDetailsTests.expectProblem(refused, .badRequest, code: "invalid-request")
            }
            // The cursor's shape with a transaction id past 64 bits: well-formed, never given out.
            let outOfRange = try await client.request(
                .get,
                "/v1/integrations/\(integration)/records?model=customers&cursor=49040288798379081964-0165",
                key: made.key
            )
            try ProblemDetailsTests.expectProblem(outOfRange, .unprocessableContent, code: "validation-failed")
            _ = try await api.listSyncRecordChanges(path: .init(integrationId: UUID().uuidString), query: .init(model: "customers")).notFound
        }
    }
}

/// Set once by one task, read by another.
final class ManagedAtomicFlag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}

extension TenantTransaction {
    /// Writes `records` (JSON objects with an `id`) as one page, through the syncs' page writer.
    func upsertSyncRecords(_ records: [String], integration: UUID, model: String) async throws -> SyncPageOutcome {
        let page = SyncPageWrite(
            integration: integration,
            model: model,
            document: "[" + records.joined(separator: ",") + "]",
            records: [],
            id: ["id"]
        )
        return try await writeSyncPage(page).outcome
    }

    /// Marks the named records deleted, as a webhook deletion does; returns how many were not deleted already.
    func deleteSyncRecords(_ ids: [String], integration: UUID, model: String) async throws -> Int {
        var deleted = 0
        for id in ids where try await deleteSyncRecord(named: ["id"], in: #"{"id":"\#(id)"}"#, integration: integration, model: model) {
            deleted += 1
        }
        return deleted
    }
}
