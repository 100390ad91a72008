import Foundation
import SwitchyardCore
import SwitchyardPostgres

/// Replaying recorded webhook events: they go back to `received` and are processed again by `webhook.process`
/// jobs of at most `batchSize` events each, enqueued in the same transaction.
public enum WebhookReplay {
    public static let batchSize = 100

    /// Replays the events `filter` and `ids` select (at most `limit`); returns their ids.
    public static func replay(_ filter: WebhookEventFilter, ids: [UUID]?, limit: Int, in transaction: TenantTransaction) async throws -> [UUID] {
        let replayed = try await transaction.markWebhookEventsForReplay(filter, ids: ids, limit: limit)
        for start in stride(from: 0, to: replayed.count, by: batchSize) {
            let events = Array(replayed[start..<min(start + batchSize, replayed.count)])
            try await transaction.enqueue(try NewJob(WebhookProcessPayload(eventIDs: events)))
        }
        return replayed
    }
}
