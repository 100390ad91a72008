import Foundation

/// `webhook.process`: turn one recorded webhook event into the tenant's `webhook.received` event.
///
/// Enqueued by the ingest writer in the statement that records the event, and again by a replay.
public struct WebhookProcessPayload: JobPayload, Equatable {
    public static let kind = "webhook.process"
    public var eventID: UUID

    public init(eventID: UUID) {
        self.eventID = eventID
    }

    enum CodingKeys: String, CodingKey {
        case eventID = "event_id"
    }
}
