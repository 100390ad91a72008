import Foundation
import SwitchyardCore
import SwitchyardDestinations

/// Runs `destination.deliver` jobs: one attempt of one event's delivery to one destination. The attempt's status,
/// the first bytes of the answer and its duration go into the job's history, which is the delivery's attempt log.
public struct DestinationDeliveryHandler: JobHandler {
    let delivery: DestinationDelivery

    public init(delivery: DestinationDelivery) {
        self.delivery = delivery
    }

    public func run(_ payload: DestinationDeliveryPayload, context: JobContext) async throws {
        let outcome = try await delivery.deliver(payload, tenant: context.tenantID, attempt: context.attempt, logger: context.logger) { detail in
            for (key, value) in detail.json { context.attemptDetail.record(key, value) }
        }
        switch outcome {
        case .delivered: return
        case .retry(let message, let after): throw JobFailure.scheduled(message, after: after)
        case .dead(let message): throw JobFailure.permanent(message)
        case .deferred(let reason, let after): throw JobDeferred(after: after, reason: reason)
        }
    }
}
