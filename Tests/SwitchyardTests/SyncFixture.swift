import Foundation
import Logging
import PostgresNIO
import SwitchyardBenchmarks
import SwitchyardCore
import SwitchyardJobs
import SwitchyardOAuth
import SwitchyardOutbound
import SwitchyardPostgres
import SwitchyardProviders
import SwitchyardSyncs
import SwitchyardTestSupport
import SwitchyardVault
import Testing

/// A tenant with the loopback `RecordsProvider` saved as its custom provider `records` (API key in a bearer header),
/// one connected integration of it, the given sync definitions saved for it, and a `SyncRunner` that runs their runs
/// as an executor would.
struct SyncFixture: Sendable {
    static let apiKey = "records_live_key_0123456789"

    let environment: TestEnvironment
    let database: Database
    let provider: RecordsProvider
    let outbound: OutboundClient
    let tenant: TenantID
    let integration: UUID
    let runner: SyncRunner
    /// The keyring the integration's credential is sealed under, for a child `switchyard executor`.
    let keyringJSON: String
    var logger: Logger { environment.logger }

    static func with(
        _ definitions: [SyncDefinition],
        recordBytes: Int = 200,
        configure: @Sendable (inout TestEnvironment) -> Void = { _ in },
        _ body: @Sendable (SyncFixture) async throws -> Void
    ) async throws {
        let base = try await TestEnvironment.make()
        try await RecordsProvider.withRunning(RecordsProvider(apiKey: apiKey, recordBytes: recordBytes)) { provider in
            var environment = base
            environment.configuration.outbound.plainHTTPAllowList = [provider.hostAndPort]
            configure(&environment)
            let configured = environment
            let keyring = LocalKeyring.generate(keyID: "syncs")
            let vault = Vault(provider: LocalKeyProvider(keyring: keyring))
            try await configured.withDatabase(maxConnections: 8, vault: vault) { database in
                let outbound = configured.makeOutboundClient()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await outbound.run() }
                    defer { group.cancelAll() }
                    let logger = configured.logger
                    let tenant = try await database.makeTenant("syncs", logger: logger)
                    let integration = try await database.withTenant(tenant, logger: logger) { transaction in
                        _ = try await transaction.saveCustomProvider(id: "records", definition: providerJSON(baseURL: provider.baseURL))
                        for definition in definitions {
                            _ = try await transaction.saveSyncDefinition(
                                provider: "records",
                                name: definition.name,
                                definition: try SyncDirectory.encode(definition)
                            )
                        }
                        return try await transaction.createIntegration(
                            NewIntegration(
                                provider: "records",
                                displayName: "Records",
                                status: .connected,
                                connectionParameters: [:],
                                endUserID: nil,
                                tags: [],
                                credential: .apiKey(fields: ["api_key": apiKey])
                            )
                        ).id
                    }
                    let caller = IntegrationCaller(database: database, outbound: outbound, refreshSkewSeconds: 60)
                    try await body(
                        SyncFixture(
                            environment: configured,
                            database: database,
                            provider: provider,
                            outbound: outbound,
                            tenant: tenant,
                            integration: integration,
                            runner: SyncRunner(database: database, caller: caller),
                            keyringJSON: keyring.json()
                        )
                    )
                }
            }
        }
    }

    static func providerJSON(baseURL: String) -> String {
        """
        {"id":"records","display_name":"Records","auth_type":"api_key",
         "credentials":{"fields":[{"name":"api_key","description":"The API key","secret":true}],
                        "injection":{"type":"header","name":"Authorization","value":"Bearer {api_key}"}},
         "api_base_url":"\(baseURL)"}
        """
    }

    /// Starts a run of `sync` and runs its attempts as the executor would (at most `attempts`; a retry's delay is
    /// not waited for), then returns the run as recorded.
    @discardableResult
    func run(_ sync: String, mode: SyncRunMode? = nil, attempts: Int = 6) async throws -> SyncRunRecord {
        let started = try await start(sync, mode: mode)
        return try await resume(started.id, sync: sync, attempts: attempts)
    }

    func start(_ sync: String, mode: SyncRunMode? = nil, trigger: SyncRunTrigger = .api) async throws -> SyncRunRecord {
        try await database.withTenant(tenant, logger: logger) { transaction in
            guard let integration = try await transaction.integration(integration),
                let resolved = try await SyncDirectory.sync(provider: "records", name: sync, in: transaction)
            else { throw TestFailure("no sync \(sync)") }
            return try await SyncRunStart.start(resolved, integration: integration, mode: mode, trigger: trigger, in: transaction).run
        }
    }

    /// Runs attempts of run `id` until one ends it, holding its job as an executor does (claimed, then finished,
    /// so that the sync's next run can start); returns the run. When another caller holds the job, only runs.
    @discardableResult
    func resume(_ id: UUID, sync: String, attempts: Int = 6) async throws -> SyncRunRecord {
        let claimed = try await database.withQueue(logger: logger) {
            try await $0.claim(ClaimRequest(owner: "sync-fixture", limit: 100, tenantConcurrency: 100, lease: .seconds(300)))
        }.first { $0.id == id }
        var outcome = SyncRunOutcome.done
        for attempt in 1...attempts {
            outcome = try await runner.run(
                id,
                payload: SyncRunPayload(integrationID: integration, sync: sync),
                tenant: tenant,
                isLastAttempt: attempt == attempts,
                logger: logger
            )
            switch outcome {
            case .retry, .continuing: continue
            case .done, .failed: break
            }
            break
        }
        if let claimed {
            let finished: JobCompletion.Outcome = if case .done = outcome { .succeeded } else { .dead }
            _ = try await database.withQueue(logger: logger) {
                try await $0.complete([JobCompletion(job: claimed, outcome: finished, error: nil)], owner: "sync-fixture")
            }
        }
        return try await syncRun(id)
    }

    /// The state of run `id`'s job (the executor writes it after the handler returns).
    func jobState(_ id: UUID) async throws -> JobState? {
        try await database.withTenant(tenant, logger: logger) { try await $0.job(id) }?.state
    }

    func syncRun(_ id: UUID) async throws -> SyncRunRecord {
        guard let run = try await database.withTenant(tenant, logger: logger, { try await $0.syncRun(id) }) else { throw TestFailure("no run \(id)") }
        return run
    }

    /// The model's records as the change feed shows them: external id to (JSON, deleted). Waits first until the
    /// feed shows every change committed so far: it hides changes of transactions that started before the oldest
    /// one still open anywhere in the cluster (other tests run beside this one).
    func records(_ model: String) async throws -> [String: (json: String, deleted: Bool)] {
        try await environment.withOwnerConnection { connection in
            let mark = try await connection.query("SELECT pg_current_xact_id()::text::int8", logger: logger).decode(Int64.self).collect()[0]
            try await eventuallyInFeed("the change feed shows changes up to transaction \(mark)") {
                try await connection.query("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::int8", logger: logger)
                    .decode(Int64.self).collect()[0] > mark
            }
        }
        let changes = try await database.withTenant(tenant, logger: logger) {
            try await $0.syncRecordChanges(integration: integration, model: model, after: nil, limit: 100_000)
        }
        return Dictionary(uniqueKeysWithValues: changes.map { ($0.externalID, (json: $0.json, deleted: $0.deletedAt != nil)) })
    }

    func events(_ type: String) async throws -> [EventRecord] {
        try await database.withTenant(tenant, logger: logger) {
            try await $0.events(type: type, integrationID: integration, page: PageRequest(limit: 100, cursor: nil))
        }.items
    }
}

