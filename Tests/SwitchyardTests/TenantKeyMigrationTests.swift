import Foundation
import HummingbirdTesting
import Logging
import PostgresNIO
import SwitchyardAPI
import SwitchyardAPIClient
import SwitchyardAPIContract
import SwitchyardCore
import SwitchyardTestSupport
import Testing

@testable import SwitchyardPostgres

/// What migration 0032 (every tenant row keyed by its tenant, issue 18) changes for data already stored and for the
/// code around it.
@Suite("Tenant keys: migration 0032 and what it changed")
struct TenantKeyMigrationTests {
    let logger = Logger(label: "switchyard.tests.tenant-keys")

    @Test("the operator's audit events and idempotency keys move to the platform tables; the tenants' stay where they were")
    func operatorRowsMove() async throws {
        let urls = try await TestPostgres.shared.makeEmptyDatabase()
        _ = try await Migrator(migrations: Migration.all.filter { $0.version < 32 }, logger: logger).run(url: urls.owner)
        let tenant = UUID()
        try await TestEnvironment.withConnection(to: urls.owner, logger: logger) { connection in
            try await Self.actAsEveryone(tenant, connection, logger)
            for statement: PostgresQuery in [
                "INSERT INTO tenants (id, slug, name) VALUES (\(tenant), 'moved', 'Moved')",
                "INSERT INTO audit_events (tenant_id, id, actor, action, resource_type) VALUES (NULL, \(UUID()), 'operator', 'kek.rewrapped', 'keyring')",
                "INSERT INTO audit_events (tenant_id, id, actor, action, resource_type) VALUES (\(tenant), \(UUID()), 'sy_live_x', 'api_key.created', 'api_key')",
                """
                INSERT INTO idempotency_keys (tenant_id, idempotency_key, request_hash, state, response_status, expires_at)
                VALUES (NULL, 'op-key', '\\x01', 'completed', 201, now() + interval '1 day'),
                       (\(tenant), 'op-key', '\\x02', 'completed', 200, now() + interval '1 day')
                """,
            ] {
                try await connection.query(statement, logger: logger)
            }
        }
        _ = try await Migrator(logger: logger).run(url: urls.owner)
        try await TestEnvironment.withConnection(to: urls.owner, logger: logger) { connection in
            try await Self.actAsEveryone(tenant, connection, logger)
            func strings(_ query: PostgresQuery) async throws -> [String] {
                try await connection.query(query, logger: logger).decode(String.self).collect()
            }
            #expect(try await strings("SELECT action FROM platform_audit_events") == ["kek.rewrapped"])
            #expect(try await strings("SELECT action FROM audit_events") == ["api_key.created"])
            #expect(try await strings("SELECT response_status::text FROM platform_idempotency_keys WHERE idempotency_key = 'op-key'") == ["201"])
            #expect(try await strings("SELECT tenant_id::text || ' ' || response_status FROM idempotency_keys") == ["\(tenant.lowercasedString) 200"])
        }
    }

    @Test("deleting an integration keeps its webhook source, detached; deleting the tenant then removes both")
    func integrationDeletionDetachesSources() async throws {
        try await TestEnvironment.make().withApp { (client: any TestClientProtocol) async throws in
            let tenant = try await client.makeTenant(slug: "detached")
            let api = client.api(key: tenant.key)
            let integration = try await api.createIntegration(
                body: .json(.init(provider: "stripe", credentials: .init(additionalProperties: ["api_key": "sk_test_detached"])))
            ).created.body.json
            let source = try await api.createWebhookSource(
                body: .json(.init(name: "stripe", scheme: WebhookFixture.stripe(), integrationId: integration.id, secret: "whsec_detached"))
            ).created.body.json
            #expect(source.integrationId == integration.id)

            _ = try await api.deleteIntegration(path: .init(integrationId: integration.id)).noContent
            let kept = try await api.getWebhookSource(path: .init(sourceId: source.id)).ok.body.json
            #expect(kept.integrationId == nil)

            let second = try await api.createIntegration(
                body: .json(.init(provider: "stripe", credentials: .init(additionalProperties: ["api_key": "sk_test_second"])))
            ).created.body.json
            _ = try await api.createWebhookSource(
                body: .json(.init(name: "second", scheme: WebhookFixture.stripe(), integrationId: second.id, secret: "whsec_second"))
            ).created
            // The tenant's deletion cascades to integrations and sources at once: the plain foreign key between them holds.
            _ = try await client.api(key: TestEnvironment.adminKey).deleteTenant(path: .init(tenantId: tenant.id)).noContent
        }
    }

    /// The owner is subject to the tables' forced row-level security: it acts as the operator and as `tenant`.
    static func actAsEveryone(_ tenant: UUID, _ connection: PostgresConnection, _ logger: Logger) async throws {
        try await connection.query(
            "SELECT set_config('app.operator', 'on', false), set_config('app.tenant_id', \(tenant.lowercasedString), false)",
            logger: logger
        )
    }
}
