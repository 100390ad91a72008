import Foundation
import Logging
import NIOCore
import PostgresNIO
import SwitchyardCore
import SwitchyardTestSupport
import SwitchyardVault
import Synchronization
import Testing

@testable import SwitchyardPostgres

@Suite("Credential vault: envelope encryption (REQUIREMENTS EN-1..EN-5)")
struct VaultTests {
    static func makeTenant(_ database: Database, _ slug: String, logger: Logger) async throws -> TenantID {
        try await database.withOperator(logger: logger) { try await $0.createTenant(slug: slug, name: slug) }.id
    }

    static func makeIntegration(_ database: Database, _ tenant: TenantID, key: String, logger: Logger) async throws -> UUID {
        try await database.withTenant(tenant, logger: logger) { transaction in
            try await transaction.createIntegration(
                NewIntegration(
                    provider: "stripe",
                    displayName: "Stripe",
                    status: .connected,
                    connectionParameters: [:],
                    endUserID: nil,
                    tags: [],
                    credential: .apiKey(fields: ["api_key": key])
                )
            )
        }.id
    }

    static func apiKey(_ database: Database, _ tenant: TenantID, _ integration: UUID, logger: Logger) async throws -> String? {
        let credential = try await database.withTenant(tenant, logger: logger) { try await $0.credential(for: integration) }
        return credential?.fields["api_key"]
    }

    @Test("a sealed secret opens only for its own tenant, table, row and field, and not once tampered with")
    func binding() async throws {
        let environment = try await TestEnvironment.make()
        let logger = environment.logger
        try await environment.withDatabase { database in
            let a = try await Self.makeTenant(database, "vault-a", logger: logger)
            let b = try await Self.makeTenant(database, "vault-b", logger: logger)
            let row = UUID()
            let field = SealedField.integrationCredential
            let sealed = try await database.withTenant(a, logger: logger) { try await $0.seal(Array("s3cret".utf8), field: field, row: row) }.bytes
            func open(_ tenant: TenantID, _ bytes: [UInt8], _ field: SealedField, _ row: UUID) async throws -> [UInt8] {
                try await database.withTenant(tenant, logger: logger) { try await $0.open(bytes, field: field, row: row) }
            }
            #expect(try await open(a, sealed, field, row) == Array("s3cret".utf8))

            await expectUnreadable(.authenticationFailed) { try await open(a, sealed, field, UUID()) }
            let otherColumn = SealedField(
                table: field.table,
                rowIDColumn: field.rowIDColumn,
                column: "refresh_token",
                dataKeyColumn: field.dataKeyColumn
            )
            await expectUnreadable(.authenticationFailed) { try await open(a, sealed, otherColumn, row) }
            let otherTable = SealedField(table: "destinations", rowIDColumn: "id", column: field.column, dataKeyColumn: field.dataKeyColumn)
            await expectUnreadable(.authenticationFailed) { try await open(a, sealed, otherTable, row) }
            // Tenant B cannot even see A's data key (row-level security), let alone use it.
            await expectUnreadable(.dataKeyNotFound) { try await open(b, sealed, field, row) }

            var tampered = sealed
            tampered[tampered.count - 1] ^= 0x01
            await expectUnreadable(.authenticationFailed) { try await open(a, tampered, field, row) }
            var unknownFormat = sealed
            unknownFormat[0] = 9
            await expectUnreadable(.malformedCiphertext) { try await open(a, unknownFormat, field, row) }
            // The same plaintext sealed twice differs (random nonces).
            let again = try await database.withTenant(a, logger: logger) { try await $0.seal(Array("s3cret".utf8), field: field, row: row) }.bytes
            #expect(again != sealed)
        }
    }

    @Test("a credential copied into another tenant's row does not open there")
    func copiedAcrossTenants() async throws {
        let environment = try await TestEnvironment.make()
        let logger = environment.logger
        try await environment.withDatabase { database in
            let a = try await Self.makeTenant(database, "copy-a", logger: logger)
            let b = try await Self.makeTenant(database, "copy-b", logger: logger)
            let fromA = try await Self.makeIntegration(database, a, key: "sk_live_tenant_a", logger: logger)
            let inB = try await Self.makeIntegration(database, b, key: "sk_live_tenant_b", logger: logger)
            // An attacker with write access to the table moves A's ciphertext into B's row.
            try await environment.withOwnerConnection { connection in
                try await connection.query(
                    """
                    UPDATE integration_credentials AS target SET secret = source.secret
                      FROM integration_credentials AS source
                     WHERE source.integration_id = \(fromA) AND target.integration_id = \(inB)
                    """,
                    logger: logger
                )
            }
            await expectUnreadable(.dataKeyNotFound) { try await Self.apiKey(database, b, inB, logger: logger) }
            #expect(try await Self.apiKey(database, a, fromA, logger: logger) == "sk_live_tenant_a")
        }
    }

