import Logging
import PostgresNIO
import SwitchyardCore

/// Start-up checks of `serve`: the database answers, the role may serve tenants (REQUIREMENTS PG-1)
/// and the schema is the one this build needs. Each failure says what to do.
public enum Preflight {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public static func check(_ url: DatabaseURL, logger: Logger) async throws {
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(configuration: try .init(url), id: 1, logger: logger)
        } catch {
            throw Failure(
                description:
                    "cannot connect to SWITCHYARD_DATABASE_URL (\(url.host):\(url.port)/\(url.database) as \(url.username)): \(loggableDescription(of: error))"
            )
        }
        defer { Task { try? await connection.close() } }
        let reader = CatalogReader(connection: connection, logger: logger)
        let role = try await reader.currentRole()
        if let violation = role.isolationViolation {
            throw Failure(
                description:
                    "refusing to serve: \(violation). Connect as a member of switchyard_app, e.g. CREATE ROLE switchyard_api LOGIN PASSWORD '...' IN ROLE switchyard_app"
            )
        }
        switch SchemaStatus.evaluate(applied: try await reader.appliedMigrationVersions()) {
        case .current:
            break
        case .ahead(let database, let known):
            logger.warning("the database schema (\(database)) is newer than this build (\(known)); continuing")
        case .behind(let database, let required):
            throw Failure(
                description: "the database schema is at version \(database) but this build needs \(required): run `switchyard migrate` first"
            )
        }
    }
}
