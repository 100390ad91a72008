import Foundation
import Logging
import NIOCore
import PostgresNIO
import SwitchyardCore
import SwitchyardVault

/// Counts of data keys by key-encryption-key version and state, for `switchyard keys status`.
public struct DataKeyCount: Sendable, Equatable {
    public let kek: KEKVersion
    public let state: String
    public let count: Int
}

/// What one maintenance pass did; `remaining` is work left for the next pass (rows locked by others).
public struct MaintenanceProgress: Sendable, Equatable {
    public var done: Int
    public var remaining: Int

    public init(done: Int = 0, remaining: Int = 0) {
        self.done = done
        self.remaining = remaining
    }
}

extension Database {
    /// Keys wrapped by each KEK version, by state: the tenants' data keys (`active`, `retiring`) and the platform
    /// secrets' own keys (`platform`). A version with none is safe to retire.
    public func dataKeyCounts(logger: Logger) async throws -> [DataKeyCount] {
        try await withOperator(logger: logger) { transaction in
            try await transaction.query(
                """
                SELECT kek_id, kek_version, state, count(*)::int FROM tenant_data_keys GROUP BY 1, 2, 3
                UNION ALL
                SELECT kek_id, kek_version, 'platform', count(*)::int FROM platform_oauth_apps GROUP BY 1, 2
                ORDER BY 1, 2, 3
                """
            ).decode((String, Int, String, Int).self).collect()
                .map { DataKeyCount(kek: KEKVersion(keyID: $0.0, version: $0.1), state: $0.2, count: $0.3) }
        }
    }

    /// Moves every data key to the provider's primary KEK version (REQUIREMENTS EN-3), `batchSize` keys per
    /// transaction. Online: each key is unwrapped and wrapped again in memory and updated in place, so
    /// readers see either wrapping, both of which open. Resumable: it only ever picks keys not yet moved.
    public func rewrapDataKeys(batchSize: Int = 100, logger: Logger, onBatch: (Int) -> Void = { _ in }) async throws -> MaintenanceProgress {
        let primary = try await vault.provider.primaryVersion()
        var progress = MaintenanceProgress()
        while true {
            let moved = try await withOperator(logger: logger) { transaction in
                let rows = try await transaction.query(
                    """
                    SELECT tenant_id, id, wrapped_key, kek_id, kek_version FROM tenant_data_keys
                     WHERE NOT (kek_id = \(primary.keyID) AND kek_version = \(primary.version))
                     ORDER BY tenant_id, id LIMIT \(batchSize) FOR UPDATE SKIP LOCKED
                    """
                ).collect()
                for result in rows {
                    let row = NamedRow(result, table: "tenant_data_keys")
                    let (tenant, id): (UUID, UUID) = (try row("tenant_id"), try row("id"))
                    let context = Vault.context(tenant: TenantID(tenant), dataKeyID: id)
                    let old = try row.wrappedKey()
                    let material = try await vault.provider.unwrap(old, context: context)
                    let new = try await vault.provider.wrap(material, context: context)
                    try await transaction.query(
                        """
                        UPDATE tenant_data_keys SET wrapped_key = \(ByteBuffer(bytes: new.ciphertext)), kek_id = \(new.kek.keyID), kek_version = \(new.kek.version)
                         WHERE tenant_id = \(tenant) AND id = \(id)
                        """
                    )
                }
                return rows.count
            }
            let movedPlatform = try await withOperator(logger: logger) { transaction in
                try await transaction.rewrapPlatformSecrets(to: primary, batchSize: batchSize)
            }
            guard moved + movedPlatform > 0 else { break }
            progress.done += moved + movedPlatform
            onBatch(progress.done)
        }
        if progress.done > 0 {
            try await withOperator(logger: logger) { transaction in
                try await transaction.recordPlatformAudit(
                    NewAuditEvent(
                        actor: "operator",
                        action: "kek.rewrapped",
                        resourceType: "keyring",
                        resourceID: primary.description,
                        requestID: nil,
                        details: ["data_keys": "\(progress.done)"]
                    )
                )
            }
        }
        progress.remaining = try await withOperator(logger: logger) { transaction in
            try await transaction.query(
                """
                SELECT (SELECT count(*) FROM tenant_data_keys WHERE NOT (kek_id = \(primary.keyID) AND kek_version = \(primary.version)))::int
                     + (SELECT count(*) FROM platform_oauth_apps WHERE NOT (kek_id = \(primary.keyID) AND kek_version = \(primary.version)))::int
                """
            ).decode(Int.self).collect().first ?? 0
        }
        return progress
    }

