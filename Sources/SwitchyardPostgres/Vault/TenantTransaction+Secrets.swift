import Foundation
import NIOCore
import PostgresNIO
import SwitchyardCore
import SwitchyardVault

extension TenantTransaction {
    /// Seals `plaintext` as the value of `field` in row `row`, under the tenant's active data key.
    ///
    /// Counts the encryption on the key's row in this transaction (a rolled-back write un-counts it too),
    /// and retires the key for a new one when it reaches its budget (REQUIREMENTS EN-5).
    public func seal(_ plaintext: some Collection<UInt8>, field: SealedField, row: UUID) async throws -> SealedSecret {
        let key = try await dataKeyForSealing()
        return try key.seal(plaintext, for: binding(field, row: row))
    }

    /// Opens the value of `field` in row `row`; fails if the bytes were sealed for any other place.
    /// Bytes that do not open throw `SecretUnreadable`.
    public func open(_ sealed: some Collection<UInt8>, field: SealedField, row: UUID) async throws -> [UInt8] {
        try await vault.open(sealed, field: field, row: row, tenant: tenantID) { try await wrappedDataKey($0) }
    }

    /// Retires the tenant's active data key and creates a new one. Secrets sealed with the old key keep
    /// opening until they are re-sealed (`Database.resealRetiringDataKeys`), after which it is deleted.
    @discardableResult
    public func rotateDataKey() async throws -> UUID {
        try await query(
            "UPDATE tenant_data_keys SET state = 'retiring', retired_at = now() WHERE tenant_id = \(tenantID.rawValue) AND state = 'active'"
        )
        return try await insertActiveDataKey(encryptions: 0).id
    }

    /// The data key this tenant's new secrets are sealed with, creating the first one when missing.
    func dataKeyForSealing() async throws -> DataKey {
        let rows = try await query(
            """
            UPDATE tenant_data_keys SET encryptions = encryptions + 1
             WHERE tenant_id = \(tenantID.rawValue) AND state = 'active'
            RETURNING id, wrapped_key, kek_id, kek_version, encryptions
            """
        ).collect()
        guard let first = rows.first else {
            return try await insertActiveDataKey(encryptions: 1)
        }
        let row = NamedRow(first, table: "tenant_data_keys")
        let id: UUID = try row("id")
        if try row("encryptions", as: Int64.self) > vault.policy.encryptionBudget {
            logger.notice("data key reached its encryption budget; rotating", metadata: ["data_key": "\(id)"])
            try await query(
                "UPDATE tenant_data_keys SET state = 'retiring', retired_at = now() WHERE tenant_id = \(tenantID.rawValue) AND id = \(id)"
            )
            let key = try await insertActiveDataKey(encryptions: 1)
            try await recordAudit(
                NewAuditEvent(
                    actor: "system",
                    action: "data_key.rotated",
                    resourceType: "data_key",
                    resourceID: key.id.lowercasedString,
                    requestID: nil,
                    details: ["reason": "encryption budget reached", "retired": id.lowercasedString]
                )
            )
            return key
        }
        let wrapped = try row.wrappedKey()
        return try await vault.dataKey(id, tenant: tenantID) { wrapped }
    }

    private func insertActiveDataKey(encryptions: Int64) async throws -> DataKey {
        try await DataKeyRows.insertActive(tenant: tenantID, encryptions: encryptions, vault: vault, connection: connection, logger: logger)
    }

    private func wrappedDataKey(_ id: UUID) async throws -> WrappedDataKey? {
        try await query("SELECT wrapped_key, kek_id, kek_version FROM tenant_data_keys WHERE tenant_id = \(tenantID.rawValue) AND id = \(id)")
            .collect().first
            .map { try NamedRow($0, table: "tenant_data_keys").wrappedKey() }
    }

    private func binding(_ field: SealedField, row: UUID) -> SecretBinding {
        SecretBinding(tenant: tenantID, table: field.table, row: row, field: field.column)
    }
}