extension SyncDefinition {
    /// A definition over one of `RecordsProvider`'s routes.
    static func records(
        _ name: String = "items",
        model: String = "item",
        path: String,
        method: SyncRequestTemplate.Method = .get,
        query: [String: String] = [:],
        body: JSONValue? = nil,
        pagination: SyncPagination,
        records pointer: String,
        incremental: SyncIncremental? = SyncIncremental(parameter: .query("since")),
        webhooks: [SyncWebhookMapping] = []
    ) throws -> SyncDefinition {
        SyncDefinition(
            name: name,
            model: model,
            request: SyncRequestTemplate(method: method, path: path, query: query, body: body),
            pagination: pagination,
            records: SyncRecordLocation(pointer: try JSONPointer(pointer), id: try JSONPointer("/id"), modified: try JSONPointer("/updated_at")),
            incremental: incremental,
            frequencySeconds: 60,
            webhooks: webhooks
        )
    }

    /// `RecordsProvider`'s `/cursor/items`, five records a page.
    static func cursorItems(_ name: String = "items", pageSize: Int = 5) throws -> SyncDefinition {
        try records(
            name,
            path: "/cursor/items",
            query: ["limit": "\(pageSize)"],
            pagination: SyncPagination(.cursor, nextCursor: try JSONPointer("/next_cursor"), parameter: .query("after")),
            records: "/data"
        )
    }
}
