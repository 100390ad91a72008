import Foundation
import Logging
import NIOCore
import PostgresNIO
import SwitchyardCore
import SwitchyardVault

/// A stored secret that `switchyard keys verify` could not open.
public struct UnopenedSecret: Sendable, CustomStringConvertible {
    /// `nil` for a platform secret (the operator's own OAuth apps).
    public let tenant: TenantID?
    public let table: String
    public let field: String
    public let row: UUID
    public let cause: String

    public var description: String {
        "\(tenant.map { "tenant \($0)" } ?? "platform")\t\(table).\(field)\trow \(row.lowercasedString)\t\(cause)"
    }
}

/// What `verifySecrets` found: how many secrets opened, and the ones that did not.
public struct SecretVerification: Sendable {
    public var opened = 0
    public var unopened: [UnopenedSecret] = []
}

extension Database {
    /// Opens every stored secret, tenant by tenant and field by field (`batchSize` rows per transaction), and the
    /// platform's own; reports those that do not open instead of stopping at the first. Reads only.
    public func verifySecrets(batchSize: Int = 500, logger: Logger) async throws -> SecretVerification {
        var result = SecretVerification()
        let tenants = try await withOperator(logger: logger) { try await $0.query("SELECT id FROM tenants ORDER BY id").decode(UUID.self).collect() }
        for tenant in tenants.map(TenantID.init) {
            for field in SealedField.all {
                var after = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
                while true {
                    let (last, opened, unopened) = try await withTenant(tenant, logger: logger) { transaction in
                        try await transaction.verify(field, after: after, limit: batchSize)
                    }
                    result.opened += opened
                    result.unopened += unopened
                    guard let last else { break }
                    after = last
                }
            }
        }
        let platform = try await withOperator(logger: logger) { try await $0.verifyPlatformSecrets() }
        result.opened += platform.opened
        result.unopened += platform.unopened
        return result
    }
}

extension TenantTransaction {
    /// Opens up to `limit` secrets of `field` with row ids after `after`; returns the last row id (`nil` when
    /// there were none), how many opened and those that did not.
    func verify(_ field: SealedField, after: UUID, limit: Int) async throws -> (last: UUID?, opened: Int, unopened: [UnopenedSecret]) {
        let select: PostgresQuery = """
            SELECT \(unescaped: field.rowIDColumn), \(unescaped: field.column) FROM \(unescaped: field.table)
             WHERE tenant_id = \(tenantID.rawValue) AND \(unescaped: field.rowIDColumn) > \(after) ORDER BY \(unescaped: field.rowIDColumn) LIMIT \(limit)
            """
        let rows = try await query(select).decode((UUID, ByteBuffer).self).collect()
        var opened = 0
        var unopened: [UnopenedSecret] = []
        for (row, sealed) in rows {
            do {
                _ = try await open(sealed.readableBytesView, field: field, row: row)
                opened += 1
            } catch let error as SecretUnreadable {
                unopened.append(UnopenedSecret(tenant: tenantID, table: field.table, field: field.column, row: row, cause: "\(error.cause)"))
            } catch let error as VaultError {
                unopened.append(UnopenedSecret(tenant: tenantID, table: field.table, field: field.column, row: row, cause: "\(error)"))
            }
        }
        return (rows.last?.0, opened, unopened)
    }
}

extension OperatorTransaction {
    func verifyPlatformSecrets() async throws -> (opened: Int, unopened: [UnopenedSecret]) {
        let rows = try await query("SELECT id, client_secret, wrapped_key, kek_id, kek_version FROM platform_oauth_apps ORDER BY id")
            .collect()
        var opened = 0
        var unopened: [UnopenedSecret] = []
        for result in rows {
            let row = NamedRow(result, table: Self.platformTable)
            let id: UUID = try row("id")
            let sealed: ByteBuffer = try row("client_secret")
            do {
                _ = try await vault.openPlatformSecret(
                    sealed.readableBytesView,
                    wrapped: try row.wrappedKey(),
                    table: Self.platformTable,
                    row: id,
                    field: "client_secret"
                )
                opened += 1
            } catch let error as VaultError {
                unopened.append(UnopenedSecret(tenant: nil, table: Self.platformTable, field: "client_secret", row: id, cause: "\(error)"))
            }
        }
        return (opened, unopened)
    }
}
