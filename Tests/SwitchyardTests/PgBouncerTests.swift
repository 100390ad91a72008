import Foundation
import HummingbirdTesting
import Logging
import NIOCore
import PostgresNIO
import SwitchyardAPIClient
import SwitchyardAPIContract
import SwitchyardCore
import SwitchyardJobs
import SwitchyardTestSupport
import Testing

@testable import SwitchyardPostgres

/// The serving processes and executors behind a real PgBouncer in transaction pooling mode (Debian's 1.18: no named
/// prepared statements in that mode), with `SWITCHYARD_DATABASE_PREPARED_STATEMENTS=false` and executors polling.
@Suite("Behind PgBouncer in transaction pooling mode (issue 18)")
struct PgBouncerTests {
    /// An environment whose application pool goes through a PgBouncer of its own, which `body` gets too.
    static func run(_ body: @Sendable (TestEnvironment, PgBouncer) async throws -> Void) async throws {
        var environment = try await TestEnvironment.make()
        let bouncer = try await bounce(&environment)
        defer { bouncer.stop() }
        try await body(environment, bouncer)
        try await expectTraffic(through: bouncer, on: environment.applicationURL)
    }

    /// Starts a PgBouncer in front of `environment`'s database and points its application pool there, as the README says
    /// to: through PgBouncer, without named prepared statements.
    static func bounce(_ environment: inout TestEnvironment) async throws -> PgBouncer {
        let bouncer = try await PgBouncer.start(
            inFrontOf: environment.applicationURL,
            logins: [environment.applicationURL],
            logger: environment.logger
        )
        environment.configuration.database.url = bouncer.url(for: environment.applicationURL)
        environment.configuration.database.preparedStatements = false
        return bouncer
    }

    /// PgBouncer really was in the path: its pool for the database and the application role exists, and its counters
    /// (refreshed every second) show the transactions.
    static func expectTraffic(through bouncer: PgBouncer, on url: DatabaseURL) async throws {
        let pools = try await bouncer.show("POOLS")
        #expect(pools.contains { $0["database"] == url.database && $0["user"] == url.username }, "SHOW POOLS: \(pools)")
        try await eventually("pgbouncer's SHOW STATS counts transactions on \(url.database)") {
            let stats = try await bouncer.show("STATS").first { $0["database"] == url.database }
            return (Int(stats?["total_xact_count"] ?? "") ?? 0) >= 5
        }
    }

    @Test("jobs are enqueued, claimed and completed through PgBouncer by an executor that polls")
    func queue() async throws {
        try await Self.run { environment, _ in
            let logger = environment.logger
            try await environment.withDatabase(maxConnections: 8) { database in
                let tenant = try await database.makeTenant("bounced-queue", logger: logger)
                var settings = fastJobsSettings()
                settings.pollOnly = true
                try await database.withExecutor(registry: .standard(), settings: settings, logger: logger) {
                    _ = try await database.withTenant(tenant, logger: logger) {
                        try await $0.enqueue(batch: Array(repeating: try NewJob(NoopPayload()), count: 25))
                    }
                    try await eventually("25 jobs succeed through pgbouncer") {
                        try await database.count(.succeeded, of: tenant, logger: logger) == 25
                    }
                }
                let page = try await database.withTenant(tenant, logger: logger) {
                    try await $0.jobs(JobFilter(states: [.succeeded]), page: PageRequest(limit: 1, cursor: nil))
                }
                let job = try #require(page.items.first)
                #expect(job.attempts == 1 && job.history.map(\.outcome) == ["succeeded"])
            }
        }
    }

