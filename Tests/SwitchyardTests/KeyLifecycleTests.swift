import Foundation
import HummingbirdTesting
import Logging
import SwitchyardAPIClient
import SwitchyardAPIContract
import SwitchyardCore
import SwitchyardMetrics
import SwitchyardTestSupport
import SwitchyardVault
import Testing

@testable import SwitchyardPostgres

/// Key and secret lifecycles as an operator runs them: `switchyard keys ...` against a running process's database
/// (issue 12, items 8 and 9).
@Suite("Keyring rotation reaching running processes; secrets that do not open")
struct KeyLifecycleTests {
    /// An environment whose vault reads a keyring file in a directory of its own.
    static func withKeyringFile(_ body: (TestEnvironment, String) async throws -> Void) async throws {
        var environment = try await TestEnvironment.make()
        let directory = URL(filePath: NSTemporaryDirectory()).appending(path: "switchyard-keys-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appending(path: "keyring.json").path
        try LocalKeyring.generate(keyID: "lifecycle").write(to: path, replacing: false)
        environment.vault = Vault(provider: try LocalKeyProvider(path: path))
        try await body(environment, path)
    }

    /// Runs `switchyard keys <arguments>` on the environment's database with the keyring file; returns (status, output).
    /// `extra` adds variables (AWS KMS's, for the KMS tests).
    static func keys(
        _ arguments: [String],
        _ environment: TestEnvironment,
        keyring path: String,
        extra: [String: String] = [:]
    ) async throws -> (Int32, String) {
        let child = try SwitchyardProcess(
            ["keys"] + arguments,
            environment: environment,
            settings: ["SWITCHYARD_KEYRING": "", "SWITCHYARD_KEYRING_FILE": path].merging(extra) { $1 }
        )
        let status = try await child.waitForExit()
        return (status, child.output)
    }

    static func integration(_ database: Database, slug: String, key: String, logger: Logger) async throws -> (TenantID, UUID) {
        let tenant = try await database.withOperator(logger: logger) { try await $0.createTenant(slug: slug, name: slug) }.id
        let integration = try await VaultTests.makeIntegration(database, tenant, key: key, logger: logger)
        return (tenant, integration)
    }

    @Test("after keys rotate, a running process wraps its next data key with the new version; retire refuses until nothing uses the old one")
    func rotationReachesRunningProcess() async throws {
        try await Self.withKeyringFile { environment, path in
            let logger = environment.logger
            let (v1, v2) = (KEKVersion(keyID: "lifecycle", version: 1), KEKVersion(keyID: "lifecycle", version: 2))
            try await environment.withDatabase { database in
                let (tenant, integration) = try await Self.integration(database, slug: "before-rotate", key: "sk_before", logger: logger)
                try LocalKeyring.load(path: path).rotated().write(to: path, replacing: true)
                // The process never met version 2 in a wrapped key; its next data key still uses it.
                _ = try await Self.integration(database, slug: "after-rotate", key: "sk_after", logger: logger)
                #expect(
                    try await database.dataKeyCounts(logger: logger) == [
                        DataKeyCount(kek: v1, state: "active", count: 1), DataKeyCount(kek: v2, state: "active", count: 1),
                    ]
                )

                let (refused, refusal) = try await Self.keys(["retire", "--version", "1"], environment, keyring: path)
                #expect(refused != 0 && refusal.contains("still wraps 1 key"), "\(refusal)")
                #expect(try LocalKeyring.load(path: path).versions.map(\.number) == [1, 2])
                let (notYet, _) = try await Self.keys(["status"], environment, keyring: path)
                #expect(notYet == 0)

                #expect(try await Self.keys(["rewrap"], environment, keyring: path).0 == 0)
                let (statusCode, status) = try await Self.keys(["status"], environment, keyring: path)
                #expect(statusCode == 0 && status.contains("lifecycle/v1: wraps nothing; safe to retire"), "\(status)")
                #expect(!status.contains("run `switchyard keys rewrap`"), "\(status)")
                #expect(!status.contains("hasn't been called yet"), "no pool warning at start (item 14): \(status)")
                let (retired, retireOutput) = try await Self.keys(["retire", "--version", "1"], environment, keyring: path)
                #expect(retired == 0, "\(retireOutput)")
                #expect(try LocalKeyring.load(path: path).versions.map(\.number) == [2])
                #expect(try await Self.keys(["retire", "--version", "2"], environment, keyring: path).0 != 0, "the primary version is never retired")

                // Everything still opens with the keyring as it now is.
                let fresh = Vault(provider: try LocalKeyProvider(path: path), policy: DataKeyPolicy(cacheTTL: .zero))
                let secret = try await environment.withDatabase(vault: fresh) { database in
                    try await database.withTenant(tenant, logger: logger) { try await $0.credential(for: integration) }?.fields["api_key"]
                }
                #expect(secret == "sk_before")
            }
        }
    }

