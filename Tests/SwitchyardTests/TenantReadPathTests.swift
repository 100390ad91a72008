import Foundation
import HummingbirdTesting
import Logging
import PostgresNIO
import SwitchyardAPIClient
import SwitchyardAPIContract
import SwitchyardCore
import SwitchyardTestSupport
import Testing

@testable import SwitchyardPostgres

/// `Database.readAsTenant`: the hot tenant reads as one autocommitted statement each (migration 0036, issue 18).
@Suite("The tenant read path in one statement (issue 18)")
struct TenantReadPathTests {
    static func jsonObject(_ text: String) throws -> NSDictionary {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? NSDictionary, "not a JSON object: \(text)")
    }

    @Test(
        "GET /v1/me, /v1/integrations/{id} and its credentials answer what the transaction readers answer; each read of a credential is audited once"
    )
    func sameBodies() async throws {
        let environment = try await TestEnvironment.make()
        try await environment.withApp { client in
            let tenant = try await client.makeTenant(slug: "read-path", scopes: [.read, .write, .credentialsRead])
            let created = try await client.request(
                .post,
                "/v1/integrations",
                key: tenant.key,
                json:
                    #"{"provider":"stripe","display_name":"Billing","credentials":{"api_key":"sk_test_read_path"},"tags":["a","b"],"end_user_id":"u-1"}"#
            )
            #expect(created.status == .created, "\(created.text)")
            let integration = try #require(try created.jsonObject()["id"] as? String)

            let shown = try await client.request(.get, "/v1/integrations/\(integration)", key: tenant.key)
            #expect(shown.status == .ok)
            #expect(try Self.jsonObject(shown.text) == Self.jsonObject(created.text))

            let me = try await client.request(.get, "/v1/me", key: tenant.key)
            #expect(me.status == .ok)
            let operatorView = try await client.request(.get, "/v1/tenants/\(tenant.id)", key: TestEnvironment.adminKey)
            #expect(try Self.jsonObject(me.text)["tenant"] as? NSDictionary == Self.jsonObject(operatorView.text))

            let read = try await client.request(.get, "/v1/integrations/\(integration)/credentials", key: tenant.key)
            #expect(read.status == .ok)
            #expect(read.headers[.cacheControl] == "no-store")
            let credential = try Self.jsonObject(read.text)
            #expect(credential["integration_id"] as? String == integration)
            #expect(credential["type"] as? String == "api_key")
            #expect((credential["fields"] as? NSDictionary)?["api_key"] as? String == "sk_test_read_path")

            let audit = try await client.api(key: tenant.key).listAuditEvents().ok.body.json.data.filter { $0.action == "credential.read" }
            #expect(audit.count == 1)
            #expect(audit.first?.resourceId == integration && audit.first?.requestId == read.headers[.init("x-request-id")!])
        }
    }

    @Test("GET /v1/integrations pages and filters as before and lists only the caller's integrations")
    func list() async throws {
        let environment = try await TestEnvironment.make()
        try await environment.withApp { client in
            let a = try await client.makeTenant(slug: "list-a")
            let b = try await client.makeTenant(slug: "list-b")
            var mine: [String] = []
            for index in 0..<5 {
                mine.append(try await IntegrationsAPITests.createStripe(client, key: a.key, tags: index.isMultiple(of: 2) ? ["even"] : []))
            }
            _ = try await IntegrationsAPITests.createStripe(client, key: b.key, tags: ["even"])
            let api = client.api(key: a.key)
            var seen: [String] = []
            var cursor: String?
            repeat {
                let page = try await api.listIntegrations(query: .init(limit: 2, cursor: cursor)).ok.body.json
                seen += page.data.map(\.id)
                cursor = page.nextCursor
            } while cursor != nil
            // Ids are time-ordered: id order is creation order.
            #expect(seen == mine)
            #expect(try await api.listIntegrations(query: .init(tag: "even")).ok.body.json.data.map(\.id) == [mine[0], mine[2], mine[4]])
            #expect(try await api.listIntegrations(query: .init(limit: 1, tag: "even")).ok.body.json.data.map(\.id) == [mine[0]])
            #expect(try await api.listIntegrations(query: .init(provider: "stripe")).ok.body.json.data.count == 5)
            #expect(try await api.listIntegrations(query: .init(provider: "github")).ok.body.json.data.isEmpty)
            #expect(try await api.listIntegrations(query: .init(status: .connected)).ok.body.json.data.count == 5)
            #expect(try await api.listIntegrations(query: .init(status: .disconnected)).ok.body.json.data.isEmpty)
        }
    }

    @Test("another tenant's integration is 404 on show and credentials, and that attempt is audited nowhere")
    func crossTenant() async throws {
        let environment = try await TestEnvironment.make()
        try await environment.withApp { client in
            let a = try await client.makeTenant(slug: "read-a", scopes: [.read, .write, .credentialsRead])
            let b = try await client.makeTenant(slug: "read-b", scopes: [.read, .write, .credentialsRead])
            let owned = try await IntegrationsAPITests.createStripe(client, key: b.key)
            #expect(try await client.request(.get, "/v1/integrations/\(owned)", key: a.key).status == .notFound)
            #expect(try await client.request(.get, "/v1/integrations/\(owned)/credentials", key: a.key).status == .notFound)
            #expect(try await client.request(.get, "/v1/integrations/\(UUID().uuidString)/credentials", key: a.key).status == .notFound)
            for key in [a.key, b.key] {
                let reads = try await client.api(key: key).listAuditEvents().ok.body.json.data.filter { $0.action == "credential.read" }
                #expect(reads.isEmpty)
            }
            #expect(try await client.request(.get, "/v1/integrations/\(owned)/credentials", key: b.key).status == .ok)
        }
    }

    @Test("after the reads, the pooled connection they ran on carries no tenant and sees no tenant's rows")
    func nothingLeftOnTheConnection() async throws {
        let environment = try await TestEnvironment.make()
        let logger = environment.logger
        let (tenant, integration) = try await Self.tenantWithIntegration(environment, slug: "read-leak")
        try await environment.withDatabase(maxConnections: 1) { database in
            let (setting, visible) = try await database.readAsTenant(tenant, logger: logger) { reader in
                #expect(
                    try await reader.integrations(IntegrationFilter(), page: PageRequest(limit: 10, cursor: nil)).items.map(\.id) == [integration]
                )
                // The same connection, right after, in autocommit.
                let setting = try await reader.connection.guardedQuery(
                    "SELECT coalesce(current_setting('app.tenant_id', true), '')",
                    logger: logger
                ).decode(String.self).collect()
                let visible = try await reader.connection.guardedQuery("SELECT count(*)::int FROM integrations", logger: logger)
                    .decode(Int.self).collect()
                return (setting, visible)
            }
            #expect(setting == [""])
            #expect(visible == [0])
            // The combined reads, on the pool's only connection.
            #expect(try await database.currentTenant(tenant, logger: logger)?.id == tenant)
            #expect(try await database.integration(integration, of: tenant, logger: logger)?.id == integration)
            let read = try await database.auditedCredential(integration, of: tenant, audit: Self.audit(integration), logger: logger)
            #expect(read?.credential == .apiKey(fields: ["api_key": "sk_test_leak"]))
            // That connection, leased again.
            let leased = try await database.withCatalog(logger: logger) { try await $0.currentTenantSetting() }
            #expect(leased == nil)
        }
    }

    @Test(
        "reads of several tenants combined into batches each answer their own tenant's row or credential, never another's, audit each credential read in its tenant's log, and leave no tenant on the connection"
    )
    func combinedReads() async throws {
        let environment = try await TestEnvironment.make()
        let logger = environment.logger
        var tenants: [(TenantID, UUID)] = []
        for index in 0..<6 { tenants.append(try await Self.tenantWithIntegration(environment, slug: "combined-\(index)")) }
        let everyone = tenants
        // One connection: reads that arrive while a batch runs queue and go together in the next.
        try await environment.withDatabase(maxConnections: 1) { database in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for round in 0..<8 {
                    for (index, (tenant, integration)) in everyone.enumerated() {
                        let (_, neighbours) = everyone[(index + 1) % everyone.count]
                        group.addTask {
                            #expect(try await database.currentTenant(tenant, logger: logger)?.id == tenant)
                            let own = try await database.integration(integration, of: tenant, logger: logger)
                            #expect(own?.id == integration && own?.connectionParameters == [:], "round \(round)")
                            #expect(try await database.integration(neighbours, of: tenant, logger: logger) == nil, "another tenant's integration")
                            #expect(try await database.integration(UUID(), of: tenant, logger: logger) == nil)
                            let credential = try await database.auditedCredential(
                                integration,
                                of: tenant,
                                audit: Self.audit(integration, requestID: "round-\(round)"),
                                logger: logger
                            )
                            #expect(credential?.integration.id == integration)
                            let key = "sk_test_\(index)"
                            #expect(credential?.credential == .apiKey(fields: ["api_key": key]), "another tenant's credential")
                            let stolen = try await database.auditedCredential(neighbours, of: tenant, audit: Self.audit(neighbours), logger: logger)
                            #expect(stolen == nil)
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await database.currentTenant(TenantID(UUID()), logger: logger) == nil)
            // Each tenant's log holds its own eight reads, one per round, and no attempt on a neighbour's integration.
            for (tenant, integration) in everyone {
                let events = try await database.withTenant(tenant, logger: logger) { try await $0.auditEvents(PageRequest(limit: 50, cursor: nil)) }
                let reads = events.items.filter { $0.action == "credential.read" }
                #expect(reads.allSatisfy { $0.resourceID == integration.lowercasedString }, "\(reads)")
                #expect(Set(reads.compactMap(\.requestID)) == Set((0..<8).map { "round-\($0)" }) && reads.count == 8)
            }
            // The pool's only connection, leased again.
            #expect(try await database.withCatalog(logger: logger) { try await $0.currentTenantSetting() } == nil)
        }
    }

    @Test("the read functions run as their caller, under row-level security: tenant A's call cannot return or audit tenant B's integration")
    func rowLevelSecurityInsideTheFunctions() async throws {
        let environment = try await TestEnvironment.make()
        let logger = environment.logger
        let (a, _) = try await Self.tenantWithIntegration(environment, slug: "rls-a")
        let (b, owned) = try await Self.tenantWithIntegration(environment, slug: "rls-b")
        try await TestEnvironment.withConnection(to: environment.applicationURL, logger: logger) { connection in
            let functions = try await connection.query(
                """
                SELECT p.proname::text, p.prosecdef, p.proconfig IS NULL, r.rolbypassrls
                  FROM pg_proc p, pg_roles r
                 WHERE p.proname LIKE 'app\\_read\\_%' AND r.rolname = current_user ORDER BY 1
                """,
                logger: logger
            ).decode((String, Bool, Bool, Bool).self).collect()
            #expect(
                functions.map(\.0) == [
                    "app_read_credential", "app_read_credentials", "app_read_integration", "app_read_integrations",
                    "app_read_integrations_by_id", "app_read_tenant", "app_read_tenants",
                ]
            )
            for function in functions {
                #expect(!function.1, "\(function.0) is SECURITY DEFINER")
                #expect(function.2, "\(function.0) sets configuration of its own")
                #expect(!function.3, "the application role bypasses row-level security")
            }
            func count(_ query: PostgresQuery) async throws -> Int {
                try await connection.query(query, logger: logger).collect().count
            }
            #expect(try await count("SELECT * FROM app_read_integration(\(b.rawValue), \(owned))") == 1)
            #expect(try await count("SELECT * FROM app_read_integration(\(a.rawValue), \(owned))") == 0)
            #expect(try await count("SELECT * FROM app_read_tenant(\(a.rawValue))") == 1)
            // The batched reads: each key under its own tenant.
            let byID = try await connection.query(
                "SELECT tenant_id FROM app_read_integrations_by_id(ARRAY[\(a.rawValue), \(b.rawValue)], ARRAY[\(owned), \(owned)])",
                logger: logger
            ).decode(UUID.self).collect()
            #expect(byID == [b.rawValue])
            #expect(try await count("SELECT * FROM app_read_tenants(ARRAY[\(a.rawValue), \(b.rawValue), \(UUID())])") == 2)
            await #expect(throws: PSQLError.self) {
                try await connection.query("SELECT * FROM app_read_integrations_by_id(ARRAY[\(a.rawValue)], ARRAY[]::uuid[])", logger: logger)
                    .collect()
            }
            #expect(try await count("SELECT * FROM app_read_integrations(\(a.rawValue), NULL, NULL, NULL, NULL, 10)") == 1)
            let stolen: PostgresQuery = """
                SELECT * FROM app_read_credential(\(a.rawValue), \(owned), \(UUID.v7()), 'thief', 'credential.read', 'integration', \(owned.lowercasedString), NULL, '{}')
                """
            #expect(try await count(stolen) == 0)
            let stolenInABatch: PostgresQuery = """
                SELECT * FROM app_read_credentials(ARRAY[\(a.rawValue)], ARRAY[\(owned)], ARRAY[\(UUID.v7())], ARRAY['thief'],
                    ARRAY['credential.read'], ARRAY['integration'], ARRAY[\(owned.lowercasedString)], ARRAY[''], ARRAY['{}'])
                """
            #expect(try await count(stolenInABatch) == 0)
            // Nothing of either tenant is visible to the session afterwards, and B's log holds no read.
            #expect(try await count("SELECT * FROM integrations") == 0)
        }
        try await environment.withDatabase { database in
            let reads = try await database.withTenant(b, logger: logger) { try await $0.auditEvents(PageRequest(limit: 50, cursor: nil)) }
            #expect(!reads.items.contains { $0.action == "credential.read" })
        }
    }

    @Test(
        "a batch's tenant list (migration 0048) lets a statement read those tenants' rows and audit them, never change them nor see an unlisted tenant's, and each batch function clears it before returning"
    )
    func batchTenantsAdmitReadsOnly() async throws {
        let environment = try await TestEnvironment.make()
        let logger = environment.logger
        let (a, ownedByA) = try await Self.tenantWithIntegration(environment, slug: "batch-a")
        let (b, ownedByB) = try await Self.tenantWithIntegration(environment, slug: "batch-b")
        try await TestEnvironment.withConnection(to: environment.applicationURL, logger: logger) { connection in
            func counts(_ query: PostgresQuery) async throws -> [Int] {
                try await connection.query(query, logger: logger).decode(Int.self).collect()
            }
            func setting() async throws -> [String] {
                try await connection.query("SELECT coalesce(current_setting('app.batch_tenants', true), '')", logger: logger)
                    .decode(String.self).collect()
            }
            func audit(_ tenant: TenantID, _ integration: UUID) -> PostgresQuery {
                """
                INSERT INTO audit_events (tenant_id, id, actor, action, resource_type, resource_id)
                VALUES (\(tenant.rawValue), \(UUID.v7()), 'test', 'credential.read', 'integration', \(integration.lowercasedString))
                """
            }
            _ = try await connection.query("BEGIN", logger: logger).collect()
            _ = try await connection.query("SELECT set_config('app.batch_tenants', \("{\(a.rawValue.uuidString)}"), true)", logger: logger)
                .collect()
            #expect(try await counts("SELECT count(*)::int FROM integrations") == [1])
            #expect(try await counts("SELECT count(*)::int FROM integration_credentials WHERE integration_id = \(ownedByA)") == [1])
            #expect(try await counts("SELECT count(*)::int FROM tenants") == [1])
            #expect(try await counts("SELECT count(*)::int FROM integrations WHERE tenant_id = \(b.rawValue)") == [0])
            #expect(try await counts("SELECT count(*)::int FROM integration_credentials WHERE integration_id = \(ownedByB)") == [0])
            #expect(
                try await counts("WITH changed AS (UPDATE integrations SET display_name = 'changed' RETURNING 1) SELECT count(*)::int FROM changed")
                    == [0]
            )
            #expect(try await counts("WITH gone AS (DELETE FROM integration_credentials RETURNING 1) SELECT count(*)::int FROM gone") == [0])
            #expect(try await counts("WITH gone AS (DELETE FROM tenants RETURNING 1) SELECT count(*)::int FROM gone") == [0])
            _ = try await connection.query(audit(a, ownedByA), logger: logger).collect()
            // Last in the transaction: the failure aborts it.
            await #expect(throws: PSQLError.self) { _ = try await connection.query(audit(b, ownedByB), logger: logger).collect() }
            _ = try await connection.query("ROLLBACK", logger: logger).collect()

            // Inside a transaction of the caller's, each function leaves no list behind it.
            let calls: [PostgresQuery] = [
                "SELECT id FROM app_read_tenants(ARRAY[\(a.rawValue)])",
                "SELECT id FROM app_read_integrations_by_id(ARRAY[\(a.rawValue)], ARRAY[\(ownedByA)])",
                """
                SELECT id FROM app_read_credentials(ARRAY[\(a.rawValue)], ARRAY[\(ownedByA)], ARRAY[\(UUID.v7())], ARRAY['test'],
                    ARRAY['credential.read'], ARRAY['integration'], ARRAY[\(ownedByA.lowercasedString)], ARRAY[''], ARRAY['{}'])
                """,
            ]
            for call in calls {
                _ = try await connection.query("BEGIN", logger: logger).collect()
                #expect(try await connection.query(call, logger: logger).collect().count == 1)
                #expect(try await setting() == [""])
                #expect(try await counts("SELECT count(*)::int FROM integrations") == [0])
                _ = try await connection.query("ROLLBACK", logger: logger).collect()
            }
        }
    }

    static func audit(_ integration: UUID, requestID: String? = nil) -> NewAuditEvent {
        NewAuditEvent(
            actor: "test",
            action: "credential.read",
            resourceType: "integration",
            resourceID: integration.lowercasedString,
            requestID: requestID
        )
    }

    /// A tenant with a Stripe integration whose key is `sk_test_` and the slug's last word.
    static func tenantWithIntegration(_ environment: TestEnvironment, slug: String) async throws -> (TenantID, UUID) {
        try await environment.withDatabase { database in
            let tenant = try await VaultTests.makeTenant(database, slug, logger: environment.logger)
            let key = "sk_test_\(slug.split(separator: "-").last ?? "")"
            return (tenant, try await VaultTests.makeIntegration(database, tenant, key: key, logger: environment.logger))
        }
    }
}
