import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import ServiceLifecycle
import SwitchyardAPI
import SwitchyardAPIClient
import SwitchyardAPIContract
import SwitchyardCore
import SwitchyardMetrics
import SwitchyardOutbound
import SwitchyardPostgres
import SwitchyardVault

/// A migrated database of its own plus the configuration to serve it; the same build functions as production.
public struct TestEnvironment: Sendable {
    public static let adminKey = "test-operator-key-0123456789abcdefghijklmnopqrstuvwxyz"

    public let ownerURL: DatabaseURL
    public let applicationURL: DatabaseURL
    public var configuration: SwitchyardConfiguration
    /// A vault over a keyring generated for this environment alone.
    public var vault: Vault
    public let logger: Logger

    public static func make(
        limits: LimitsConfiguration = .init(rateLimitPerSecond: 10_000, rateLimitBurst: 10_000),
        logger: Logger = Logger(label: "switchyard.tests")
    ) async throws -> TestEnvironment {
        let urls = try await TestPostgres.shared.makeDatabase()
        return make(owner: urls.owner, application: urls.application, limits: limits, logger: logger)
    }

    /// An environment on a database of the caller's (a cluster a test controls itself), already migrated.
    public static func make(
        owner: DatabaseURL,
        application: DatabaseURL,
        limits: LimitsConfiguration = .init(rateLimitPerSecond: 10_000, rateLimitBurst: 10_000),
        logger: Logger = Logger(label: "switchyard.tests")
    ) -> TestEnvironment {
        let configuration = SwitchyardConfiguration(
            // Some 40 suites share two cores and one PostgreSQL: a pool's first connection can take longer to make
            // than the production acquire deadline (2 s), which then answered 503 in tests that are not about
            // deadlines (seen in about one full run in three; the durability test's first request on a cluster
            // of its own with fsync on, too). The tests of deadlines set their own.
            // The ingest writer's one-second wait for its first connection too (the webhook suites' first delivery
            // answered 503 in full runs while other builds loaded the machine).
            database: DatabaseConfiguration(
                url: application,
                migrationURL: owner,
                maxConnections: 8,
                acquireTimeoutMilliseconds: 10_000,
                // The same for the call deadline (30 s in production): a scheduler tick that fires 100 schedules makes
                // some 200 round trips in one transaction, which a full run on a slow machine stretched past 30 s.
                callTimeoutMilliseconds: 120_000,
                ingestAcquireTimeoutMilliseconds: 10_000
            ),
            http: HTTPConfiguration(host: "127.0.0.1", port: 0),
            limits: limits,
            logging: LoggingConfiguration(),
            adminKey: adminKey
        )
        let vault = Vault(provider: LocalKeyProvider(keyring: .generate(keyID: "test")))
        return TestEnvironment(ownerURL: owner, applicationURL: application, configuration: configuration, vault: vault, logger: logger)
    }

    /// Runs `body` with a running connection pool of the application role.
    public func withDatabase<Result: Sendable>(
        maxConnections: Int = 4,
        vault: Vault? = nil,
        _ body: @Sendable (Database) async throws -> Result
    ) async throws -> Result {
        var databaseConfiguration = configuration.database
        databaseConfiguration.maxConnections = maxConnections
        let database = try Database(configuration: databaseConfiguration, vault: vault ?? self.vault, metrics: nil, logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await database.run() }
            defer { group.cancelAll() }
            return try await body(database)
        }
    }

    /// Builds the application exactly as `serve` does and tests it with `framework`.
    public func withApp<Result: Sendable>(
        _ framework: TestingSetup = .router,
        metrics: MetricsRegistry = MetricsRegistry(version: "test"),
        _ body: @Sendable (any TestClientProtocol) async throws -> Result
    ) async throws -> Result {
        let database = try Database(configuration: configuration.database, vault: vault, metrics: metrics.database, logger: logger)
        let app = try buildApplication(
            APIDependencies(configuration: configuration, database: database, metrics: metrics, outbound: makeOutboundClient(metrics: metrics)),
            logger: logger
        )
        return try await app.test(framework) { client in try await body(client) }
    }
}

extension TestEnvironment {
    /// The outbound client `serve` would build from this environment's settings; run by the application it is given to.
    public func makeOutboundClient(metrics: MetricsRegistry? = nil) -> OutboundClient {
        OutboundClient(configuration: OutboundConfiguration(configuration.outbound), metrics: metrics?.outbound)
    }

    /// The served routes, from the router exactly as `serve` builds it.
    public func routeTable() async throws -> RouteTable {
        let database = try Database(configuration: configuration.database, vault: vault, metrics: nil, logger: logger)
        let outbound = makeOutboundClient()
        let router = buildRouter(
            APIDependencies(configuration: configuration, database: database, metrics: .init(version: "test"), outbound: outbound)
        )
        try await outbound.shutdown()
        return RouteTable(router: router)
    }
}

/// Request helpers that read like the API.
extension TestClientProtocol {
    public func request(
        _ method: HTTPRequest.Method,
        _ uri: String,
        key: String? = nil,
        json: String? = nil,
        headers: HTTPFields = [:]
    ) async throws -> TestResponse {
        var headers = headers
        if let key { headers[.authorization] = "Bearer \(key)" }
        if json != nil { headers[.contentType] = "application/json" }
        return try await execute(uri: uri, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) })
    }

    /// Creates a tenant as the operator and a key for it (read and write unless `scopes`); returns (tenant id, key).
    public func makeTenant(slug: String, scopes: [APIKeyScope] = [.read, .write]) async throws -> (id: String, key: String) {
        let admin = api(key: TestEnvironment.adminKey)
        let tenant = try await admin.createTenant(body: .json(.init(slug: slug, name: "Tenant \(slug)"))).created.body.json
        let granted = scopes.compactMap { Components.Schemas.Scope(rawValue: $0.rawValue) }
        let created = try await admin.createTenantAPIKey(path: .init(tenantId: tenant.id), body: .json(.init(name: "first", scopes: granted)))
        guard let key = try created.created.body.json.value2.key else { throw TestFailure("a created key came without its secret") }
        return (tenant.id, key)
    }
}

extension TestResponse {
    public var text: String { String(buffer: body) }

    public func jsonObject() throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw TestFailure("not a JSON object: \(text)")
        }
        return object
    }
}

public struct TestFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