    @Test("tenant routes and a signed webhook delivery (recorded once, its job enqueued) work through PgBouncer")
    func routesAndIngest() async throws {
        try await Self.run { environment, _ in
            let tenantID = try await environment.withApp { client in
                let tenant = try await client.makeTenant(slug: "bounced", scopes: [.read, .write, .credentialsRead])
                let me = try await client.api(key: tenant.key).getMe().ok.body.json
                #expect(me.tenant.id == tenant.id)
                // The one-statement reads (migration 0036), with unnamed statements.
                let integration = try await IntegrationsAPITests.createStripe(client, key: tenant.key)
                #expect(try await client.api(key: tenant.key).getIntegration(path: .init(integrationId: integration)).ok.body.json.id == integration)
                #expect(try await client.api(key: tenant.key).listIntegrations().ok.body.json.data.map(\.id) == [integration])
                let credential = try await client.request(.get, "/v1/integrations/\(integration)/credentials", key: tenant.key)
                #expect(credential.status == .ok && credential.text.contains(IntegrationsAPITests.stripeSecret), "\(credential.text)")
                let read = try await client.api(key: TestEnvironment.adminKey).getTenant(path: .init(tenantId: tenant.id)).ok.body.json
                #expect(read.slug == "bounced")

                let source = try await WebhookFixture.makeSource(client, key: tenant.key)
                let first = try await WebhookFixture.deliverGitHub(client, source: source.id, secret: source.secret, deliveryID: "b-1")
                #expect(first.status == .ok)
                #expect(try WebhookFixture.receipt(first).status == .recorded)
                let again = try await WebhookFixture.deliverGitHub(client, source: source.id, secret: source.secret, deliveryID: "b-1")
                #expect(try WebhookFixture.receipt(again).status == .duplicate)
                let events = try await client.api(key: tenant.key).listWebhookEvents(query: .init()).ok.body.json.data
                #expect(events.map(\.eventId) == ["b-1"])
                return try TenantID(#require(UUID(uuidString: tenant.id)))
            }
            // The ingest statement enqueued the event's processing job (the jobs policy lets the ingest mode insert).
            try await environment.withDatabase { database in
                let queued = try await database.count(.queued, of: tenantID, logger: environment.logger)
                #expect(queued == 1)
            }
        }
    }

    @Test("the modes and the statement timeout end with their transaction: PgBouncer's server connections carry none of them")
    func nothingLeaksIntoPooledSessions() async throws {
        try await Self.run { environment, bouncer in
            let logger = environment.logger
            try await environment.withApp { client in
                let tenant = try await client.makeTenant(slug: "leak", scopes: [.read, .write, .credentialsRead])
                // The one-statement tenant reads set the tenant for their own statement alone.
                let integration = try await IntegrationsAPITests.createStripe(client, key: tenant.key)
                for _ in 0..<4 {
                    for path in ["/v1/me", "/v1/integrations/\(integration)", "/v1/integrations/\(integration)/credentials"] {
                        #expect(try await client.request(.get, path, key: tenant.key).status == .ok)
                    }
                }
                let source = try await WebhookFixture.makeSource(client, key: tenant.key)
                for delivery in 0..<8 {
                    let response = try await WebhookFixture.deliverGitHub(
                        client,
                        source: source.id,
                        secret: source.secret,
                        deliveryID: "l-\(delivery)"
                    )
                    #expect(response.status == .ok)
                }
            }
            // Four clients at once (PgBouncer's pool holds four server connections), each asking its server session.
            let through = bouncer.url(for: environment.applicationURL)
            let settings = try await withThrowingTaskGroup(of: [String].self) { group in
                for id in 0..<4 {
                    group.addTask {
                        let connection = try await PostgresConnection.connect(configuration: try .init(through), id: id, logger: logger)
                        defer { Task { try? await connection.close() } }
                        let row = try await connection.query(
                            """
                            SELECT coalesce(current_setting('app.ingest', true), ''), coalesce(current_setting('app.tenant_id', true), ''),
                                   coalesce(current_setting('app.operator', true), ''), current_setting('statement_timeout')
                            """,
                            logger: logger
                        ).decode((String, String, String, String).self).collect().first
                        let values = try #require(row)
                        return [values.0, values.1, values.2, values.3]
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(settings.count == 4)
            for values in settings { #expect(values == ["", "", "", "0"]) }
        }
    }

    @Test("the statement timeout is set in each transaction: it cancels a slow statement directly and through PgBouncer", arguments: [false, true])
    func statementTimeoutPerTransaction(throughPgBouncer: Bool) async throws {
        var environment = try await TestEnvironment.make()
        let bouncer = throughPgBouncer ? try await Self.bounce(&environment) : nil
        defer { bouncer?.stop() }
        let logger = environment.logger
        // The tenant is made under the usual timeout: under a loaded machine's CI, 200 ms does not always suffice for
        // ordinary statements. Only the slow statement runs under the short one.
        let tenant = try await environment.withDatabase { database in try await database.makeTenant("slow", logger: logger) }
        environment.configuration.database.statementTimeoutMilliseconds = 200
        try await environment.withDatabase { database in
            let started = ContinuousClock.now
            let error = await #expect(throws: SwitchyardError.self) {
                try await database.withTenant(tenant, logger: logger) { try await $0.query("SELECT pg_sleep(30)").collect() }
            }
            #expect(error?.code == "timeout")
            // Cancelled by the timeout, not ended by the sleep.
            #expect(ContinuousClock.now - started < .seconds(20))
        }
    }

    @Test("an ingest session is in the ingest mode only while its insert runs: after it, row-level security refuses its writes")
    func ingestModeEndsWithItsStatement() async throws {
        let environment = try await TestEnvironment.make()
        let (tenant, source) = try await environment.withApp { client in
            let tenant = try await client.makeTenant(slug: "ingest-mode")
            let source = try await WebhookFixture.makeSource(client, key: tenant.key)
            return (try TenantID(#require(UUID(uuidString: tenant.id))), try #require(UUID(uuidString: source.id)))
        }
        try await environment.withDatabase { database in
            try await database.withIngest(logger: environment.logger) { session in
                let event = NewWebhookEvent(
                    tenantID: tenant,
                    sourceID: source,
                    eventID: "m-1",
                    eventType: nil,
                    integrationID: nil,
                    headers: "{}",
                    body: ByteBuffer(string: "{}")
                )
                #expect(try await session.insertWebhookEvents([event], processing: WebhookProcessPayload.self) == [event.id])
                let mode = try await session.query("SELECT coalesce(current_setting('app.ingest', true), '')").decode(String.self).collect()
                #expect(mode == [""])
                let refused = await #expect(throws: PSQLError.self) {
                    try await session.query(
                        """
                        INSERT INTO webhook_events (tenant_id, id, source_id, event_id, headers, body)
                        VALUES (\(tenant.rawValue), \(UUID()), \(source), 'm-2', '{}'::jsonb, ''::bytea)
                        """
                    )
                }
                #expect(refused?.sqlState == "42501", "a row-level security violation")
            }
        }
    }
}
