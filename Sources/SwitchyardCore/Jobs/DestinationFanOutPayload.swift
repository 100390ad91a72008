import Foundation

/// `destination.fan_out`: one event's first attempts to every matching destination that does not ask for ordered
/// delivery. The fan-out trigger on `events` creates one per event, in the transaction that records the event, with
/// the request body made and each delivery's id chosen; the attempts' outcomes become the deliveries
/// (`destination.deliver` jobs, already finished or waiting for their retry) in one statement, so a delivery that
/// succeeds first time costs no claim and no completion of its own.
public struct DestinationFanOutPayload: JobPayload, Equatable {
    public static let kind = "destination.fan_out"

    /// One delivery the fan-out makes: its id, chosen by the trigger so that a second run cannot make it twice.
    public struct Delivery: Codable, Sendable, Equatable {
        public var id: UUID
        public var destinationID: UUID

        public init(id: UUID, destinationID: UUID) {
            self.id = id
            self.destinationID = destinationID
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            id = try container.decodeHyphenatedUUID(forKey: .id)
            destinationID = try container.decodeHyphenatedUUID(forKey: .destinationID)
        }

        enum CodingKeys: String, CodingKey {
            case id
            case destinationID = "destination_id"
        }
    }

    public var eventID: UUID
    /// The JSON sent to every destination, exactly.
    public var body: String
    public var deliveries: [Delivery]

    public init(eventID: UUID, body: String, deliveries: [Delivery]) {
        self.eventID = eventID
        self.body = body
        self.deliveries = deliveries
    }

    /// The delivery job of one of the fan-out's deliveries, as the trigger would have made it.
    public func payload(of delivery: Delivery) -> DestinationDeliveryPayload {
        DestinationDeliveryPayload(destinationID: delivery.destinationID, eventID: eventID, body: body)
    }

    enum CodingKeys: String, CodingKey {
        case eventID = "event_id"
        case body, deliveries
    }
}
