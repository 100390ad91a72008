import Foundation

/// `webhook.process`: turn recorded webhook events into the tenant's `webhook.received` events.
///
/// The ingest writer enqueues one per tenant per group commit, in the statement that records the events,
/// listing them all: one job row for a batch rather than one per event keeps the hot path's writes close
/// to one row per event. A replay enqueues one too.
public struct WebhookProcessPayload: JobPayload, Equatable {
    public static let kind = "webhook.process"
    /// A batch that keeps failing is most likely refused for what one event holds, and each event then fails on
    /// its own; a few attempts are enough.
    public static let maxAttempts = 5
    public var eventIDs: [UUID]

    public init(eventIDs: [UUID]) {
        self.eventIDs = eventIDs
    }

    enum CodingKeys: String, CodingKey {
        case eventIDs = "event_ids"
    }
}
