import Foundation
import Hummingbird
import SwitchyardCore
import SwitchyardPostgres

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
        return try HTTPPayload.json(
            ListEnvelope(data: result.items.map { WebhookEventResponse($0, detailed: false) }, nextCursor: result.nextCursor?.token)
        ).response
    }

    @Sendable func show(_ request: Request, context: TenantRequestContext) async throws -> Response {
        let id = try request.uuid("event_id", context: context, resource: "The webhook event")
        guard let record = try await database.withTenant(context.tenantID, logger: context.logger, { try await $0.webhookEvent(id) }) else {
            throw SwitchyardError.notFound("The webhook event")
        }
        return try HTTPPayload.json(WebhookEventResponse(record, detailed: true)).response
    }

    /// Processes the event again (its status goes back to `received`).
    @Sendable func replay(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try context.require(.write)
        let id = try request.uuid("event_id", context: context, resource: "The webhook event")
        let replayed = try await database.withTenant(context.tenantID, logger: context.logger) { transaction in
            let ids = try await transaction.markWebhookEventsForReplay(WebhookEventFilter(), ids: [id], limit: 1)
            if !ids.isEmpty { try await transaction.recordAudit(context.audit("webhook_event.replayed", "webhook_event", id.lowercasedString)) }
            return ids
        }
        guard !replayed.isEmpty else { throw SwitchyardError.notFound("The webhook event") }
        return try HTTPPayload.json(ReplayResponse(replayed: replayed.map(\.lowercasedString))).response
    }

    /// Replays every event matching the filter in the body (at most `limit`, default and cap 1000).
    @Sendable func replayMany(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try context.require(.write)
        let input = try WebhookReplayBody.decode(from: try await request.collectJSONBody(limit: limits.maxBodyBytes))
        let filter = WebhookEventFilter(
            sourceID: input.sourceID,
            eventType: input.type,
            status: input.status,
            receivedAfter: input.receivedAfter,
            receivedBefore: input.receivedBefore
        )
        let replayed = try await database.withTenant(context.tenantID, logger: context.logger) { transaction in
            let ids = try await transaction.markWebhookEventsForReplay(filter, ids: nil, limit: input.limit ?? 1000)
            try await transaction.recordAudit(context.audit("webhook_event.replayed", "webhook_event", nil, ["count": "\(ids.count)"]))
            return ids
        }
        return try HTTPPayload.json(ReplayResponse(replayed: replayed.map(\.lowercasedString))).response
    }

    static func filter(_ query: Parameters) throws -> WebhookEventFilter {
        var filter = WebhookEventFilter(eventType: query["type"].map(String.init))
        if let text = query["source_id"] {
            guard let id = UUID(uuidString: String(text)) else { throw SwitchyardError.invalidRequest("source_id must be a UUID.") }
            filter.sourceID = id
        }
        if let status = query["status"] {
            guard WebhookEventResponse.statuses.contains(String(status)) else {
                throw SwitchyardError.invalidRequest("status must be one of \(WebhookEventResponse.statuses.joined(separator: ", ")).")
            }
            filter.status = String(status)
        }
        filter.receivedAfter = try date(query["received_after"], name: "received_after")
        filter.receivedBefore = try date(query["received_before"], name: "received_before")
        return filter
    }

    static func date(_ text: Substring?, name: String) throws -> Date? {
        guard let text else { return nil }
        guard let date = RFC3339Timestamp.date(from: String(text)) else {
            throw SwitchyardError.invalidRequest("\(name) must be an RFC 3339 date-time such as 2026-11-29T12:00:00Z.")
        }
        return date
    }
}

struct WebhookReplayBody: StrictJSONBody {
    static let fields: Set<String>? = ["source_id", "type", "status", "received_after", "received_before", "limit"]
    let sourceID: UUID?
    let type: String?
    let status: String?
    let receivedAfter: Date?
    let receivedBefore: Date?
    let limit: Int?

    enum CodingKeys: String, CodingKey {
        case type, status, limit
        case sourceID = "source_id"
        case receivedAfter = "received_after"
        case receivedBefore = "received_before"
    }

    func validate() throws(SwitchyardError) {
        if let status, !WebhookEventResponse.statuses.contains(status) {
            throw .validation("status must be one of \(WebhookEventResponse.statuses.joined(separator: ", ")).")
        }
        if let limit, !(1...1000).contains(limit) { throw .validation("limit must be from 1 to 1000.") }
    }
}

struct ReplayResponse: Encodable, Sendable {
    let replayed: [String]
}

/// An event as the API shows it; the body and headers only when `detailed`.
struct WebhookEventResponse: Encodable, Sendable {
    static let statuses = ["received", "processed", "failed"]
    let record: WebhookEventRecord
    let detailed: Bool

    init(_ record: WebhookEventRecord, detailed: Bool) {
        self.record = record
        self.detailed = detailed
    }

    enum CodingKeys: String, CodingKey {
        case id, type, status, attempts, headers, body, verification
        case sourceID = "source_id"
        case eventID = "event_id"
        case integrationID = "integration_id"
        case lastError = "last_error"
        case receivedAt = "received_at"
        case processedAt = "processed_at"
        case bodyEncoding = "body_encoding"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(record.id.lowercasedString, forKey: .id)
        try container.encode(record.sourceID.lowercasedString, forKey: .sourceID)
        try container.encode(record.eventID, forKey: .eventID)
        try container.encode(record.eventType, forKey: .type)
        try container.encode(record.integrationID?.lowercasedString, forKey: .integrationID)
        try container.encode(record.status, forKey: .status)
        try container.encode(record.attempts, forKey: .attempts)
        try container.encode(record.lastError, forKey: .lastError)
        // Only verified deliveries are ever stored.
        try container.encode("verified", forKey: .verification)
        try container.encode(record.receivedAt, forKey: .receivedAt)
        try container.encode(record.processedAt, forKey: .processedAt)
        guard detailed else { return }
        try container.encode(record.headers, forKey: .headers)
        let bytes = Array(record.body.readableBytesView)
        if let text = String(validating: bytes, as: UTF8.self) {
            try container.encode(text, forKey: .body)
            try container.encode("utf8", forKey: .bodyEncoding)
        } else {
            try container.encode(Data(bytes).base64EncodedString(), forKey: .body)
            try container.encode("base64", forKey: .bodyEncoding)
        }
    }
}
