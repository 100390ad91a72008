import Foundation

/// `destination.deliver`: one event's delivery to one destination. The fan-out trigger on `events` creates these in
/// the transaction that records the event, with the request body already made, so every attempt sends the same bytes.
public struct DestinationDeliveryPayload: JobPayload, Equatable {
    public static let kind = "destination.deliver"
    /// The first attempt and the seven retries of `DeliveryRetrySchedule.standard`. The fan-out trigger
    /// (`Migrations/0023_create_destinations.sql`) writes the same number.
    public static let maxAttempts = 8
    public var destinationID: UUID
    /// The event's id: the delivery's `webhook-id` is made from it, the same on every attempt and every resend.
    public var eventID: UUID
    /// The JSON sent, exactly.
    public var body: String

    public init(destinationID: UUID, eventID: UUID, body: String) {
        self.destinationID = destinationID
        self.eventID = eventID
        self.body = body
    }

    enum CodingKeys: String, CodingKey {
        case destinationID = "destination_id"
        case eventID = "event_id"
        case body
    }
}
