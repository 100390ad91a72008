import Logging
import PostgresNIO
import SwitchyardCore
import SwitchyardPostgres

extension TestEnvironment {
    /// Runs `body` on a connection of the schema owner (the role `migrate` uses), for tests that
    /// arrange what the application role cannot: break a grant, edit `schema_migrations`.
    @discardableResult
    public func withOwnerConnection<Result: Sendable>(_ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        try await Self.withConnection(to: ownerURL, logger: logger, body)
    }

    public static func withConnection<Result: Sendable>(
        to url: DatabaseURL,
        logger: Logger,
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        let connection = try await PostgresConnection.connect(configuration: try .init(url), id: 1, logger: logger)
        do {
            let result = try await body(connection)
            try await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw error
        }
    }
}
