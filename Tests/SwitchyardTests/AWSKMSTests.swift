import Foundation
import HummingbirdTesting
import Logging
import SwitchyardAPIClient
import SwitchyardAPIContract
import SwitchyardCore
import SwitchyardTestSupport
import Testing

@testable import SwitchyardPostgres
@testable import SwitchyardVault

/// The AWS KMS key provider against moto's server mode, a real KMS JSON API on loopback (issue 17): data keys
/// wrapped and unwrapped through the vault, the encryption context enforced, KMS unreachable at start and during
/// operation, and `switchyard keys rewrap` between the local keyring and KMS in both directions.
@Suite("AWS KMS key provider (moto)")
struct AWSKMSTests {
    static let alias = "alias/switchyard-test"

    /// A moto server of its own with one key under `alias`, stopped afterwards; `body` gets the server and the key's ARN.
    static func withMoto(_ body: (MotoServer, String) async throws -> Void) async throws {
        let moto = try await MotoServer.start(logger: Logger(label: "switchyard.tests.moto"))
        defer { moto.stop() }
        let arn = try await moto.createKey(alias: String(alias.dropFirst("alias/".count)))
        try await body(moto, arn)
    }

    static func stripe(_ secret: String) -> Components.Schemas.IntegrationCreate {
        Components.Schemas.IntegrationCreate(provider: "stripe", credentials: .init(additionalProperties: ["api_key": secret]))
    }

