import Foundation
import Logging
import SwitchyardCore
import SwitchyardDestinations
import SwitchyardJobs
import SwitchyardMetrics
import SwitchyardOAuth
import SwitchyardOutbound
import SwitchyardPostgres
import SwitchyardSyncs
import SwitchyardTestSupport
import SwitchyardVault
import SwitchyardWorkflows
import Testing

/// A tenant with a loopback provider API (`FakeProviderAPI`, saved as the custom provider `fakeapi` with an API key
/// in a bearer header), one connected integration of it, and a `WorkflowRunner` with short waits, for tests of runs as
/// executors make them.
struct WorkflowFixture: Sendable {
    static let apiKey = "fake_live_key_0123456789"

    let environment: TestEnvironment
    let database: Database
    let api: FakeProviderAPI
    let outbound: OutboundClient
    let tenant: TenantID
    let integration: UUID
    let runner: WorkflowRunner
    /// What the runner records.
    let metrics: MetricsRegistry
    /// What the runner counts as the tenant's usage.
    let usage: UsageMeter
    /// The keyring the integration's credential is sealed under, for a child `switchyard executor`.
    let keyringJSON: String
    var logger: Logger { environment.logger }

    static let settings = WorkflowRunner.Settings(syncPollInterval: .milliseconds(100), concurrencyRetry: .milliseconds(100))

    static func with(_ body: @Sendable (WorkflowFixture) async throws -> Void) async throws {
        let base = try await TestEnvironment.make()
        try await FakeProviderAPI.withRunning { api in
            var environment = base
            environment.configuration.outbound.plainHTTPAllowList = [api.hostAndPort]
            let configured = environment
            let keyring = LocalKeyring.generate(keyID: "workflows")
            let vault = Vault(provider: LocalKeyProvider(keyring: keyring))
            try await configured.withDatabase(maxConnections: 8, vault: vault) { database in
                let outbound = configured.makeOutboundClient()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await outbound.run() }
                    defer { group.cancelAll() }
                    let logger = configured.logger
                    let tenant = try await database.makeTenant("workflows", logger: logger)
                    let integration = try await database.withTenant(tenant, logger: logger) { transaction in
                        _ = try await transaction.saveCustomProvider(id: "fakeapi", definition: providerJSON(baseURL: api.baseURL))
                        return try await transaction.createIntegration(
                            NewIntegration(
                                provider: "fakeapi",
                                displayName: "Fake API",
                                status: .connected,
                                connectionParameters: [:],
                                endUserID: nil,
                                tags: [],
                                credential: .apiKey(fields: ["api_key": apiKey])
                            )
                        ).id
                    }
                    let caller = IntegrationCaller(database: database, outbound: outbound, refreshSkewSeconds: 60)
                    let metrics = MetricsRegistry(version: "test")
                    let usage = UsageMeter()
                    try await body(
                        WorkflowFixture(
                            environment: configured,
                            database: database,
                            api: api,
                            outbound: outbound,
                            tenant: tenant,
                            integration: integration,
                            runner: WorkflowRunner(database: database, caller: caller, settings: settings, metrics: metrics.workflows, usage: usage),
                            metrics: metrics,
                            usage: usage,
                            keyringJSON: keyring.json()
                        )
                    )
                }
            }
        }
    }

    static func providerJSON(baseURL: String) -> String {
        """
        {"id":"fakeapi","display_name":"Fake API","auth_type":"api_key",
         "credentials":{"fields":[{"name":"api_key","description":"The API key","secret":true}],
                        "injection":{"type":"header","name":"Authorization","value":"Bearer {api_key}"}},
         "api_base_url":"\(baseURL)"}
        """
    }

    /// The job kinds a test executor runs: workflow runs (with this fixture's short waits) and sync runs.
    var registry: JobRegistry {
        var registry = JobRegistry.standard()
        registry.register(WorkflowRunHandler(runner: runner))
        registry.register(
            SyncRunHandler(
                runner: SyncRunner(database: database, caller: IntegrationCaller(database: database, outbound: outbound, refreshSkewSeconds: 60))
            )
        )
        return registry
    }

    /// A definition as JSON text, with `$INTEGRATION` standing for the fixture's integration.
    func definition(_ text: String) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(text.replacing("$INTEGRATION", with: integration.lowercasedString).utf8))
    }

    func create(_ name: String, _ text: String, tenant: TenantID? = nil) async throws -> WorkflowRecord {
        let json = try definition(text)
        return try await database.withTenant(tenant ?? self.tenant, logger: logger) {
            try await WorkflowPublishing.create(name: name, definition: json, enabled: true, in: $0)
        }
    }

    func publish(_ id: UUID, _ text: String) async throws -> WorkflowRecord {
        let json = try definition(text)
        let record = try await database.withTenant(tenant, logger: logger) {
            try await WorkflowPublishing.publish(id, definition: json, name: nil, in: $0)
        }
        return try #require(record)
    }

    func start(_ workflow: UUID, input: String = "{}", key: String? = nil) async throws -> WorkflowRunRecord {
        let json = try JSONDecoder().decode(JSONValue.self, from: Data(input.utf8))
        let started = try await database.withTenant(tenant, logger: logger) {
            try await WorkflowPublishing.startRun(workflow, input: json, idempotencyKey: key, in: $0)
        }
        return try #require(started).run
    }

    func run(_ id: UUID) async throws -> WorkflowRunRecord {
        try #require(try await database.withTenant(tenant, logger: logger) { try await $0.workflowRun(id) })
    }

    func steps(_ id: UUID) async throws -> [String: WorkflowRunStepRecord] {
        let steps = try await database.withTenant(tenant, logger: logger) { try await $0.workflowRunSteps(id) }
        return Dictionary(uniqueKeysWithValues: steps.map { ($0.key, $0) })
    }

    /// Waits until run `id` has finished; returns it.
    @discardableResult
    func finished(_ id: UUID, timeout: Duration = .seconds(30)) async throws -> WorkflowRunRecord {
        try await eventually("run \(id) finishes", timeout: timeout) { try await run(id).status.isFinished }
        return try await run(id)
    }

    /// Runs an in-process executor of `registry` while `body` runs.
    func withExecutor<Result: Sendable>(_ body: @Sendable () async throws -> Result) async throws -> Result {
        try await database.withExecutor(registry: registry, logger: logger, body)
    }

    /// The exposition text's sample lines of the workflow families.
    var workflowSamples: [String] {
        String(decoding: metrics.render(), as: UTF8.self).split(separator: "\n").map(String.init).filter {
            $0.hasPrefix("switchyard_workflow_")
        }
    }

    func events(_ type: String) async throws -> [EventRecord] {
        try await database.withTenant(tenant, logger: logger) {
            try await $0.events(type: type, integrationID: nil, page: PageRequest(limit: 100, cursor: nil))
        }.items
    }
}

extension JSONValue {
    /// The member at a dotted path (`body.id`), for reading outputs in tests.
    subscript(path: String) -> JSONValue? {
        var value: JSONValue? = self
        for token in path.split(separator: ".") {
            switch value {
            case .object(let members)?: value = members[String(token)]
            case .array(let elements)?: value = Int(token).flatMap { elements.indices.contains($0) ? elements[$0] : nil }
            default: return nil
            }
        }
        return value
    }
}