    @Test("the database holds no plaintext credential and no unwrapped data key")
    func noPlaintextAtRest() async throws {
        let environment = try await TestEnvironment.make()
        let logger = environment.logger
        let secret = "sk_live_plaintext_must_not_appear"
        try await environment.withDatabase { database in
            let tenant = try await Self.makeTenant(database, "at-rest", logger: logger)
            _ = try await Self.makeIntegration(database, tenant, key: secret, logger: logger)
        }
        let hits = try await environment.withOwnerConnection { connection in
            try await connection.query(
                """
                SELECT (SELECT count(*) FROM integration_credentials WHERE position(\(ByteBuffer(string: secret)) IN secret) > 0)
                     + (SELECT count(*) FROM integrations WHERE row_to_json(integrations)::text LIKE '%' || \(secret) || '%')
                """,
                logger: logger
            ).decode(Int.self).collect()
        }
        #expect(hits == [0])
        let keys = try await environment.withOwnerConnection { connection in
            try await connection.query("SELECT octet_length(wrapped_key), kek_id, kek_version FROM tenant_data_keys", logger: logger)
                .decode((Int, String, Int).self).collect()
        }
        #expect(keys.count == 1)
        #expect(keys.first?.0 == 12 + 32 + 16)  // nonce + wrapped 256-bit key + tag: never the bare 32 bytes
        #expect(keys.first?.1 == "test" && keys.first?.2 == 1)
    }

    @Test("keyring files are written 0600, refused when others can read them, and rotation keeps old versions")
    func keyringFiles() throws {
        let directory = URL(filePath: NSTemporaryDirectory()).appending(path: "switchyard-keyring-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appending(path: "keyring.json").path
        let keyring = LocalKeyring.generate()
        try keyring.write(to: path, replacing: false)
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int == 0o600)
        #expect(throws: VaultError.self) { try keyring.write(to: path, replacing: false) }

        let rotated = try LocalKeyring.load(path: path).rotated()
        #expect(rotated.primary == 2)
        #expect(rotated.versions.map(\.number) == [1, 2])
        try rotated.write(to: path, replacing: true)
        #expect(try LocalKeyring.load(path: path).primary == 2)
        #expect(try LocalKeyring(json: rotated.json()).json() == rotated.json())

        chmod(path, 0o644)
        #expect(throws: VaultError.self) { try LocalKeyring.load(path: path) }
        #expect(throws: VaultError.self) { try LocalKeyring(json: #"{"format":"switchyard-keyring/v1","key_id":"x","primary":2,"keys":[]}"#) }
        #expect(!"\(keyring)".contains(keyring.json()))
    }

    @Test("rotate and rewrap while readers keep reading: no read fails and every data key moves to the new version")
    func rotateAndRewrapOnline() async throws {
        let environment = try await TestEnvironment.make()
        let logger = environment.logger
        let directory = URL(filePath: NSTemporaryDirectory()).appending(path: "switchyard-rewrap-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appending(path: "keyring.json").path
        let original = LocalKeyring.generate(keyID: "rotating")
        try original.write(to: path, replacing: false)

        // A serving process started before the rotation; no data-key cache, so every read unwraps.
        let reader = Vault(provider: try LocalKeyProvider(path: path), policy: DataKeyPolicy(cacheTTL: .zero))
        let secrets = try await environment.withDatabase(vault: reader) { database in
            var secrets: [(TenantID, UUID, String)] = []
            for index in 0..<4 {
                let tenant = try await Self.makeTenant(database, "rewrap-\(index)", logger: logger)
                for key in ["sk_\(index)_a", "sk_\(index)_b"] {
                    secrets.append((tenant, try await Self.makeIntegration(database, tenant, key: key, logger: logger), key))
                }
            }
            return secrets
        }

        try LocalKeyring.load(path: path).rotated().write(to: path, replacing: true)
        let operatorVault = Vault(provider: try LocalKeyProvider(path: path))

        let (reads, failures, progress) = try await environment.withDatabase(vault: reader) { readerDatabase in
            try await environment.withDatabase(vault: operatorVault) { operatorDatabase in
                try await withThrowingTaskGroup(of: (Int, Int)?.self) { group in
                    let done = StopFlag()
                    group.addTask {
                        var reads = 0
                        var failures = 0
                        repeat {
                            for (tenant, integration, expected) in secrets {
                                let value = try? await Self.apiKey(readerDatabase, tenant, integration, logger: logger)
                                if value == expected { reads += 1 } else { failures += 1 }
                            }
                        } while !done.isSet
                        return (reads, failures)
                    }
                    let progress = try await operatorDatabase.rewrapDataKeys(batchSize: 1, logger: logger)
                    done.set()
                    var result = (0, 0)
                    for try await counts in group { if let counts { result = counts } }
                    return (result.0, result.1, progress)
                }
            }
        }
        #expect(failures == 0)
        #expect(reads >= secrets.count)
        #expect(progress == MaintenanceProgress(done: 4, remaining: 0))
        let counts = try await environment.withDatabase(vault: operatorVault) { try await $0.dataKeyCounts(logger: logger) }
        #expect(counts == [DataKeyCount(kek: KEKVersion(keyID: "rotating", version: 2), state: "active", count: 4)])

        // The old version alone can no longer open anything: the rewrap really moved the keys.
        let oldOnly = Vault(provider: LocalKeyProvider(keyring: original), policy: DataKeyPolicy(cacheTTL: .zero))
        let (tenant, integration, _) = secrets[0]
        await #expect(throws: VaultError.unknownKEKVersion(KEKVersion(keyID: "rotating", version: 2))) {
            try await environment.withDatabase(vault: oldOnly) { try await Self.apiKey($0, tenant, integration, logger: logger) }
        }
    }