    @Test("data keys made by GenerateDataKey are stored under the key's ARN and open through a vault with an empty cache")
    func roundTrip() async throws {
        try await Self.withMoto { moto, arn in
            var made = try await TestEnvironment.make()
            let provider = try await AWSKMSKeyProvider.connect(moto.settings(keyID: Self.alias))
            #expect(provider.keyARN == arn, "the alias is resolved to the key's ARN at start")
            made.vault = Vault(provider: provider)
            let (environment, logger) = (made, made.logger)
            try await environment.withDatabase { database in
                let (tenant, integration) = try await KeyLifecycleTests.integration(database, slug: "kms-round-trip", key: "sk_kms", logger: logger)
                #expect(
                    try await database.dataKeyCounts(logger: logger) == [
                        DataKeyCount(kek: KEKVersion(keyID: arn, version: 1), state: "active", count: 1)
                    ]
                )
                let uncached = Vault(provider: provider, policy: DataKeyPolicy(cacheTTL: .zero))
                let secret = try await environment.withDatabase(vault: uncached) { database in
                    try await VaultTests.apiKey(database, tenant, integration, logger: logger)
                }
                #expect(secret == "sk_kms")
            }
        }
    }

    @Test("a data key wrapped for one tenant does not unwrap under another tenant's encryption context")
    func wrongEncryptionContext() async throws {
        try await Self.withMoto { moto, _ in
            let provider = try await AWSKMSKeyProvider.connect(moto.settings(keyID: Self.alias))
            let (a, b, id) = (TenantID(UUID()), TenantID(UUID()), UUID())
            let (material, wrapped) = try await provider.generateDataKey(context: Vault.context(tenant: a, dataKeyID: id))
            let unwrapped = try await provider.unwrap(wrapped, context: Vault.context(tenant: a, dataKeyID: id))
            #expect(unwrapped.withBytes { $0 } == material.withBytes { $0 })
            await #expect(throws: VaultError.authenticationFailed) {
                try await provider.unwrap(wrapped, context: Vault.context(tenant: b, dataKeyID: id))
            }
            await #expect(throws: VaultError.authenticationFailed) {
                try await provider.unwrap(wrapped, context: Vault.context(tenant: a, dataKeyID: UUID()))
            }
            // Encrypt (what `keys rewrap` uses) binds the context the same way.
            let rewrapped = try await provider.wrap(material, context: Vault.context(tenant: a, dataKeyID: id))
            await #expect(throws: VaultError.authenticationFailed) {
                try await provider.unwrap(rewrapped, context: Vault.context(tenant: b, dataKeyID: id))
            }
        }
    }

    @Test("serve with KMS unreachable at start exits 69 with one line naming the endpoint; an unknown key exits 78")
    func unavailableAtStart() async throws {
        let environment = try await TestEnvironment.make()
        let nothingThere = try ChildProcess.freePort()
        let unreachable = try SwitchyardProcess(
            ["serve"],
            environment: environment,
            settings: [
                "SWITCHYARD_ADMIN_KEY": TestEnvironment.adminKey, "SWITCHYARD_HTTP_PORT": "0", "SWITCHYARD_KEYRING": "",
                "SWITCHYARD_KEY_PROVIDER": "aws-kms", "SWITCHYARD_AWS_KMS_KEY_ID": Self.alias, "SWITCHYARD_AWS_KMS_REGION": "us-east-1",
                "SWITCHYARD_AWS_KMS_ENDPOINT": "http://127.0.0.1:\(nothingThere)", "AWS_ACCESS_KEY_ID": "AKIASWITCHYARDTEST",
                "AWS_SECRET_ACCESS_KEY": "do-not-print-this-secret",
            ]
        )
        #expect(try await unreachable.waitForExit() == 69)
        let output = unreachable.output
        #expect(output.contains("AWS KMS is unreachable at http://127.0.0.1:\(nothingThere)"), "\(output)")
        #expect(!output.contains("do-not-print-this-secret"), "\(output)")
        #expect(!output.contains("listening"), "nothing started: \(output)")

        try await Self.withMoto { moto, _ in
            let unknown = try SwitchyardProcess(
                ["serve"],
                environment: environment,
                settings: moto.variables(keyID: "alias/no-such-key", provider: .awsKMS).merging([
                    "SWITCHYARD_ADMIN_KEY": TestEnvironment.adminKey, "SWITCHYARD_HTTP_PORT": "0", "SWITCHYARD_KEYRING": "",
                ]) { $1 }
            )
            #expect(try await unknown.waitForExit() == 78)
            #expect(unknown.output.contains("SWITCHYARD_AWS_KMS_KEY_ID") && unknown.output.contains("NotFoundException"), "\(unknown.output)")
        }
    }

    @Test("KMS unreachable during operation: cached data keys keep serving past their cache time, a new tenant gets 503 until KMS is back")
    func unavailableDuringOperation() async throws {
        try await Self.withMoto { moto, _ in
            var environment = try await TestEnvironment.make()
            // A shorter deadline than production's 5 s per attempt, still ample for moto on a loaded machine: a frozen
            // KMS is reported in about 4 s.
            // A cache time shorter than the outage: expired keys keep serving while KMS is unreachable.
            environment.vault = Vault(
                provider: try await AWSKMSKeyProvider.connect(moto.settings(keyID: Self.alias), timeout: .seconds(2)),
                policy: DataKeyPolicy(cacheTTL: .milliseconds(500))
            )
            try await environment.withApp { client in
                let tenant = try await client.makeTenant(slug: "kms-before-outage", scopes: [.read, .write, .credentialsRead])
                let integration = try await client.api(key: tenant.key).createIntegration(body: .json(Self.stripe("sk_cached"))).created.body.json.id

                moto.pause()
                try await Task.sleep(for: .seconds(1))
                let cached = try await client.request(.get, "/v1/integrations/\(integration)/credentials", key: tenant.key)
                #expect(cached.status == .ok, "\(cached.text)")
                #expect(cached.text.contains("sk_cached"))
                let another = try await client.api(key: tenant.key).createIntegration(body: .json(Self.stripe("sk_during"))).created.body.json.id
                #expect(!another.isEmpty, "the tenant's active data key is cached: new secrets are sealed during the outage")

                let refused = try await client.request(
                    .post,
                    "/v1/tenants",
                    key: TestEnvironment.adminKey,
                    json: #"{"slug":"kms-during-outage","name":"During"}"#
                )
                #expect(refused.status == .serviceUnavailable, "\(refused.text)")
                #expect(refused.headers[.contentType] == "application/problem+json")
                #expect(try refused.problem._type.hasSuffix("/key-service-unavailable"), "\(refused.text)")

                moto.resume()
                let created = try await client.request(
                    .post,
                    "/v1/tenants",
                    key: TestEnvironment.adminKey,
                    json: #"{"slug":"kms-during-outage","name":"During"}"#
                )
                #expect(created.status == .created, "\(created.text)")
            }
        }
    }

    @Test("keys rewrap moves every data key from the local keyring to KMS and back, and every secret still opens")
    func rewrapBothWays() async throws {
        try await Self.withMoto { moto, arn in
            try await KeyLifecycleTests.withKeyringFile { environment, path in
                let logger = environment.logger
                let kms = KEKVersion(keyID: arn, version: 1)
                let local = KEKVersion(keyID: "lifecycle", version: 1)
                let settings = moto.settings(keyID: Self.alias)
                try await environment.withDatabase { database in
                    var made: [(TenantID, UUID, String)] = []
                    for index in 0..<3 {
                        let (tenant, integration) = try await KeyLifecycleTests.integration(
                            database,
                            slug: "kms-rewrap-\(index)",
                            key: "sk_\(index)",
                            logger: logger
                        )
                        made.append((tenant, integration, "sk_\(index)"))
                    }
                    let secrets = made
                    #expect(try await database.dataKeyCounts(logger: logger) == [DataKeyCount(kek: local, state: "active", count: 3)])

                    // Running processes first learn both providers (KMS primary, the keyring still unwrapping)...
                    let both = Vault(
                        provider: KeyProviderChain(
                            primary: try await AWSKMSKeyProvider.connect(settings),
                            others: [try LocalKeyProvider(path: path)]
                        ),
                        policy: DataKeyPolicy(cacheTTL: .zero)
                    )
                    // ...then the operator moves the keys, with the same settings.
                    let toKMS = try await KeyLifecycleTests.keys(
                        ["rewrap"],
                        environment,
                        keyring: path,
                        extra: moto.variables(keyID: Self.alias, provider: .awsKMS)
                    )
                    #expect(toKMS.0 == 0 && toKMS.1.contains("3 data key(s) moved to \(arn)/v1; 0 left"), "\(toKMS.1)")
                    #expect(try await database.dataKeyCounts(logger: logger) == [DataKeyCount(kek: kms, state: "active", count: 3)])
                    let kmsOnly = Vault(provider: try await AWSKMSKeyProvider.connect(settings), policy: DataKeyPolicy(cacheTTL: .zero))
                    for vault in [both, kmsOnly] {
                        try await environment.withDatabase(vault: vault) { database in
                            for (tenant, integration, secret) in secrets {
                                let opened = try await VaultTests.apiKey(database, tenant, integration, logger: logger)
                                #expect(opened == secret)
                            }
                        }
                    }

                    let back = try await KeyLifecycleTests.keys(
                        ["rewrap"],
                        environment,
                        keyring: path,
                        extra: moto.variables(keyID: Self.alias, provider: .local)
                    )
                    #expect(back.0 == 0 && back.1.contains("3 data key(s) moved to lifecycle/v1; 0 left"), "\(back.1)")
                    #expect(try await database.dataKeyCounts(logger: logger) == [DataKeyCount(kek: local, state: "active", count: 3)])
                    let status = try await KeyLifecycleTests.keys(
                        ["status"],
                        environment,
                        keyring: path,
                        extra: moto.variables(keyID: Self.alias, provider: .local)
                    )
                    #expect(status.1.contains("\(arn)/v1: wraps nothing; safe to retire (unset SWITCHYARD_AWS_KMS_KEY_ID)"), "\(status.1)")
                    let localOnly = Vault(provider: try LocalKeyProvider(path: path), policy: DataKeyPolicy(cacheTTL: .zero))
                    try await environment.withDatabase(vault: localOnly) { database in
                        for (tenant, integration, secret) in secrets {
                            let opened = try await VaultTests.apiKey(database, tenant, integration, logger: logger)
                            #expect(opened == secret)
                        }
                    }
                }
            }
        }
    }
}
