import Foundation
import Logging
import SwitchyardCore
import SwitchyardPostgres

/// Real-time updates: an inbound webhook event whose type an enabled sync maps writes (or deletes) that record
/// through the same writer as the sync's pages, so the change feed sees it; a `trigger` mapping starts an
/// incremental run instead. Called by webhook processing, in its transaction.
public enum SyncWebhooks {
    /// What one mapped event did to one sync.
    public enum Applied: Sendable, Equatable {
        case written(model: String, added: Int, updated: Int)
        case deleted(model: String)
        case unchanged(model: String)
        case triggered(run: UUID)
        /// The payload lacks the record or its id where the mapping says.
        case unusable(String)
    }

    public static func apply(
        eventType: String,
        body: String,
        json: JSONValue?,
        integration: IntegrationRecord,
        in transaction: TenantTransaction
    ) async throws -> [Applied] {
        let mapped = try await SyncDirectory.syncs(provider: integration.provider, in: transaction).compactMap { sync in
            sync.definition.webhooks.first { $0.eventType == eventType }.map { (sync, $0) }
        }
        guard !mapped.isEmpty else { return [] }
        var applied: [Applied] = []
        for (sync, mapping) in mapped {
            let definition = sync.definition
            func recordChanges(added: Int = 0, updated: Int = 0, deleted: Int = 0) async throws {
                try await SyncRunEnd.recordChanges(
                    integration: integration.id,
                    model: definition.model,
                    sync: definition.name,
                    run: nil,
                    added: added,
                    updated: updated,
                    deleted: deleted,
                    in: transaction
                )
            }
            guard try await transaction.integrationSync(integration: integration.id, name: definition.name)?.enabled == true else { continue }
            let idPath = mapping.record.tokens + definition.records.id.tokens
            let deletes =
                mapping.action == .delete
                || mapping.deleteWhen.map { condition in json.flatMap { condition.pointer.value(in: $0)?.text } == condition.equals } == true
            switch mapping.action {
            case .trigger:
                let started = try await SyncRunStart.start(sync, integration: integration, mode: nil, trigger: .webhook, in: transaction)
                applied.append(.triggered(run: started.run.id))
            case .upsert where !deletes:
                var write = SyncPageWrite(
                    integration: integration.id,
                    model: definition.model,
                    document: body,
                    records: mapping.record.tokens,
                    id: definition.records.id.tokens
                )
                write.allowsSingleRecord = true
                let facts = try await transaction.writeSyncPage(write)
                guard facts.recordsType == "object" || facts.recordsType == "array", facts.invalidRecord == nil, facts.recordCount > 0 else {
                    applied.append(.unusable("the '\(eventType)' event has no record with an id at '\(mapping.record.text)'"))
                    continue
                }
                let outcome = facts.outcome
                guard outcome.added + outcome.updated > 0 else {
                    applied.append(.unchanged(model: definition.model))
                    continue
                }
                try await recordChanges(added: outcome.added, updated: outcome.updated)
                applied.append(.written(model: definition.model, added: outcome.added, updated: outcome.updated))
            case .upsert, .delete:
                guard try await transaction.deleteSyncRecord(named: idPath, in: body, integration: integration.id, model: definition.model) else {
                    applied.append(.unchanged(model: definition.model))
                    continue
                }
                try await recordChanges(deleted: 1)
                applied.append(.deleted(model: definition.model))
            }
        }
        return applied
    }
}