    @Test("a data key is retired at its encryption budget, and re-sealing moves its secrets to the new key")
    func encryptionBudget() async throws {
        let environment = try await TestEnvironment.make()
        let logger = environment.logger
        let vault = Vault(provider: LocalKeyProvider(keyring: .generate()), policy: DataKeyPolicy(encryptionBudget: 6))
        try await environment.withDatabase(vault: vault) { database in
            let tenant = try await Self.makeTenant(database, "budget", logger: logger)
            var integrations: [UUID] = []
            for index in 0..<4 {
                integrations.append(try await Self.makeIntegration(database, tenant, key: "key-\(index)", logger: logger))
            }
            // Three credential updates: the 7th encryption exceeds the budget of 6 and rotates the key.
            for (index, integration) in integrations.prefix(3).enumerated() {
                try await database.withTenant(tenant, logger: logger) {
                    try await $0.storeCredential(.apiKey(fields: ["api_key": "key-\(index)-v2"]), for: integration)
                }
            }
            let before = try await database.dataKeyCounts(logger: logger)
            #expect(before.map(\.state).sorted() == ["active", "retiring"])
            let audit = try await database.withTenant(tenant, logger: logger) { try await $0.auditEvents(PageRequest(limit: 10, cursor: nil)) }
            #expect(audit.items.contains { $0.action == "data_key.rotated" && $0.actor == "system" })

            let expected = ["key-0-v2", "key-1-v2", "key-2-v2", "key-3"]
            for (integration, key) in zip(integrations, expected) {
                #expect(try await Self.apiKey(database, tenant, integration, logger: logger) == key)
            }
            let progress = try await database.resealRetiringDataKeys(logger: logger)
            #expect(progress == MaintenanceProgress(done: 3, remaining: 0))
            #expect(try await database.dataKeyCounts(logger: logger).map(\.state) == ["active"])
            for (integration, key) in zip(integrations, expected) {
                #expect(try await Self.apiKey(database, tenant, integration, logger: logger) == key)
            }
        }
    }

    @Test("rotating a tenant's data key on demand re-seals its secrets and deletes the old key")
    func rotateOnDemand() async throws {
        let environment = try await TestEnvironment.make()
        let logger = environment.logger
        try await environment.withDatabase { database in
            let tenant = try await Self.makeTenant(database, "on-demand", logger: logger)
            let other = try await Self.makeTenant(database, "bystander", logger: logger)
            let integration = try await Self.makeIntegration(database, tenant, key: "sk_rotate_me", logger: logger)
            let bystander = try await Self.makeIntegration(database, other, key: "sk_untouched", logger: logger)
            let newKey = try await database.withTenant(tenant, logger: logger) { try await $0.rotateDataKey() }
            #expect(try await Self.apiKey(database, tenant, integration, logger: logger) == "sk_rotate_me")
            #expect(try await database.resealRetiringDataKeys(logger: logger) == MaintenanceProgress(done: 1, remaining: 0))
            let keyIDs = try await environment.withOwnerConnection { connection in
                try await connection.query("SELECT DISTINCT dek_id FROM integration_credentials WHERE tenant_id = \(tenant.rawValue)", logger: logger)
                    .decode(UUID.self).collect()
            }
            #expect(keyIDs == [newKey])
            #expect(try await Self.apiKey(database, tenant, integration, logger: logger) == "sk_rotate_me")
            #expect(try await Self.apiKey(database, other, bystander, logger: logger) == "sk_untouched")
        }
    }

