import Foundation
import Logging
import PostgresNIO
import SwitchyardCore
import SwitchyardTestSupport
import Testing

@testable import SwitchyardPostgres

@Suite("Migrations")
struct MigrationTests {
    let logger = Logger(label: "switchyard.tests.migrations")

    @Test("two migrate runs at once apply each migration exactly once")
    func concurrentRuns() async throws {
        let urls = try await TestPostgres.shared.makeEmptyDatabase()
        let migrator = Migrator(logger: logger)
        async let first = migrator.run(url: urls.owner)
        async let second = migrator.run(url: urls.owner)
        let reports = try await [first, second]
        #expect(reports.map(\.applied.count).sorted() == [0, Migration.all.count])
        let versions = try await TestEnvironment.withConnection(to: urls.owner, logger: logger) { connection in
            try await connection.query("SELECT version FROM schema_migrations ORDER BY version", logger: logger).decode(Int.self).collect()
        }
        #expect(versions == Migration.all.map(\.version))
        #expect(try await migrator.run(url: urls.owner).applied.isEmpty)
    }

    @Test("an applied migration that was edited is refused, and nothing more is applied")
    func editedMigration() async throws {
        let urls = try await TestPostgres.shared.makeEmptyDatabase()
        let original = Migration.all
        _ = try await Migrator(migrations: Array(original.prefix(2)), logger: logger).run(url: urls.owner)
        var edited = original
        edited[1] = Migration(version: original[1].version, name: original[1].name, sql: original[1].sql + "\n-- an afterthought\n")
        await #expect(throws: Migrator.Failure.self) {
            try await Migrator(migrations: edited, logger: logger).run(url: urls.owner)
        }
        let count = try await TestEnvironment.withConnection(to: urls.owner, logger: logger) { connection in
            try await connection.query("SELECT count(*) FROM schema_migrations", logger: logger).decode(Int.self).collect()
        }
        #expect(count == [2])
    }

    @Test("a failing migration rolls back entirely and names the file")
    func failingMigration() async throws {
        let urls = try await TestPostgres.shared.makeEmptyDatabase()
        let broken =
            Migration.all + [Migration(version: 9999, name: "9999_broken.sql", sql: "CREATE TABLE half_done (id int);\nSELECT no_such_function();")]
        do {
            _ = try await Migrator(migrations: broken, logger: logger).run(url: urls.owner)
            Issue.record("the broken migration was applied")
        } catch let failure as Migrator.Failure {
            #expect(failure.description.contains("9999_broken.sql"))
        }
        let leftovers = try await TestEnvironment.withConnection(to: urls.owner, logger: logger) { connection in
            try await connection.query("SELECT count(*) FROM pg_tables WHERE tablename = 'half_done'", logger: logger).decode(Int.self).collect()
        }
        #expect(leftovers == [0])
    }

    @Test("serve's preflight refuses a schema that is behind, naming the command to run")
    func preflightBehind() async throws {
        let urls = try await TestPostgres.shared.makeEmptyDatabase()
        _ = try await Migrator(migrations: Array(Migration.all.prefix(1)), logger: logger).run(url: urls.owner)
        do {
            try await Preflight.check(urls.application, logger: logger)
            Issue.record("preflight accepted a schema that is behind")
        } catch let failure as Preflight.Failure {
            #expect(failure.description.contains("switchyard migrate"))
        }
        _ = try await Migrator(logger: logger).run(url: urls.owner)
        try await Preflight.check(urls.application, logger: logger)
    }

    @Test("serve's preflight refuses to connect as the schema owner (it bypasses nothing, but owns the tables)")
    func preflightOwner() async throws {
        let environment = try await TestEnvironment.make()
        await #expect(throws: Preflight.Failure.self) {
            try await Preflight.check(environment.ownerURL, logger: logger)
        }
    }

    @Test("SchemaStatus: behind, current, ahead")
    func schemaStatus() {
        let migrations = [Migration(version: 1, name: "0001_a.sql", sql: "SELECT 1"), Migration(version: 2, name: "0002_b.sql", sql: "SELECT 2")]
        #expect(SchemaStatus.evaluate(applied: nil, migrations: migrations) == .behind(databaseVersion: 0, requiredVersion: 2))
        #expect(SchemaStatus.evaluate(applied: [1], migrations: migrations) == .behind(databaseVersion: 1, requiredVersion: 2))
        #expect(SchemaStatus.evaluate(applied: [1, 2], migrations: migrations) == .current)
        #expect(SchemaStatus.evaluate(applied: [1, 2, 3], migrations: migrations) == .ahead(databaseVersion: 3, knownVersion: 2))
    }

    @Test("a job's kind is checked by the database as the regular expression did: a lowercase letter, then letters, digits, _ . -, 63 at most")
    func jobKindRule() async throws {
        let urls = try await TestPostgres.shared.makeEmptyDatabase()
        _ = try await Migrator(logger: logger).run(url: urls.owner)
        let valid = ["a", "destination.deliver", "oauth_refresh-2", "sync.run", String(repeating: "k", count: 63)]
        let invalid = ["", "A", "Sync.run", "1abc", "_x", ".x", "bad kind", "kind!", "ké", "k\u{0301}", "a/b", String(repeating: "k", count: 64)]
        try await TestEnvironment.withConnection(to: urls.owner, logger: logger) { connection in
            let tenant = UUID()
            try await connection.query("INSERT INTO tenants (id, slug, name) VALUES (\(tenant), 'kinds', 'Kinds')", logger: logger)
            for kind in valid + invalid {
                let accepted: Bool
                do {
                    try await connection.query("INSERT INTO jobs (tenant_id, id, kind) VALUES (\(tenant), \(UUID()), \(kind))", logger: logger)
                    accepted = true
                } catch let error as PSQLError {
                    #expect(error.serverInfo?[.sqlState] == "23514", "\(kind): \(String(reflecting: error))")
                    accepted = false
                }
                #expect(accepted == valid.contains(kind), "\(kind)")
            }
        }
    }

    @Test("migration files are numbered, unique and in order")
    func numbering() {
        let versions = Migration.all.map(\.version)
        #expect(versions == versions.sorted())
        #expect(Set(versions).count == versions.count)
        #expect(Migration.all.allSatisfy { $0.name.hasSuffix(".sql") })
    }
}

@Suite("SQL statement splitter")
struct SQLStatementSplitterTests {
    @Test("splits on semicolons outside quotes, identifiers, dollar quotes and comments")
    func split() {
        let sql = """
            -- a comment; with a semicolon
            CREATE TABLE "odd;name" (note text DEFAULT 'a;b');
            /* block; comment */
            CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $fn$ BEGIN RETURN 1; END $fn$;
            DO $$ BEGIN PERFORM 'x;y'; END $$;
            SELECT 'it''s; fine'
            """
        let statements = SQLStatementSplitter.split(sql)
        #expect(statements.count == 4)
        #expect(statements[0].hasPrefix("CREATE TABLE \"odd;name\""))
        #expect(statements[1].hasSuffix("$fn$ BEGIN RETURN 1; END $fn$"))
        #expect(statements[2] == "DO $$ BEGIN PERFORM 'x;y'; END $$")
        #expect(statements[3] == "SELECT 'it''s; fine'")
    }

    @Test("empty statements and trailing comments produce nothing")
    func empty() {
        #expect(SQLStatementSplitter.split(";;\n-- only a comment\n").isEmpty)
    }
}
