import Foundation
import Hummingbird
import OpenAPIRuntime
import SwitchyardAPIContract
import SwitchyardCore
import SwitchyardPostgres

/// `GET /v1/integrations/{id}/records`: an integration's synced records of one model, as a change feed.
struct SyncRecordsController: Sendable {
    let database: Database
    let limits: LimitsConfiguration

    func addRoutes(to group: RouterGroup<TenantRequestContext>) {
        group.get("{integration_id}/records", use: changes)
    }

    @Sendable func changes(_ request: Request, context: TenantRequestContext) async throws -> Response {
        let id = try request.uuid("integration_id", context: context, resource: "The integration")
        // Checked after the integration is found: another tenant's integration is a 404 whatever the query says.
        let parsed = Result { try FeedQuery(request, limits: limits) }
        let (changes, query) = try await database.withTenant(context.tenantID, logger: context.logger) { transaction in
            guard try await transaction.integration(id) != nil else { throw SwitchyardError.notFound("The integration") }
            let query = try parsed.get()
            let changes = try await transaction.syncRecordChanges(
                integration: id,
                model: query.model,
                after: query.cursor,
                limit: query.limit,
                includeDeleted: query.includeDeleted,
                modifiedAfter: query.modifiedAfter
            )
            return (changes, query)
        }
        let page = Components.Schemas.SyncRecordChangePage(
            data: try changes.map(Components.Schemas.SyncRecord.init),
            nextCursor: (changes.last?.cursor ?? query.cursor)?.token
        )
        return try HTTPPayload.json(page).response
    }
}

/// The feed's query string: `model` (required), `cursor`, `limit`, `include_deleted`, `modified_after`; anything else
/// is 400.
struct FeedQuery: Sendable {
    let model: String
    let cursor: SyncChangeCursor?
    let limit: Int
    let includeDeleted: Bool
    /// Only records last modified after it (an RFC 3339 date-time).
    let modifiedAfter: Date?

    init(_ request: Request, limits: LimitsConfiguration) throws {
        try request.refuseUnknownQueryParameters(accepting: ["model", "cursor", "limit", "include_deleted", "modified_after"])
        let query = request.uri.queryParameters
        guard let model = query["model"].map(String.init), model.wholeMatch(of: /[a-z][a-z0-9_]{0,63}/) != nil else {
            throw SwitchyardError.invalidRequest("model is required: a lower-case name such as customers (a-z, 0-9, _; at most 64).")
        }
        self.model = model
        cursor = try query["cursor"].map { text in
            guard let cursor = SyncChangeCursor(token: String(text)) else {
                // The document's shape, numbers too large for a cursor: well-formed, but no page ever gave it.
                if text.wholeMatch(of: /[0-9]{1,20}-[0-9]{1,19}/) != nil {
                    throw SwitchyardError.validation("cursor is not a next_cursor of an earlier page: its numbers are out of range.")
                }
                throw SwitchyardError.invalidRequest("cursor must be a next_cursor of an earlier page.")
            }
            return cursor
        }
        switch query["include_deleted"] {
        case nil, "true": includeDeleted = true
        case "false": includeDeleted = false
        default: throw SwitchyardError.invalidRequest("include_deleted must be true or false.")
        }
        modifiedAfter = try WebhookEventsController.date(query["modified_after"], name: "modified_after")
        limit = try request.pageLimit(limits)
    }
}

extension Components.Schemas.SyncRecord {
    init(_ change: SyncRecordChange) throws {
        self.init(
            externalId: change.externalID,
            data: try JSONText.decode(OpenAPIObjectContainer.self, change.json, column: "sync_records.data"),
            deleted: change.deletedAt != nil,
            deletedAt: change.deletedAt,
            modifiedAt: change.modifiedAt
        )
    }
}
