import AsyncHTTPClient
import Foundation
import Logging
import PostgresNIO
import SwitchyardCore
import SwitchyardDevCluster
import SwitchyardPostgres
import SwitchyardTestSupport
import Testing

/// The README's "Running against your own PostgreSQL" recipe, run as written on a cluster of its own: the SQL as a
/// superuser, then `switchyard migrate` and `switchyard serve` with the URLs of the shell block (issue 11, item 5).
@Suite("README role recipe")
struct ReadmeRoleRecipeTests {
    static let readme = URL(filePath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appending(path: "README.md")

    @Test("the README's roles, migrate and serve work as written, with an owner that has no CREATEROLE")
    func recipeWorksAsWritten() async throws {
        let section = try Self.section("## Running against your own PostgreSQL")
        let sql = try Self.codeBlock("sql", in: section)
        let shell = try Self.codeBlock("sh", in: section)

        let logger = Logger(label: "switchyard.tests.readme-recipe")
        let directory = ClusterDirectory.scratch("readme-roles")
        // The recipe creates switchyard_owner itself, so this cluster's superuser has another name.
        let options = LocalPostgresCluster.Options(directory: directory, durable: false, superuser: "cluster_admin")
        try await LocalPostgresCluster.withStarted(options, removingFiles: true, logger: logger) { cluster in
            try await TestEnvironment.withConnection(to: cluster.ownerURL, logger: logger) { connection in
                for statement in sql.components(separatedBy: ";\n").map({ $0.trimmingCharacters(in: .whitespacesAndNewlines) })
                where !statement.isEmpty {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
            }
            let owner = try #require(Self.variable("SWITCHYARD_MIGRATION_DATABASE_URL", in: shell))
            let api = try #require(Self.variable("SWITCHYARD_DATABASE_URL", in: shell))
            let local = { (url: String) in url.replacingOccurrences(of: "@db/", with: "@127.0.0.1:\(cluster.port)/") }
            #expect(!(try await Self.ownerHasCreateRole(cluster, logger: logger)), "the recipe's owner should need no CREATEROLE")

            let environment = TestEnvironment.make(
                owner: try DatabaseURL(parsing: local(owner), variable: "owner"),
                application: try DatabaseURL(parsing: local(api), variable: "api")
            )
            let migrate = try SwitchyardProcess(
                ["migrate"],
                environment: environment,
                settings: [
                    "SWITCHYARD_MIGRATION_DATABASE_URL": local(owner)
                ]
            )
            #expect(try await migrate.waitForExit(timeout: .seconds(60)) == 0, "migrate failed: \(migrate.output.suffix(2000))")

            let port = try LocalPostgresCluster.freeLoopbackPort()
            let serve = try SwitchyardProcess(
                ["serve"],
                environment: environment,
                settings: [
                    "SWITCHYARD_DATABASE_URL": local(api), "SWITCHYARD_ADMIN_KEY": TestEnvironment.adminKey, "SWITCHYARD_HTTP_PORT": "\(port)",
                ]
            )
            let client = HTTPClient(eventLoopGroupProvider: .singleton)
            do {
                try await LoopbackHTTP(client: client, port: port).waitUntilReady(timeout: .seconds(30))
            } catch {
                try? await client.shutdown()
                Issue.record("serve did not become ready: \(serve.output.suffix(2000))")
                throw error
            }
            try await client.shutdown()
            serve.signal(SIGTERM)
            #expect(try await serve.waitForExit() == 0)
        }
    }

    static func ownerHasCreateRole(_ cluster: LocalPostgresCluster, logger: Logger) async throws -> Bool {
        try await TestEnvironment.withConnection(to: cluster.ownerURL, logger: logger) { connection in
            try await connection.query("SELECT rolcreaterole FROM pg_roles WHERE rolname = 'switchyard_owner'", logger: logger)
                .decode(Bool.self).collect().first ?? true
        }
    }

    static func section(_ heading: String) throws -> String {
        let text = try String(contentsOf: readme, encoding: .utf8)
        guard let start = text.range(of: "\n" + heading + "\n") else { throw TestFailure("README has no section \(heading)") }
        let rest = text[start.upperBound...]
        let end = rest.range(of: "\n## ")?.lowerBound ?? rest.endIndex
        return String(rest[..<end])
    }

    static func codeBlock(_ language: String, in text: String) throws -> String {
        guard let start = text.range(of: "```\(language)\n"), let end = text[start.upperBound...].range(of: "```") else {
            throw TestFailure("no ```\(language) block")
        }
        return String(text[start.upperBound..<end.lowerBound])
    }

    /// The value assigned to `name` in a shell block (`NAME=value`, up to the next blank).
    static func variable(_ name: String, in shell: String) -> String? {
        guard let range = shell.range(of: name + "=") else { return nil }
        return String(shell[range.upperBound...].prefix { !$0.isWhitespace })
    }
}
