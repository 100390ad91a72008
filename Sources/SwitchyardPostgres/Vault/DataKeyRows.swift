import Logging
import NIOCore
import PostgresNIO
import SwitchyardCore
import SwitchyardVault

/// Statements on `tenant_data_keys` shared by tenant and operator transactions.
enum DataKeyRows {
    /// Creates, wraps and stores a new active data key for `tenant`.
    static func insertActive(
        tenant: TenantID,
        encryptions: Int64,
        vault: Vault,
        connection: PostgresConnection,
        logger: Logger
    ) async throws -> DataKey {
        let (key, wrapped) = try await vault.makeDataKey(for: tenant)
        try await connection.guardedQuery(
            """
            INSERT INTO tenant_data_keys (tenant_id, id, wrapped_key, kek_id, kek_version, state, encryptions)
            VALUES (\(tenant.rawValue), \(key.id), \(ByteBuffer(bytes: wrapped.ciphertext)), \(wrapped.kek.keyID), \(wrapped.kek.version), 'active', \(encryptions))
            """,
            logger: logger
        )
        return key
    }
}

extension OperatorTransaction {
    /// Gives a new tenant its first data key, in the transaction that creates the tenant.
    func createDataKey(for tenant: TenantID) async throws {
        _ = try await DataKeyRows.insertActive(tenant: tenant, encryptions: 0, vault: vault, connection: connection, logger: logger)
    }
}