    /// Re-seals secrets sealed with retiring data keys under their tenant's active key, then deletes each
    /// retiring key that no secret needs any more. Safe to run from several processes at once.
    public func resealRetiringDataKeys(batchSize: Int = 100, logger: Logger) async throws -> MaintenanceProgress {
        let retiring = try await withOperator(logger: logger) { transaction in
            try await transaction.query(
                "SELECT tenant_id, id FROM tenant_data_keys WHERE state = 'retiring' ORDER BY retired_at LIMIT 1000"
            ).decode((UUID, UUID).self).collect()
        }
        var progress = MaintenanceProgress()
        for (tenant, dataKey) in retiring {
            // One tenant's trouble (a secret that does not open, a refused statement) leaves its key retiring for
            // the next pass and is logged; it does not stop the other tenants' keys from being re-sealed.
            var left = 0
            var unreadable: [UUID] = []
            do {
                while true {
                    let batch = try await withTenant(TenantID(tenant), logger: logger) { transaction in
                        try await transaction.reseal(from: dataKey, batchSize: batchSize, skipping: unreadable)
                    }
                    progress.done += batch.resealed
                    unreadable += batch.unreadable
                    left = batch.remaining
                    if batch.resealed == 0 && batch.unreadable.isEmpty || batch.remaining == 0 { break }
                }
            } catch {
                logger.warning(
                    "re-sealing a retiring data key failed; it is retried at the next pass",
                    metadata: [
                        "tenant_id": "\(tenant)", "data_key": "\(dataKey)", "error": "\(loggableDescription(of: error))",
                    ]
                )
                left = max(left, 1)
            }
            if !unreadable.isEmpty {
                logger.error(
                    "secrets that do not open keep a retiring data key alive; re-enter them (see `switchyard keys verify`)",
                    metadata: [
                        "tenant_id": "\(tenant)", "data_key": "\(dataKey)", "rows": "\(unreadable.map(\.uuidString).joined(separator: ","))",
                    ]
                )
            }
            progress.remaining += left
        }
        return progress
    }
}

extension TenantTransaction {
    /// One batch of re-sealing away from `retiring`, leaving out the rows in `skipping` (known not to open);
    /// deletes the key when nothing needs it any more. Returns how many secrets it re-sealed, the rows that
    /// did not open, and how many still use the key.
    func reseal(from retiring: UUID, batchSize: Int, skipping: [UUID] = []) async throws -> (resealed: Int, unreadable: [UUID], remaining: Int) {
        var resealed = 0
        var unreadable: [UUID] = []
        for field in SealedField.all {
            let select: PostgresQuery = """
                SELECT \(unescaped: field.rowIDColumn), \(unescaped: field.column) FROM \(unescaped: field.table)
                 WHERE tenant_id = \(tenantID.rawValue) AND \(unescaped: field.dataKeyColumn) = \(retiring) AND NOT (\(unescaped: field.rowIDColumn) = ANY(\(skipping)))
                 LIMIT \(batchSize) FOR UPDATE SKIP LOCKED
                """
            let rows = try await query(select).decode((UUID, ByteBuffer).self).collect()
            for (row, sealed) in rows {
                let plaintext: [UInt8]
                do {
                    plaintext = try await open(sealed.readableBytesView, field: field, row: row)
                } catch is SecretUnreadable {
                    unreadable.append(row)
                    continue
                }
                let new = try await seal(plaintext, field: field, row: row)
                let update: PostgresQuery = """
                    UPDATE \(unescaped: field.table) SET \(unescaped: field.column) = \(ByteBuffer(bytes: new.bytes)), \(unescaped: field.dataKeyColumn) = \(new.dataKeyID)
                     WHERE tenant_id = \(tenantID.rawValue) AND \(unescaped: field.rowIDColumn) = \(row)
                    """
                try await query(update)
                resealed += 1
            }
        }
        var remaining = 0
        for field in SealedField.all {
            let count: PostgresQuery =
                "SELECT count(*)::int FROM \(unescaped: field.table) WHERE tenant_id = \(tenantID.rawValue) AND \(unescaped: field.dataKeyColumn) = \(retiring)"
            remaining += try await query(count).decode(Int.self).collect().first ?? 0
        }
        if remaining == 0 {
            try await query("DELETE FROM tenant_data_keys WHERE tenant_id = \(tenantID.rawValue) AND id = \(retiring) AND state = 'retiring'")
        }
        return (resealed, unreadable, remaining)
    }
}

extension OperatorTransaction {
    /// One batch of moving platform secrets' own data keys to `primary`; returns how many moved.
    func rewrapPlatformSecrets(to primary: KEKVersion, batchSize: Int) async throws -> Int {
        let rows = try await query(
            """
            SELECT id, wrapped_key, kek_id, kek_version FROM platform_oauth_apps
             WHERE NOT (kek_id = \(primary.keyID) AND kek_version = \(primary.version))
             ORDER BY id LIMIT \(batchSize) FOR UPDATE SKIP LOCKED
            """
        ).collect()
        for result in rows {
            let row = NamedRow(result, table: Self.platformTable)
            let id: UUID = try row("id")
            let context = Vault.platformContext(table: Self.platformTable, row: id)
            let old = try row.wrappedKey()
            let new = try await vault.provider.wrap(try await vault.provider.unwrap(old, context: context), context: context)
            try await query(
                """
                UPDATE platform_oauth_apps SET wrapped_key = \(ByteBuffer(bytes: new.ciphertext)), kek_id = \(new.kek.keyID), kek_version = \(new.kek.version)
                 WHERE id = \(id)
                """
            )
        }
        return rows.count
    }
}
