import Foundation
import Logging
import SwitchyardCore
import SwitchyardPostgres

/// The scheduler's part in syncs: every due sync of a connected integration gets a run (unless one is still
/// active) and its next run time. Run on every tick by the scheduler's leader; safe to run twice at once.
public enum SyncScheduling {
    /// Fires the due syncs; returns how many runs it started.
    @discardableResult
    public static func fireDue(database: Database, logger: Logger) async throws -> Int {
        var started = 0
        while true {
            let due = try await database.withQueue(logger: logger) { try await $0.dueSyncs(limit: 100) }
            var fired = 0
            for item in due {
                let didStart: Bool?
                do {
                    didStart = try await fire(item, database: database, logger: logger)
                } catch {
                    if Task.isCancelled { throw error }
                    // One sync that cannot start (a stored definition that no longer decodes, say) must not stop the
                    // others: it is looked at again in five minutes.
                    logger.warning(
                        "could not start a due sync run; trying again in 5 minutes",
                        metadata: [
                            "tenant_id": "\(item.tenantID)", "integration_id": "\(item.integrationID.lowercasedString)", "sync": "\(item.syncName)",
                            "error": "\(loggableDescription(of: error))",
                        ]
                    )
                    try? await database.withTenant(item.tenantID, logger: logger) {
                        try await $0.scheduleNextSyncRun(integration: item.integrationID, name: item.syncName, inSeconds: 300)
                    }
                    didStart = nil
                }
                if didStart != nil { fired += 1 }
                if didStart == true { started += 1 }
            }
            // Another scheduler holding some of them, or fewer than a batch: done for this tick.
            if due.count < 100 || fired == 0 { break }
        }
        if started > 0 { logger.info("started scheduled sync runs", metadata: ["count": "\(started)"]) }
        return started
    }

    /// Starts the due sync's run and moves its next run a frequency away; `nil` when it is no longer due (another
    /// scheduler took it, or the integration is not connected), else whether a new run was created.
    private static func fire(_ item: DueSync, database: Database, logger: Logger) async throws -> Bool? {
        try await database.withTenant(item.tenantID, logger: logger) { transaction -> Bool? in
            guard let state = try await transaction.lockDueIntegrationSync(integration: item.integrationID, name: item.syncName),
                let integration = try await transaction.integration(item.integrationID), integration.status == .connected
            else { return nil }
            guard let sync = try await SyncDirectory.sync(provider: integration.provider, name: item.syncName, in: transaction) else {
                // The definition is gone: stop scheduling it rather than looking at it every tick.
                try await transaction.changeIntegrationSync(
                    integration: item.integrationID,
                    name: item.syncName,
                    IntegrationSyncChange(enabled: false)
                )
                return nil
            }
            let started = try await SyncRunStart.start(sync, integration: integration, mode: nil, trigger: .schedule, in: transaction)
            try await transaction.scheduleNextSyncRun(
                integration: item.integrationID,
                name: item.syncName,
                inSeconds: state.frequencySeconds ?? sync.definition.frequencySeconds
            )
            return started.created
        }
    }
}
