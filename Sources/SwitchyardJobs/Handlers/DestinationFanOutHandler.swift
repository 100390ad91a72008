import Foundation
import Logging
import SwitchyardCore
import SwitchyardDestinations
import SwitchyardPostgres

/// Runs `destination.fan_out` jobs: one event's first attempts to its destinations, made together, then written as
/// the deliveries' jobs in one statement (already finished, or waiting for their retry, which a `destination.deliver`
/// job of their own makes).
///
/// A fan-out that runs again (its executor died, or the write failed) does not send again: it queues whatever it did
/// not write as ordinary delivery jobs, so each delivery is attempted at least once and written once.
public struct DestinationFanOutHandler: JobHandler {
    /// How many of one fan-out's deliveries are in flight at once.
    public static let parallelism = 16

    let database: Database
    let delivery: DestinationDelivery
    /// Shared by every fan-out of the executor: how many of all their deliveries are in flight at once (the
    /// executor's concurrency, so that fan-outs send no more at once than as many delivery jobs would).
    let sending: AsyncPermits

    public init(database: Database, delivery: DestinationDelivery, sending: AsyncPermits) {
        self.database = database
        self.delivery = delivery
        self.sending = sending
    }

    public func run(_ payload: DestinationFanOutPayload, context: JobContext) async throws {
        guard context.attempt == 1 else {
            let queued = try await database.withTenant(context.tenantID, logger: context.logger) { try await $0.queueDeliveries(of: payload) }
            context.attemptDetail.record("queued_deliveries", .number(Double(queued)))
            return
        }
        let attempts = await firstAttempts(of: payload, tenant: context.tenantID, logger: context.logger)
        _ = try await database.withTenant(context.tenantID, logger: context.logger) { try await $0.recordFirstAttempts(attempts, of: payload) }
    }

    /// Every delivery's first attempt, `parallelism` at a time.
    func firstAttempts(of fanOut: DestinationFanOutPayload, tenant: TenantID, logger: Logger) async -> [FirstDeliveryAttempt] {
        await withTaskGroup(of: FirstDeliveryAttempt.self) { group in
            var pending = fanOut.deliveries.makeIterator()
            for _ in 0..<Self.parallelism {
                guard let next = pending.next() else { break }
                group.addTask { await firstAttempt(next, of: fanOut, tenant: tenant, logger: logger) }
            }
            var attempts: [FirstDeliveryAttempt] = []
            attempts.reserveCapacity(fanOut.deliveries.count)
            while let attempt = await group.next() {
                attempts.append(attempt)
                if let next = pending.next() {
                    group.addTask { await firstAttempt(next, of: fanOut, tenant: tenant, logger: logger) }
                }
            }
            return attempts
        }
    }

    private func firstAttempt(
        _ target: DestinationFanOutPayload.Delivery,
        of fanOut: DestinationFanOutPayload,
        tenant: TenantID,
        logger: Logger
    ) async -> FirstDeliveryAttempt {
        var deliveryLogger = logger
        deliveryLogger[metadataKey: "delivery_id"] = "\(target.id.lowercasedString)"
        var started = Date()
        var detail: [String: JSONValue] = [:]
        let outcome: JobCompletion.Outcome
        let message: String?
        do {
            let made = try await sending.withPermit {
                started = Date()
                return try await delivery.deliver(fanOut.payload(of: target), tenant: tenant, attempt: 1, logger: deliveryLogger) { detail = $0.json }
            }
            switch made {
            case .delivered: (outcome, message) = (.succeeded, nil)
            case .retry(let failure, let after): (outcome, message) = (.retry(after: after), failure)
            case .dead(let failure): (outcome, message) = (.dead, failure)
            case .deferred(let reason, let after): (outcome, message) = (.deferred(after: after), reason)
            }
        } catch {
            // The attempt's bookkeeping failed (the database, while noting a failure): tried again on the schedule.
            let failure = JobFailure.classify(error)
            deliveryLogger.warning("delivery attempt failed", metadata: ["error": "\(failure.message)"])
            (outcome, message) = (.retry(after: delivery.retryDelay(afterAttempt: 1)), failure.message)
        }
        return FirstDeliveryAttempt(delivery: target, outcome: outcome, error: message, startedAt: started, finishedAt: Date(), detail: detail)
    }
}
