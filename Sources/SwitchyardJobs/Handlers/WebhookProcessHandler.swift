import Foundation
import SwitchyardCore
import SwitchyardMetrics
import SwitchyardPostgres
import SwitchyardSyncs
import SwitchyardWebhooks

/// Runs `webhook.process` jobs: matches a recorded event to its integration, applies it to the records of the
/// integration's syncs that map its type (real-time updates), records the tenant's normalised `webhook.received`
/// event and marks the webhook event processed, in one transaction.
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
            var schemes: [UUID: WebhookScheme] = [:]
            for id in ids {
                // Locked, so a job run twice (at-least-once) processes each event once.
                guard let event = try await transaction.webhookEvent(id, locking: true), event.status != .processed else { continue }
                let scheme: WebhookScheme
                if let known = schemes[event.sourceID] {
                    scheme = known
                } else {
                    // A source is deleted with its events (ON DELETE CASCADE), so a recorded event always has one.
                    guard let source = try await transaction.webhookSource(event.sourceID) else {
                        throw SwitchyardError.internal("webhook event \(event.id.lowercasedString) names a source that does not exist")
                    }
                    scheme = try WebhookScheme.stored(source.scheme, source: source.id)
                    schemes[event.sourceID] = scheme
                }
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

    private func process(_ event: WebhookEventRecord, scheme: WebhookScheme, in transaction: TenantTransaction) async throws {
        let body = Array(event.body.readableBytesView)
        let json = try? JSONDecoder().decode(JSONValue.self, from: Data(body))
        var integration = try await event.integrationID.asyncFlatMap { try await transaction.integration($0) }
        if integration == nil, let account = scheme.accountID(in: json, headers: event.headers) {
            integration = try await transaction.integration(providerAccountID: account)
        }
        if let integration, let type = event.eventType, json != nil {
            _ = try await SyncWebhooks.apply(
                eventType: type,
                body: String(decoding: body, as: UTF8.self),
                json: json,
                integration: integration,
                in: transaction
            )
        }
        try await transaction.recordEvent(
            "webhook.received",
            integrationID: integration?.id,
            json: [
                "type": event.eventType.map(JSONValue.string) ?? .null,
                "provider": .string(integration?.provider ?? scheme.type),
                "source_id": .string(event.sourceID.lowercasedString),
                "webhook_event_id": .string(event.id.lowercasedString),
                "provider_event_id": .string(event.eventID),
                "payload": json ?? .string(String(decoding: body, as: UTF8.self)),
            ]
        )
        try await transaction.finishWebhookEvent(event.id, processed: true, integrationID: integration?.id, error: nil)
    }
}

extension Optional {
    func asyncFlatMap<T>(_ transform: (Wrapped) async throws -> T?) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
