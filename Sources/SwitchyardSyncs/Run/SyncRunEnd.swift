import Foundation
import SwitchyardCore
import SwitchyardPostgres

/// The end of a run, in the transaction that records it: delete detection (full runs), the integration's checkpoint,
/// and the `sync.completed` or `sync.failed` and `records.changed` events.
enum SyncRunEnd {
    /// Completes the run; `nil` when it had ended already.
    static func complete(_ run: SyncRunRecord, definition: SyncDefinition, in transaction: TenantTransaction) async throws -> SyncRunRecord? {
        guard let current = try await transaction.syncRun(run.id), current.status == .running else { return nil }
        // Only a full run that read every page knows what the provider no longer has.
        let deleted =
            run.mode == .full ? try await transaction.markUnseenSyncRecordsDeleted(run: run.id, integration: run.integrationID, model: run.model) : 0
        guard let finished = try await transaction.finishSyncRun(run.id, status: .succeeded, deleted: deleted) else { return nil }
        try await transaction.recordLastSyncRun(
            integration: run.integrationID,
            name: run.syncName,
            run: run.id,
            checkpoint: definition.incremental != nil ? finished.checkpoint : nil
        )
        try await transaction.recordEvent("sync.completed", integrationID: run.integrationID, json: summary(of: finished))
        try await recordChanges(of: finished, in: transaction)
        return finished
    }

    /// Fails the run with `error`, keeping every page it committed.
    static func fail(_ run: SyncRunRecord, error: String, in transaction: TenantTransaction) async throws {
        guard let finished = try await transaction.finishSyncRun(run.id, status: .failed, error: error) else { return }
        try await transaction.recordLastSyncRun(integration: run.integrationID, name: run.syncName, run: run.id, checkpoint: nil)
        var data = summary(of: finished)
        data["error"] = .string(error)
        try await transaction.recordEvent("sync.failed", integrationID: run.integrationID, json: data)
        // Pages committed before the failure changed records all the same.
        try await recordChanges(of: finished, in: transaction)
    }

    /// The run's `records.changed` event, when it changed any.
    private static func recordChanges(of run: SyncRunRecord, in transaction: TenantTransaction) async throws {
        guard run.added + run.updated + run.deleted > 0 else { return }
        try await recordChanges(
            integration: run.integrationID,
            model: run.model,
            sync: run.syncName,
            run: run.id,
            added: run.added,
            updated: run.updated,
            deleted: run.deleted,
            in: transaction
        )
    }

    /// `records.changed`: counts per model, never the records (the change feed has them).
    static func recordChanges(
        integration: UUID,
        model: String,
        sync: String?,
        run: UUID?,
        added: Int,
        updated: Int,
        deleted: Int,
        in transaction: TenantTransaction
    ) async throws {
        try await transaction.recordEvent(
            "records.changed",
            integrationID: integration,
            json: [
                "model": .string(model),
                "sync": sync.map(JSONValue.string) ?? .null,
                "sync_run_id": run.map { .string($0.lowercasedString) } ?? .null,
                "added": .number(Double(added)),
                "updated": .number(Double(updated)),
                "deleted": .number(Double(deleted)),
            ]
        )
    }

    private static func summary(of run: SyncRunRecord) -> [String: JSONValue] {
        [
            "sync": .string(run.syncName),
            "model": .string(run.model),
            "sync_run_id": .string(run.id.lowercasedString),
            "mode": .string(run.mode.rawValue),
            "pages": .number(Double(run.pages)),
            "added": .number(Double(run.added)),
            "updated": .number(Double(run.updated)),
            "unchanged": .number(Double(run.unchanged)),
            "deleted": .number(Double(run.deleted)),
        ]
    }
}
