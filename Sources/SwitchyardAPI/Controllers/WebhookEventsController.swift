import Foundation
import Hummingbird
import SwitchyardAPIContract
import SwitchyardCore
import SwitchyardPostgres
import SwitchyardWebhooks

/// `/v1/webhook-events`: the deliveries a tenant's sources recorded, and replaying them.
struct WebhookEventsController: Sendable {
    let database: Database
    let limits: LimitsConfiguration

    func addRoutes(to group: RouterGroup<TenantRequestContext>) {
        group.get(use: list)
        group.post("replay", use: replayMany)
        group.get("{event_id}", use: show)
        group.post("{event_id}/replay", use: replay)
    }

    @Sendable func list(_ request: Request, context: TenantRequestContext) async throws -> Response {
        let page = try request.pageRequest(limits, filters: ["source_id", "type", "status", "received_after", "received_before"])
        let filter = try Self.filter(request.uri.queryParameters)
        let result = try await database.withTenant(context.tenantID, logger: context.logger) { try await $0.webhookEvents(filter, page: page) }
        return try HTTPPayload.json(Components.Schemas.WebhookEventList(result)).response
    }

    @Sendable func show(_ request: Request, context: TenantRequestContext) async throws -> Response {
        let id = try request.uuid("event_id", context: context, resource: "The webhook event")
        guard let record = try await database.withTenant(context.tenantID, logger: context.logger, { try await $0.webhookEvent(id) }) else {
            throw SwitchyardError.notFound("The webhook event")
        }
        return try HTTPPayload.json(try Components.Schemas.WebhookEvent(record, detailed: true)).response
    }

    /// Processes the event again (its status goes back to `received`).
    @Sendable func replay(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try context.require(.write)
        let id = try request.uuid("event_id", context: context, resource: "The webhook event")
        let replayed = try await database.withTenant(context.tenantID, logger: context.logger) { transaction in
            let ids = try await WebhookReplay.replay(WebhookEventFilter(), ids: [id], limit: 1, in: transaction)
            if !ids.isEmpty { try await transaction.recordAudit(context.audit("webhook_event.replayed", "webhook_event", id.lowercasedString)) }
            return ids
        }
        guard !replayed.isEmpty else { throw SwitchyardError.notFound("The webhook event") }
        return try HTTPPayload.json(Components.Schemas.WebhookReplayResult(replayed: replayed.map(\.lowercasedString))).response
    }

    /// Replays every event matching the filter in the body (at most `limit`, default and cap 1000).
    @Sendable func replayMany(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try context.require(.write)
        let input = try Components.Schemas.WebhookReplayFilter.decode(from: try await request.collectJSONBody(limit: limits.maxBodyBytes))
        let filter = input.filter
        let replayed = try await database.withTenant(context.tenantID, logger: context.logger) { transaction in
            let ids = try await WebhookReplay.replay(filter, ids: nil, limit: input.limit ?? 1000, in: transaction)
            try await transaction.recordAudit(context.audit("webhook_event.replayed", "webhook_event", nil, ["count": "\(ids.count)"]))
            return ids
        }
        return try HTTPPayload.json(Components.Schemas.WebhookReplayResult(replayed: replayed.map(\.lowercasedString))).response
    }

    static func filter(_ query: Parameters) throws -> WebhookEventFilter {
        var filter = WebhookEventFilter(eventType: query["type"].map(String.init))
        if let text = query["source_id"] {
            guard let id = UUID(uuidString: String(text)) else { throw SwitchyardError.invalidRequest("source_id must be a UUID.") }
            filter.sourceID = id
        }
        if let status = query["status"] {
            guard let value = WebhookEventStatus(rawValue: String(status)) else {
                throw SwitchyardError.invalidRequest("status must be one of \(Self.statuses).")
            }
            filter.status = value
        }
        filter.receivedAfter = try date(query["received_after"], name: "received_after")
        filter.receivedBefore = try date(query["received_before"], name: "received_before")
        return filter
    }

    /// `received, processed, failed`.
    static let statuses = Components.Schemas.WebhookEventStatus.allCases.map(\.rawValue).joined(separator: ", ")

    static func date(_ text: Substring?, name: String) throws -> Date? {
        guard let text else { return nil }
        guard let date = RFC3339Timestamp.date(from: String(text)) else {
            throw SwitchyardError.invalidRequest("\(name) must be an RFC 3339 date-time such as 2026-11-29T12:00:00Z.")
        }
        return date
    }
}

/// `POST /v1/webhook-events/replay`.
extension Components.Schemas.WebhookReplayFilter: StrictJSONBody {
    /// An unknown `status` is refused before decoding, with the message the hand-written body gave.
    static func precheck(_ members: [String: Any]) throws(SwitchyardError) {
        if let status = members["status"] as? String, Components.Schemas.WebhookEventStatus(rawValue: status) == nil {
            throw .validation("status must be one of \(WebhookEventsController.statuses).")
        }
    }

    func validate() throws(SwitchyardError) {
        _ = try UUIDField.parse(ifPresent: sourceId, field: "source_id")
        if let limit, !(1...1000).contains(limit) { throw .validation("limit must be from 1 to 1000.") }
    }

    /// The events to replay; `source_id` was checked by `validate()`.
    var filter: WebhookEventFilter {
        WebhookEventFilter(
            sourceID: sourceId.flatMap(UUID.init(uuidString:)),
            eventType: _type,
            status: status.map(WebhookEventStatus.init),
            receivedAfter: receivedAfter,
            receivedBefore: receivedBefore
        )
    }
}

extension Components.Schemas.WebhookEvent {
    /// An event as the API shows it; the body and headers only when `detailed`.
    init(_ record: WebhookEventRecord, detailed: Bool) throws(SwitchyardError) {
        self.init(
            id: record.id.lowercasedString,
            sourceId: record.sourceID.lowercasedString,
            eventId: record.eventID,
            _type: record.eventType,
            integrationId: record.integrationID?.lowercasedString,
            status: .init(record.status),
            attempts: record.attempts,
            lastError: record.lastError,
            // Only verified deliveries are ever stored.
            verification: .verified,
            receivedAt: record.receivedAt,
            processedAt: record.processedAt
        )
        guard detailed else { return }
        headers = .init(additionalProperties: record.headers)
        let bytes = Array(record.body.readableBytesView)
        if let text = String(validating: bytes, as: UTF8.self) {
            body = text
            bodyEncoding = .utf8
        } else {
            body = Data(bytes).base64EncodedString()
            bodyEncoding = .base64
        }
    }
}

extension Components.Schemas.WebhookEventList {
    /// A page of events, without bodies and headers.
    init(_ page: Page<WebhookEventRecord>) throws(SwitchyardError) {
        var data: [Components.Schemas.WebhookEvent] = []
        for record in page.items { data.append(try Components.Schemas.WebhookEvent(record, detailed: false)) }
        self.init(data: data, nextCursor: page.nextCursor?.token)
    }
}

extension Components.Schemas.WebhookEventStatus {
    init(_ status: WebhookEventStatus) {
        switch status {
        case .received: self = .received
        case .processed: self = .processed
        case .failed: self = .failed
        }
    }
}

extension WebhookEventStatus {
    init(_ status: Components.Schemas.WebhookEventStatus) {
        switch status {
        case .received: self = .received
        case .processed: self = .processed
        case .failed: self = .failed
        }
    }
}
