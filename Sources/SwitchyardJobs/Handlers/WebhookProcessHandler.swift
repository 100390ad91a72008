import Foundation
import SwitchyardCore
import SwitchyardMetrics
import SwitchyardPostgres

/// Runs `webhook.process` jobs: matches a recorded event to its integration, records the tenant's
/// normalised `webhook.received` event and marks the webhook event processed, in one transaction.
///
/// The integration is the source's linked one, or, for providers that deliver many accounts' events to one
/// endpoint, the integration whose `provider_account_id` is the account named in the payload.
public struct WebhookProcessHandler: JobHandler {
    let database: Database
    let metrics: WebhookMetrics?

    public init(database: Database, metrics: WebhookMetrics?) {
        self.database = database
        self.metrics = metrics
    }

    public func run(_ payload: WebhookProcessPayload, context: JobContext) async throws {
        let received: [Date]
        do {
            received = try await processAll(payload.eventIDs, isolatingEach: false, context: context)
        } catch  where isDeterministicDatabaseFailure(error) {
            // One of the events is refused by PostgreSQL for what it holds (a `\u0000` in its payload, say): do
            // the batch again, each event in a savepoint, so that event ends `failed` and its neighbours are
            // processed. The common case pays for no savepoints.
            context.logger.notice(
                "an event of the batch was refused by the database; processing the events one by one",
                metadata: [
                    "error": "\(loggableDescription(of: error))", "events": "\(payload.eventIDs.count)",
                ]
            )
            received = try await processAll(payload.eventIDs, isolatingEach: true, context: context)
        }
        let now = Date()
        for date in received { metrics?.recordProcessingLag(.seconds(now.timeIntervalSince(date))) }
    }

    private func processAll(_ ids: [UUID], isolatingEach: Bool, context: JobContext) async throws -> [Date] {
        try await database.withTenant(context.tenantID, logger: context.logger) { transaction -> [Date] in
            var received: [Date] = []
            var schemes: [UUID: String] = [:]
            for id in ids {
                // Locked, so a job run twice (at-least-once) processes each event once.
                guard let event = try await transaction.webhookEvent(id, locking: true), event.status != .processed else { continue }
                if schemes[event.sourceID] == nil {
                    schemes[event.sourceID] = try await transaction.webhookSource(event.sourceID).map { Self.schemeType($0.scheme) } ?? "unknown"
                }
                let scheme = schemes[event.sourceID] ?? "unknown"
                guard isolatingEach else {
                    try await process(event, scheme: scheme, in: transaction)
                    received.append(event.receivedAt)
                    continue
                }
                do {
                    try await transaction.isolating { try await process(event, scheme: scheme, in: transaction) }
                    received.append(event.receivedAt)
                } catch let refused as ItemRefusedByDatabase {
                    let reason =
                        "The event could not be recorded as webhook.received: \(refused). "
                        + "The delivery is kept as received; fix the cause and replay it."
                    try await transaction.finishWebhookEvent(event.id, processed: false, integrationID: nil, error: reason)
                    context.logger.warning(
                        "webhook event failed processing",
                        metadata: [
                            "webhook_event_id": "\(event.id.lowercasedString)", "source_id": "\(event.sourceID.lowercasedString)",
                            "error": "\(refused)",
                        ]
                    )
                    metrics?.recordProcessingFailure()
                }
            }
            return received
        }
    }

    private func process(_ event: WebhookEventRecord, scheme: String, in transaction: TenantTransaction) async throws {
        let body = Array(event.body.readableBytesView)
        let json = try? JSONDecoder().decode(JSONValue.self, from: Data(body))
        var integration = try await event.integrationID.asyncFlatMap { try await transaction.integration($0) }
        if integration == nil, let account = Self.accountID(scheme: scheme, payload: json, headers: event.headers) {
            integration = try await transaction.integration(providerAccountID: account)
        }
        try await transaction.recordEvent(
            "webhook.received",
            integrationID: integration?.id,
            json: [
                "type": event.eventType.map(JSONValue.string) ?? .null,
                "provider": .string(integration?.provider ?? scheme),
                "source_id": .string(event.sourceID.lowercasedString),
                "webhook_event_id": .string(event.id.lowercasedString),
                "provider_event_id": .string(event.eventID),
                "payload": json ?? .string(String(decoding: body, as: UTF8.self)),
            ]
        )
        try await transaction.finishWebhookEvent(event.id, processed: true, integrationID: integration?.id, error: nil)
    }

    static func schemeType(_ json: String) -> String {
        guard case .object(let object)? = try? JSONDecoder().decode(JSONValue.self, from: Data(json.utf8)), case .string(let type)? = object["type"]
        else {
            return "unknown"
        }
        return type
    }

    /// Where each provider names the account an event belongs to.
    static func accountID(scheme: String, payload: JSONValue?, headers: [String: String]) -> String? {
        func field(_ path: String...) -> String? {
            var value = payload
            for key in path {
                guard case .object(let object)? = value else { return nil }
                value = object[key]
            }
            return value?.text
        }
        switch scheme {
        case "stripe": return field("account")
        case "slack": return field("team_id") ?? field("team", "id")
        case "github": return field("installation", "id")
        case "shopify": return headers["x-shopify-shop-domain"]
        default: return field("account_id")
        }
    }
}

extension Optional {
    func asyncFlatMap<T>(_ transform: (Wrapped) async throws -> T?) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
