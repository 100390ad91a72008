import Logging
import PostgresNIO
import SwitchyardCore
import SwitchyardTestSupport

extension TestEnvironment {
    /// How many rows of `table` each access mode sees as the application role: the tenant's, the operator's and the
    /// rate limiter's (`app.rate_limiter`).
    func rowsSeenByAccessMode(of table: String, tenant: TenantID) async throws -> [String: Int] {
        let logger = self.logger
        return try await TestEnvironment.withConnection(to: applicationURL, logger: logger) { connection in
            var seen: [String: Int] = [:]
            for (name, setting, value) in [
                ("tenant", "app.tenant_id", tenant.description), ("operator", "app.operator", "on"), ("limiter", "app.rate_limiter", "on"),
            ] {
                try await connection.query("BEGIN", logger: logger)
                try await connection.query("SELECT set_config(\(setting), \(value), true)", logger: logger)
                seen[name] = try await connection.query("SELECT count(*)::int FROM \(unescaped: table)", logger: logger).decode(Int.self).collect()
                    .first
                try await connection.query("COMMIT", logger: logger)
            }
            return seen
        }
    }
}