    @Test("deleting a tenant destroys its data keys: a saved copy of its ciphertext can no longer be opened")
    func cryptoShredding() async throws {
        let environment = try await TestEnvironment.make()
        let logger = environment.logger
        try await environment.withDatabase { database in
            let tenant = try await Self.makeTenant(database, "shredded", logger: logger)
            let integration = try await Self.makeIntegration(database, tenant, key: "sk_shred", logger: logger)
            #expect(try await Self.apiKey(database, tenant, integration, logger: logger) == "sk_shred")  // now cached
            let saved = try await environment.withOwnerConnection { connection in
                try await connection.query("SELECT secret FROM integration_credentials WHERE integration_id = \(integration)", logger: logger)
                    .decode(ByteBuffer.self).collect()
            }
            let copy = Array(try #require(saved.first).readableBytesView)

            #expect(try await database.withOperator(logger: logger) { try await $0.deleteTenant(tenant) })
            let keysLeft = try await environment.withOwnerConnection { connection in
                try await connection.query("SELECT count(*)::int FROM tenant_data_keys WHERE tenant_id = \(tenant.rawValue)", logger: logger)
                    .decode(Int.self).collect()
            }
            #expect(keysLeft == [0])
            // Not from this process's cache, nor from a fresh process holding the same keyring.
            await expectUnreadable(.dataKeyNotFound) {
                try await database.withTenant(tenant, logger: logger) { try await $0.open(copy, field: .integrationCredential, row: integration) }
            }
            let fresh = Vault(provider: environment.vault.provider, policy: DataKeyPolicy(cacheTTL: .zero))
            await expectUnreadable(.dataKeyNotFound) {
                try await environment.withDatabase(vault: fresh) { database in
                    try await database.withTenant(tenant, logger: logger) { try await $0.open(copy, field: .integrationCredential, row: integration) }
                }
            }
        }
    }

    @Test("concurrent readers of a data key share one unwrap; a reader claiming another tenant gets its own, which fails")
    func concurrentReadersShareOneUnwrap() async throws {
        let provider = GatedKeyProvider(LocalKeyProvider(keyring: .generate(keyID: "shared")))
        defer { provider.gate.release() }
        // No cache: every read unwraps, unless it joins one under way.
        let vault = Vault(provider: provider, policy: DataKeyPolicy(cacheTTL: .zero))
        let tenant = TenantID(UUID())
        let (key, wrapped) = try await vault.makeDataKey(for: tenant)
        let readersStarted = SharedCounter()
        let readers = Task {
            try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<20 {
                    group.addTask {
                        let read = try await vault.dataKey(key.id, tenant: tenant) {
                            readersStarted.add()
                            return wrapped
                        }
                        return read.id == key.id
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
        }
        try await eventually("every reader asked for the wrapped key") { readersStarted.value == 20 }
        // The one unwrap is held until every reader had time to join it (a reader joins without waiting in between).
        try await Task.sleep(for: .seconds(1))
        let intruder = Task { try await vault.dataKey(key.id, tenant: TenantID(UUID())) { wrapped } }
        try await eventually("the other tenant's read asked the provider") { provider.unwraps == 2 }
        provider.gate.release()
        #expect(try await readers.value == Array(repeating: true, count: 20))
        await #expect(throws: (any Error).self) { try await intruder.value }
        #expect(provider.unwraps == 2, "one unwrap for the twenty readers, one of its own for the other tenant")
    }
}

/// A flag one task sets and another polls.
final class StopFlag: Sendable {
    private let value = Mutex(false)
    var isSet: Bool { value.withLock { $0 } }
    func set() { value.withLock { $0 = true } }
}

/// Expects `body` to fail on a secret that does not open (`SecretUnreadable`), because of `cause`.
func expectUnreadable(_ cause: VaultError, sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> some Any) async {
    do {
        _ = try await body()
        Issue.record("the secret opened", sourceLocation: sourceLocation)
    } catch let error as SecretUnreadable {
        #expect(error.cause == cause, sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected SecretUnreadable(\(cause)), got \(error)", sourceLocation: sourceLocation)
    }
}

/// A key provider whose unwraps wait for `gate`, counted.
private final class GatedKeyProvider: KeyEncryptionKeyProvider {
    let base: LocalKeyProvider
    let gate = Gate()
    private let count = SharedCounter()

    init(_ base: LocalKeyProvider) { self.base = base }

    var unwraps: Int { count.value }

    func primaryVersion() async throws -> KEKVersion { try await base.primaryVersion() }
    func availableVersions() async throws -> [KEKVersion] { try await base.availableVersions() }
    func wrap(_ dataKey: KeyMaterial, context: WrapContext) async throws -> WrappedDataKey { try await base.wrap(dataKey, context: context) }

    func unwrap(_ wrapped: WrappedDataKey, context: WrapContext) async throws -> KeyMaterial {
        count.add()
        try await gate.wait()
        return try await base.unwrap(wrapped, context: context)
    }
}