    @Test("a credential copied from another row: 409 secret-unreadable naming the integration, an audit event, a metric; keys verify lists it")
    func unreadableSecret() async throws {
        try await Self.withKeyringFile { environment, path in
            let metrics = MetricsRegistry(version: "test")
            let (b, victim) = try await environment.withApp(metrics: metrics) { (client: any TestClientProtocol) async throws -> (String, String) in
                let a = try await client.makeTenant(slug: "unreadable-a", scopes: [.read, .write, .credentialsRead])
                let b = try await client.makeTenant(slug: "unreadable-b", scopes: [.read, .write, .credentialsRead])
                let stripe = { (secret: String) in
                    Components.Schemas.IntegrationCreate(provider: "stripe", credentials: .init(additionalProperties: ["api_key": secret]))
                }
                let source = try await client.api(key: a.key).createIntegration(body: .json(stripe("sk_a"))).created.body.json.id
                let victim = try await client.api(key: b.key).createIntegration(body: .json(stripe("sk_b"))).created.body.json.id
                try await environment.withOwnerConnection { connection in
                    try await connection.query(
                        """
                        UPDATE integration_credentials AS target SET secret = source.secret
                          FROM integration_credentials AS source
                         WHERE source.integration_id = \(UUID(uuidString: source)!) AND target.integration_id = \(UUID(uuidString: victim)!)
                        """,
                        logger: environment.logger
                    )
                }
                let response = try await client.request(.get, "/v1/integrations/\(victim)/credentials", key: b.key)
                #expect(response.status == .conflict)
                #expect(response.headers[.contentType] == "application/problem+json")
                let problem = try response.problem
                #expect(problem._type.hasSuffix("/secret-unreadable"))
                #expect(problem.detail?.contains(victim) == true)
                #expect(!response.text.contains("sk_a") && !response.text.contains("sk_b"))
                #expect(try await client.request(.get, "/v1/integrations/\(source)/credentials", key: a.key).status == .ok)

                let audit = try await client.api(key: b.key).listAuditEvents().ok.body.json.data
                let unreadable = audit.first { $0.action == "secret.unreadable" && $0.resourceId == victim }
                #expect(unreadable?.details.additionalProperties["field"] == "secret")
                #expect(unreadable?.details.additionalProperties["cause"]?.isEmpty == false)
                let exposition = try await client.request(.get, "/metrics").text
                #expect(
                    exposition.contains(#"switchyard_secrets_unreadable_total{field="integration_credentials.secret"} 1"#),
                    "\(exposition.split(separator: "\n").filter { $0.contains("unreadable") })"
                )
                return (b.id, victim)
            }
            let (status, output) = try await Self.keys(["verify"], environment, keyring: path)
            #expect(status != 0)
            #expect(output.contains("tenant \(b)") && output.contains("integration_credentials.secret") && output.contains(victim), "\(output)")
            #expect(output.contains("1 do not"), "\(output)")
        }
    }

    @Test("re-sealing retiring data keys goes past a secret that does not open: the tenant's other secrets and other tenants' keys move on")
    func resealPastUnreadableSecret() async throws {
        let environment = try await TestEnvironment.make()
        let logger = environment.logger
        try await environment.withDatabase { database in
            let (a, broken) = try await Self.integration(database, slug: "reseal-a", key: "sk_a_broken", logger: logger)
            let fine = try await VaultTests.makeIntegration(database, a, key: "sk_a_fine", logger: logger)
            let (b, other) = try await Self.integration(database, slug: "reseal-b", key: "sk_b", logger: logger)
            try await environment.withOwnerConnection { connection in
                try await connection.query(
                    "UPDATE integration_credentials SET secret = set_byte(secret, length(secret) - 1, get_byte(secret, length(secret) - 1) # 1) WHERE integration_id = \(broken)",
                    logger: logger
                )
            }
            for tenant in [a, b] { _ = try await database.withTenant(tenant, logger: logger) { try await $0.rotateDataKey() } }

            let progress = try await database.resealRetiringDataKeys(batchSize: 1, logger: logger)
            #expect(progress.done == 2 && progress.remaining == 1, "\(progress)")
            func key(_ tenant: TenantID, _ integration: UUID) async throws -> String? {
                try await database.withTenant(tenant, logger: logger) { try await $0.credential(for: integration) }?.fields["api_key"]
            }
            #expect(try await key(a, fine) == "sk_a_fine")
            #expect(try await key(b, other) == "sk_b")
            // Tenant B's old key is gone; tenant A's stays for the secret that cannot be re-sealed.
            let retiring = try await environment.withOwnerConnection { connection in
                try await connection.query("SELECT tenant_id FROM tenant_data_keys WHERE state = 'retiring'", logger: logger).decode(UUID.self)
                    .collect()
            }
            #expect(retiring == [a.rawValue])
        }
    }

    @Test("a webhook source whose secret does not open answers its sender 503, naming nothing of the tenant's trouble")
    func unreadableWebhookSecret() async throws {
        let environment = try await TestEnvironment.make()
        try await environment.withApp { (client: any TestClientProtocol) async throws in
            let tenant = try await client.makeTenant(slug: "unreadable-hook")
            let source = try await WebhookFixture.makeSource(client, key: tenant.key)
            try await environment.withOwnerConnection { connection in
                try await connection.query(
                    "UPDATE webhook_source_secrets SET secret = set_byte(secret, 40, get_byte(secret, 40) # 1) WHERE source_id = \(UUID(uuidString: source.id)!)",
                    logger: environment.logger
                )
            }
            let response = try await WebhookFixture.deliverGitHub(client, source: source.id, secret: source.secret, deliveryID: "hook-1")
            #expect(response.status == .serviceUnavailable)
            #expect(!response.text.contains("secret"), "\(response.text)")
            let audit = try await client.api(key: tenant.key).listAuditEvents().ok.body.json.data
            #expect(audit.contains { $0.action == "secret.unreadable" })
        }
    }
}
