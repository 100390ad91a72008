import PostgresNIO
import SwitchyardCore

/// Why PostgreSQL refused one item's statements while the transaction around it can go on: the item is at fault
/// (its data), not the database, so retrying the whole batch would fail the same way.
public struct ItemRefusedByDatabase: Error, Sendable, CustomStringConvertible {
    /// The server's message and SQLSTATE, in words an operator can act on; never the statement or its values.
    public let description: String
}

extension TenantTransaction {
    /// Runs `body` inside a savepoint. When PostgreSQL refuses one of its statements for the data it was given
    /// (`isDeterministicDatabaseFailure`), its work is rolled back
    /// to the savepoint, the transaction stays usable, and `ItemRefusedByDatabase` is thrown; anything else
    /// (a lost connection, a timeout, a deadlock) is rethrown as it is, for the whole transaction to fail.
    public func isolating<Result: Sendable>(_ body: () async throws -> Result) async throws -> Result {
        try await query("SAVEPOINT item")
        let result: Result
        do {
            result = try await body()
        } catch  where isDeterministicDatabaseFailure(error) {
            try await query("ROLLBACK TO SAVEPOINT item")
            throw ItemRefusedByDatabase(description: operatorDescription(of: error) ?? "PostgreSQL refused the statement")
        }
        try await query("RELEASE SAVEPOINT item")
        return result
    }
}
