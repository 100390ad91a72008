import Foundation
import OpenAPIRuntime
import SwitchyardAPIContract
import SwitchyardCore
import SwitchyardPostgres
import SwitchyardSyncs

// A sync definition has one wire shape: the engine's snake_case Codable form (`SwitchyardSyncs.SyncDefinition`) is the
// document's `SyncDefinition` schema. The two convert by a JSON round trip rather than field by field, so that a member
// added to one and not the other fails loudly (an unknown field in the closed generated type, a missing one in the
// engine's) instead of being dropped.
enum SyncWire {
    static func convert<Output: Decodable>(_ value: some Encodable, to type: Output.Type) throws -> Output {
        try JSONDecoder().decode(Output.self, from: JSONEncoder().encode(value))
    }

    /// A stored value the response must show; one that does not convert is our bug.
    static func shown<Output: Decodable>(_ value: some Encodable, as type: Output.Type, what: String) throws -> Output {
        do {
            return try convert(value, to: type)
        } catch {
            throw SwitchyardError.internal("\(what) does not convert to the document's \(Output.self): \(error)")
        }
    }

    /// A JSON text column (`checkpoint`) as the document's free-form value; `nil` is JSON null.
    static func value(_ text: String?, column: String, row: UUID? = nil) throws -> OpenAPIValueContainer {
        guard let text else { return OpenAPIValueContainer(nilLiteral: ()) }
        return try JSONText.decode(OpenAPIValueContainer.self, text, column: column, row: row)
    }

    /// An engine enum as the generated enum of the same raw values.
    static func same<Output: RawRepresentable<String>>(_ value: some RawRepresentable<String>, as type: Output.Type) throws -> Output {
        guard let converted = Output(rawValue: value.rawValue) else {
            throw SwitchyardError.internal("'\(value.rawValue)' is not a value of the document's \(Output.self)")
        }
        return converted
    }
}

/// `PUT /v1/providers/{provider_id}/syncs/{sync_name}`: a sync definition. The generated type refuses unknown fields
/// (every object of the definition is closed in the document); the engine's model checks the JSON pointers as it
/// decodes, and `validate(connectionParameters:)` the rest, once the provider is known.
extension Components.Schemas.SyncDefinition: StrictJSONBody {
    /// The POST body a sync sends is the tenant's own JSON, where `null` is data.
    static let freeFormFields: Set<String> = ["request.body"]

    func validate() throws(SwitchyardError) {
        _ = try definition
    }

    /// The definition as the engine has it; a malformed JSON pointer is a 422 naming its field.
    var definition: SwitchyardSyncs.SyncDefinition {
        get throws(SwitchyardError) {
            do {
                return try SyncWire.convert(self, to: SwitchyardSyncs.SyncDefinition.self)
            } catch let error as DecodingError {
                throw .validation(Self.describe(error))
            } catch {
                throw .internal("a sync definition does not convert to the engine's model: \(error)")
            }
        }
    }
}

extension Components.Schemas.Sync {
    /// A definition as the API shows it: its fields, its provider, and whose it is.
    init(_ sync: ResolvedSync) throws {
        let definition = try SyncWire.shown(
            sync.definition,
            as: Components.Schemas.SyncDefinition.self,
            what: "the sync '\(sync.definition.name)' of '\(sync.provider)'"
        )
        self.init(
            provider: sync.provider,
            name: definition.name,
            model: definition.model,
            description: definition.description,
            request: definition.request,
            pagination: definition.pagination,
            records: definition.records,
            incremental: definition.incremental,
            frequencySeconds: definition.frequencySeconds ?? sync.definition.frequencySeconds,
            webhooks: definition.webhooks ?? [],
            version: sync.version,
            builtIn: sync.builtIn,
            updatedAt: sync.updatedAt
        )
    }
}

