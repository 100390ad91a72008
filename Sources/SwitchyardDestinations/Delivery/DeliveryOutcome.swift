import SwitchyardCore

/// How one delivery attempt ended, for the job that carries it.
public enum DeliveryOutcome: Sendable, Equatable {
    /// The receiver answered 2xx.
    case delivered
    /// The attempt failed; try again after `after` (the schedule's next step, or the receiver's `Retry-After`).
    case retry(String, after: Duration)
    /// The attempt failed and none is left, or the delivery cannot be made at all: a dead letter.
    case dead(String)
    /// Nothing was sent (the destination's circuit is open, its rate or concurrency limit is reached, it is disabled):
    /// due again after `after`, without spending an attempt.
    case deferred(String, after: Duration)
}

/// What an attempt leaves in the delivery's history beside its outcome.
public struct DeliveryAttemptDetail: Sendable, Equatable {
    /// The receiver's status, when it answered.
    public var status: Int?
    /// The first `DestinationDelivery.keptResponseBytes` of its body.
    public var responseBody: String?
    public var durationMilliseconds: Int64?
    public var webhookID: String

    public var json: [String: JSONValue] {
        var fields: [String: JSONValue] = ["webhook_id": .string(webhookID)]
        if let status { fields["status"] = .number(Double(status)) }
        if let responseBody { fields["response_body"] = .string(responseBody) }
        if let durationMilliseconds { fields["duration_ms"] = .number(Double(durationMilliseconds)) }
        return fields
    }
}
