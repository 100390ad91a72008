import Foundation
import SwitchyardCore
import SwitchyardPostgres

/// Starting a run: the run's record and its `sync.run` job, in the caller's transaction, or the run already queued
/// or running for that sync (two runs of one sync never overlap: the job's unique key is per integration and sync).
public enum SyncRunStart {
    public struct Started: Sendable {
        public let run: SyncRunRecord
        /// `false`: a run of this sync was already active, and `run` is that one.
        public let created: Bool
    }

    /// `mode` `nil` chooses: incremental when the sync has an incremental form and a checkpoint, full otherwise. An
    /// incremental run asked for without a checkpoint reads everything, so it runs as a full one.
    public static func start(
        _ sync: ResolvedSync,
        integration: IntegrationRecord,
        mode requested: SyncRunMode?,
        trigger: SyncRunTrigger,
        in transaction: TenantTransaction
    ) async throws -> Started {
        if requested == .incremental, sync.definition.incremental == nil {
            throw SwitchyardError.validation("The sync '\(sync.definition.name)' has no incremental form; ask for a full run.")
        }
        var state = try await transaction.integrationSync(integration: integration.id, name: sync.definition.name, locking: true)
        if state == nil {
            // First use by a trigger: the row keeps the run's checkpoint; the sync stays disabled (not scheduled).
            state = try await transaction.changeIntegrationSync(integration: integration.id, name: sync.definition.name, IntegrationSyncChange())
        }
        let checkpoint = sync.definition.incremental != nil ? state?.checkpoint : nil
        let mode: SyncRunMode = (requested ?? .incremental) == .incremental && checkpoint != nil ? .incremental : .full
        let payload = SyncRunPayload(integrationID: integration.id, sync: sync.definition.name)
        let enqueued = try await transaction.enqueue(try NewJob(payload, integrationID: integration.id, uniqueKey: payload.uniqueKey))
        guard enqueued.created else {
            guard let active = try await transaction.syncRun(enqueued.job.id) else {
                throw SwitchyardError.internal("sync.run job \(enqueued.job.id.lowercasedString) has no run")
            }
            return Started(run: active, created: false)
        }
        let run = try await transaction.insertSyncRun(
            NewSyncRun(
                id: enqueued.job.id,
                integrationID: integration.id,
                syncName: sync.definition.name,
                model: sync.definition.model,
                definitionVersion: sync.version,
                mode: mode,
                trigger: trigger,
                since: mode == .incremental ? checkpoint : nil
            )
        )
        return Started(run: run, created: true)
    }
}
