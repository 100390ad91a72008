import Foundation
import Logging
import PostgresNIO
import SwitchyardCore
import SwitchyardDevCluster
import SwitchyardPostgres

/// One PostgreSQL for the whole test process and a fresh database for each test environment.
///
/// Uses `SWITCHYARD_TEST_DATABASE_URL` (a role that may create databases and roles) when set; otherwise
/// starts a private cluster with the same code `switchyard dev` uses, fsync off, stopped at exit.
/// A migrated template database is copied for each test, so tests run in parallel without sharing rows.
public actor TestPostgres {
    public static let shared = TestPostgres()

    private var started: (owner: DatabaseURL, cluster: LocalPostgresCluster?)?
    /// Tests ask for databases concurrently; the actor is reentrant across `await`, so the first start is shared.
    private var starting: Task<DatabaseURL, any Error>?
    private var counter = 0
    nonisolated(unsafe) private static var clusterToStop: LocalPostgresCluster?
    private let logger = Logger(label: "switchyard.tests.postgres")
    static let templateName = "switchyard_template_\(ProcessInfo.processInfo.processIdentifier)"

    /// A new, migrated database: the owner's URL and the application role's URL.
    public func makeDatabase() async throws -> (owner: DatabaseURL, application: DatabaseURL) {
        let owner = try await start()
        counter += 1
        let name = "switchyard_test_\(ProcessInfo.processInfo.processIdentifier)_\(counter)"
        return try await provision(owner: owner, name: name, template: Self.templateName)
    }

    /// A new, empty database (no migrations), for testing the migrator itself.
    public func makeEmptyDatabase() async throws -> (owner: DatabaseURL, application: DatabaseURL) {
        let owner = try await start()
        counter += 1
        return try await provision(
            owner: owner,
            name: "switchyard_empty_\(ProcessInfo.processInfo.processIdentifier)_\(counter)",
            template: "template0"
        )
    }

    /// The cluster's transactions that hold a transaction id, oldest first, one per line: what holds back the sync
    /// change feeds' horizon (`pg_snapshot_xmin`) for every database of the cluster.
    public nonisolated func transactionsHoldingTheHorizon() async -> String {
        let logger = Logger(label: "switchyard.tests.postgres")
        do {
            let owner = try await start()
            return try await TestEnvironment.withConnection(to: owner, logger: logger) { connection in
                let rows = try await connection.query(
                    """
                    SELECT datname || ' pid ' || pid || ' xid ' || backend_xid || ' open ' || round(extract(epoch FROM now() - xact_start)::numeric, 1)
                           || ' s, ' || state || ': ' || left(regexp_replace(query, '\\s+', ' ', 'g'), 160)
                      FROM pg_stat_activity WHERE backend_xid IS NOT NULL ORDER BY xact_start LIMIT 5
                    """,
                    logger: logger
                ).decode(String.self).collect()
                return rows.isEmpty ? "none" : rows.joined(separator: "\n")
            }
        } catch {
            return "(could not read pg_stat_activity: \(error))"
        }
    }

    private func start() async throws -> DatabaseURL {
        if let started { return started.owner }
        if let starting { return try await starting.value }
        let task = Task { try await self.startOnce() }
        starting = task
        return try await task.value
    }

    private func startOnce() async throws -> DatabaseURL {
        let owner: DatabaseURL
        var cluster: LocalPostgresCluster?
        if let configured = ProcessInfo.processInfo.environment["SWITCHYARD_TEST_DATABASE_URL"] {
            owner = try DatabaseURL(parsing: configured, variable: "SWITCHYARD_TEST_DATABASE_URL")
        } else {
            ClusterDirectory.removeAbandoned()
            let directory = ClusterDirectory.scratch("tests")
            // Some 250 tests hold databases at once early in a full run, with 550 sessions between them at the peak.
            let options = LocalPostgresCluster.Options(directory: directory, durable: false, maxConnections: 1500)
            let started = try await LocalPostgresCluster.start(options, logger: logger)
            Self.clusterToStop = started
            atexit {
                TestPostgres.clusterToStop?.stopBeforeExit()
                TestPostgres.clusterToStop?.removeFiles()
            }
            cluster = started
            owner = started.ownerURL
        }
        let template = try await provision(owner: owner, name: Self.templateName, template: "template0")
        _ = try await Migrator(logger: logger).run(url: template.owner)
        started = (owner, cluster)
        return owner
    }

    private func provision(owner: DatabaseURL, name: String, template: String) async throws -> (owner: DatabaseURL, application: DatabaseURL) {
        if let cluster = started?.cluster ?? Self.clusterToStop {
            return try await cluster.provisionDatabase(named: name, template: template, logger: logger)
        }
        // An external server: create the database and reuse the application role of a private cluster's shape.
        let connection = try await PostgresConnection.connect(
            configuration: .init(
                host: owner.host,
                port: owner.port,
                username: owner.username,
                password: owner.password,
                database: owner.database,
                tls: .disable
            ),
            id: 1,
            logger: logger
        )
        defer { Task { try? await connection.close() } }
        try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name) TEMPLATE \(template)"), logger: logger)
        try await connection.query(
            PostgresQuery(
                unsafeSQL: """
                    DO $$ BEGIN
                        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'switchyard_app') THEN CREATE ROLE switchyard_app NOLOGIN; END IF;
                        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'switchyard_api') THEN
                            CREATE ROLE switchyard_api LOGIN PASSWORD 'switchyard-test' IN ROLE switchyard_app;
                        END IF;
                    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$
                    """
            ),
            logger: logger
        )
        var application = owner.with(database: name)
        application.username = "switchyard_api"
        application.password = "switchyard-test"
        return (owner.with(database: name), application)
    }
}
