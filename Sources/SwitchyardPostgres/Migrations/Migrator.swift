import Logging
import PostgresNIO
import SwitchyardCore

/// Applies `Migration.all` in order, as the schema owner.
///
/// Each migration runs in its own transaction together with its row in `schema_migrations`.
/// A session advisory lock makes concurrent runs wait for each other instead of racing;
/// an applied migration whose text changed stops the run (add a new migration instead).
public struct Migrator: Sendable {
    /// Arbitrary but fixed: `hashtext('switchyard.migrate')` would do too, a constant is clearer.
    static let advisoryLockKey: Int64 = 0x5357_5943_4844_0001

    public struct Report: Sendable {
        public let applied: [Migration]
        public let alreadyApplied: Int
    }

    public enum Failure: Error, CustomStringConvertible {
        case editedAfterApply(Migration)
        case unknownVersionApplied(Int)
        case failed(Migration, reason: String)

        public var description: String {
            switch self {
            case .editedAfterApply(let migration):
                "Migrations/\(migration.name) was changed after it was applied; restore it and put the change in a new migration"
            case .unknownVersionApplied(let version):
                "the database has migration \(version) applied, which this build does not know; run a newer switchyard"
            case .failed(let migration, let reason):
                "Migrations/\(migration.name) failed: \(reason)"
            }
        }
    }

    let migrations: [Migration]
    let logger: Logger

    public init(migrations: [Migration] = Migration.all, logger: Logger) {
        self.migrations = migrations
        self.logger = logger
    }

    /// Connects with `url` (the owner), applies what is missing and returns what it did.
    public func run(url: DatabaseURL) async throws -> Report {
        let connection = try await PostgresConnection.connect(
            configuration: try .init(url),
            id: 1,
            logger: logger
        )
        do {
            let report = try await run(on: connection)
            try await connection.close()
            return report
        } catch {
            try? await connection.close()
            throw error
        }
    }

    func run(on connection: PostgresConnection) async throws -> Report {
        // Released explicitly at the end, or by closing the connection when a migration fails.
        try await connection.query("SELECT pg_advisory_lock(\(Self.advisoryLockKey))", logger: logger)
        try await connection.query(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version    int         PRIMARY KEY,
                name       text        NOT NULL,
                checksum   text        NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """,
            logger: logger
        )
        let rows = try await connection.query("SELECT version, checksum FROM schema_migrations", logger: logger)
            .decode((Int, String).self).collect()
        let appliedChecksums = Dictionary(uniqueKeysWithValues: rows.map { ($0.0, $0.1) })
        let known = Set(migrations.map(\.version))
        if let unknown = appliedChecksums.keys.sorted().first(where: { !known.contains($0) }) {
            throw Failure.unknownVersionApplied(unknown)
        }
        var applied: [Migration] = []
        for migration in migrations {
            if let checksum = appliedChecksums[migration.version] {
                guard checksum == migration.checksum else { throw Failure.editedAfterApply(migration) }
                continue
            }
            do {
                try await connection.query("BEGIN", logger: logger)
                for statement in SQLStatementSplitter.split(migration.sql) {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES (\(migration.version), \(migration.name), \(migration.checksum))",
                    logger: logger
                )
                try await connection.query("COMMIT", logger: logger)
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger)
                let reason = (error as? PSQLError)?.serverInfo?[.message] ?? "\(error)"
                throw Failure.failed(migration, reason: reason)
            }
            logger.info("applied migration", metadata: ["migration": "\(migration.name)"])
            applied.append(migration)
        }
        try await connection.query("SELECT pg_advisory_unlock(\(Self.advisoryLockKey))", logger: logger)
        return Report(applied: applied, alreadyApplied: appliedChecksums.count)
    }
}

/// Whether the database schema matches this build.
public enum SchemaStatus: Sendable, Equatable {
    case current
    /// Migrations are missing: `switchyard migrate` must run before serving.
    case behind(databaseVersion: Int, requiredVersion: Int)
    /// The database is newer than this build (a rolling deploy in progress): serving is allowed.
    case ahead(databaseVersion: Int, knownVersion: Int)

    public static func evaluate(applied: [Int]?, migrations: [Migration] = Migration.all) -> SchemaStatus {
        let appliedSet = Set(applied ?? [])
        let databaseVersion = appliedSet.max() ?? 0
        let required = migrations.last?.version ?? 0
        if migrations.contains(where: { !appliedSet.contains($0.version) }) {
            return .behind(databaseVersion: databaseVersion, requiredVersion: required)
        }
        return databaseVersion > required ? .ahead(databaseVersion: databaseVersion, knownVersion: required) : .current
    }
}