extension Components.Schemas.SyncRun {
    init(_ run: SyncRunRecord) throws {
        self.init(
            id: run.id.lowercasedString,
            integrationId: run.integrationID.lowercasedString,
            sync: run.syncName,
            model: run.model,
            definitionVersion: run.definitionVersion,
            mode: try SyncWire.same(run.mode, as: Components.Schemas.SyncRunMode.self),
            trigger: try SyncWire.same(run.trigger, as: TriggerPayload.self),
            status: try SyncWire.same(run.status, as: StatusPayload.self),
            pages: run.pages,
            added: run.added,
            updated: run.updated,
            unchanged: run.unchanged,
            deleted: run.deleted,
            checkpoint: try SyncWire.value(run.checkpoint, column: "sync_runs.checkpoint", row: run.id),
            error: run.error,
            createdAt: run.createdAt,
            startedAt: run.startedAt,
            finishedAt: run.finishedAt
        )
    }
}

extension Components.Schemas.SyncRunList {
    init(_ page: Page<SyncRunRecord>) throws {
        self.init(data: try page.items.map(Components.Schemas.SyncRun.init), nextCursor: page.nextCursor?.token)
    }
}

extension Components.Schemas.IntegrationSync {
    /// One sync of the integration's provider with the integration's state of it (`nil`: never touched, so disabled
    /// with the definition's frequency) and its newest run.
    init(_ sync: ResolvedSync, state: IntegrationSyncRecord?, integration: IntegrationRecord, lastRun: SyncRunRecord?) throws {
        let enabled = state?.enabled ?? false
        let paused = state?.paused ?? false
        let status: StatusPayload
        let reason: String?
        switch (enabled, paused, integration.status) {
        case (false, _, _):
            (status, reason) = (.disabled, nil)
        case (true, true, _):
            (status, reason) = (.paused, "Paused through the API; POST .../resume lets it run on schedule again.")
        case (true, false, .needsReauth):
            (status, reason) = (.needsReauth, "The integration lost its connection (needs_reauth); the sync resumes once it is reconnected.")
        case (true, false, .connected):
            (status, reason) = (.scheduled, nil)
        case (true, false, let other):
            (status, reason) = (.integrationNotConnected, "The integration is \(other.rawValue), not connected; the sync runs once it is connected.")
        }
        self.init(
            name: sync.definition.name,
            model: sync.definition.model,
            enabled: enabled,
            paused: paused,
            frequencySeconds: state?.frequencySeconds ?? sync.definition.frequencySeconds,
            frequencyOverride: state?.frequencySeconds,
            checkpoint: try SyncWire.value(state?.checkpoint, column: "integration_syncs.checkpoint", row: integration.id),
            nextRunAt: enabled && !paused ? state?.nextRunAt : nil,
            status: status,
            pauseReason: reason,
            lastRun: try lastRun.map {
                try SyncWire.shown(Components.Schemas.SyncRun($0), as: LastRunPayload.self, what: "the sync run \($0.id.lowercasedString)")
            }
        )
    }
}

/// `PATCH /v1/integrations/{integration_id}/syncs/{sync_name}`: the generated body, and whether it goes back to the
/// definition's frequency. The generated type reads `"frequency_seconds": null` and a body without it alike, as
/// `WebhookSourcePatch` explains.
struct IntegrationSyncPatch: StrictJSONBody {
    static let nullableFields: Set<String> = ["frequency_seconds"]
    let update: Components.Schemas.IntegrationSyncUpdate
    /// `"frequency_seconds": null`; leaving it out keeps the frequency.
    let clearsFrequency: Bool

    init(from decoder: any Decoder) throws {
        update = try Components.Schemas.IntegrationSyncUpdate(from: decoder)
        let container = try decoder.container(keyedBy: Components.Schemas.IntegrationSyncUpdate.CodingKeys.self)
        clearsFrequency = try container.contains(.frequencySeconds) && container.decodeNil(forKey: .frequencySeconds)
    }

    static func precheck(_ members: [String: Any]) throws(SwitchyardError) {
        guard !members.isEmpty else { throw .validation("Send at least one of: enabled, frequency_seconds.") }
    }

    func validate() throws(SwitchyardError) {
        if let frequencySeconds = update.frequencySeconds, !(60...2_678_400).contains(frequencySeconds) {
            throw .validation("frequency_seconds must be from 60 to 2678400 (31 days), or null for the definition's.")
        }
    }
}

/// `POST /v1/integrations/{integration_id}/syncs/{sync_name}/trigger` (the body is optional).
extension Components.Schemas.SyncTrigger: StrictJSONBody {}
