import Foundation
import HTTPTypes
import Logging
import NIOCore
import SwitchyardCore
import SwitchyardMetrics
import SwitchyardOutbound
import SwitchyardPostgres

/// Sends one attempt of a delivery and says what becomes of it.
///
/// The request is a POST of the event's JSON, signed the Standard Webhooks way, through an outbound client of its own
/// (the SSRF guard on the URL and on every address it resolves to, redirects returned and never followed, the
/// delivery timeouts, a circuit breaker per destination). 2xx is delivered; 410 Gone disables the destination; any
/// other answer, a timeout or a connection failure is retried on the schedule, honouring `Retry-After`.
public struct DestinationDelivery: Sendable {
    /// How much of a receiver's answer an attempt keeps.
    public static let keptResponseBytes = 4096
    /// How long a delivery waits for a disabled destination: until it is enabled again, which makes it due at once.
    static let parked = Duration.seconds(10 * 365 * 86_400)

    let database: Database
    let outbound: OutboundClient
    let targets: DestinationTargets
    let limits: DestinationLimits
    let schedule: DeliveryRetrySchedule
    /// A destination whose attempts have all failed for this long is disabled.
    let disableAfter: Duration
    let metrics: DeliveryMetrics?
    /// Counts attempts by outcome in the tenant's usage.
    let usage: UsageMeter?
    let unitRandom: @Sendable () -> Double

    public init(
        database: Database,
        outbound: OutboundClient,
        targets: DestinationTargets,
        limits: DestinationLimits = DestinationLimits(),
        schedule: DeliveryRetrySchedule = .standard,
        disableAfter: Duration,
        metrics: DeliveryMetrics? = nil,
        usage: UsageMeter? = nil,
        unitRandom: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }
    ) {
        self.database = database
        self.outbound = outbound
        self.targets = targets
        self.limits = limits
        self.schedule = schedule
        self.disableAfter = disableAfter
        self.metrics = metrics
        self.usage = usage
        self.unitRandom = unitRandom
    }

    /// The delay before the retry after failed attempt `attempt`, drawn from the schedule (the first step when none is left).
    public func retryDelay(afterAttempt attempt: Int) -> Duration {
        schedule.delay(afterAttempt: attempt, retryAfter: nil, unitRandom: unitRandom()) ?? schedule.steps.first ?? .seconds(5)
    }

    /// The `webhook-id` of every attempt of an event's deliveries: receivers deduplicate on it.
    public static func webhookID(event: UUID) -> String {
        "msg_" + event.lowercasedString
    }

    /// Makes attempt number `attempt` of `payload`'s delivery. `record` receives the attempt's detail before the outcome
    /// is returned (and also when this throws).
    public func deliver(
        _ payload: DestinationDeliveryPayload,
        tenant: TenantID,
        attempt: Int,
        logger: Logger,
        record: (DeliveryAttemptDetail) -> Void
    ) async throws -> DeliveryOutcome {
        var sentFor: Duration?
        let outcome = try await send(payload, tenant: tenant, attempt: attempt, logger: logger) { detail in
            sentFor = detail.durationMilliseconds.map { .milliseconds($0) }
            record(detail)
        }
        if let metrics {
            switch outcome {
            case .delivered: metrics.recordAttempt(.delivered, duration: sentFor)
            case .retry: metrics.recordAttempt(.failed, duration: sentFor)
            case .dead: metrics.recordAttempt(.dead, duration: sentFor)
            case .deferred: metrics.recordAttempt(.deferred, duration: nil)
            }
        }
        if let usage {
            switch outcome {
            case .delivered: usage.record(.deliveries, tenant: tenant, dimension: "delivered")
            case .retry: usage.record(.deliveries, tenant: tenant, dimension: "failed")
            case .dead: usage.record(.deliveries, tenant: tenant, dimension: "dead")
            case .deferred: break  // nothing was sent
            }
        }
        return outcome
    }

    private func send(
        _ payload: DestinationDeliveryPayload,
        tenant: TenantID,
        attempt: Int,
        logger: Logger,
        record: (DeliveryAttemptDetail) -> Void
    ) async throws -> DeliveryOutcome {
        let webhookID = Self.webhookID(event: payload.eventID)
        guard let target = try await targets.target(payload.destinationID, tenant: tenant, logger: logger) else {
            return .dead("the destination was deleted")
        }
        guard target.row.enabled else {
            return .deferred("the destination is disabled; the delivery waits until it is enabled", after: Self.parked)
        }
        let permit: DestinationLimits.Permit
        switch limits.admit(target.id, rateLimitPerSecond: target.row.rateLimitPerSecond, maxConcurrency: target.row.maxConcurrency) {
        case .success(let admitted): permit = admitted
        case .failure(let deferral): return .deferred(deferral.reason, after: deferral.after)
        }
        defer { limits.release(permit) }

        let now = Date()
        let keys = target.signingKeys(at: now)
        guard !keys.isEmpty else {
            return .deferred("the destination has no usable signing secret", after: .seconds(60))
        }
        let body = ByteBuffer(string: payload.body)
        let timestamp = Int64(now.timeIntervalSince1970)
        var headers = target.headers
        headers[DestinationHeaders.webhookID] = webhookID
        headers[DestinationHeaders.webhookTimestamp] = String(timestamp)
        headers[DestinationHeaders.webhookSignature] = body.withUnsafeReadableBytes {
            StandardWebhookSignature.header(id: webhookID, timestamp: timestamp, body: $0, keys: keys)
        }
        let request = OutboundRequest(
            method: .post,
            url: target.row.url,
            headers: headers,
            body: body,
            provider: "destination",
            key: target.outboundKey,
            tenant: tenant,
            retry: .never
        )

        let started = ContinuousClock.now
        var detail = DeliveryAttemptDetail(webhookID: webhookID)
        let failure: String
        var retryAfter: Duration?
        do {
            let response = try await outbound.send(request, logger: logger)
            detail.durationMilliseconds = (ContinuousClock.now - started).wholeMilliseconds
            detail.status = response.status.code
            detail.responseBody = Self.kept(response.body)
            record(detail)
            if (200..<300).contains(response.status.code) {
                if target.row.failingSince != nil {
                    try await database.withTenant(tenant, logger: logger) { try await $0.noteDestinationSuccess(target.id) }
                    targets.forget(target.id, tenant: tenant)
                }
                return .delivered
            }
            if response.status.code == 410 {
                try await disable(target, reason: "the endpoint answered 410 Gone", logger: logger)
                return .retry("the endpoint answered 410 Gone; the destination is disabled", after: Self.parked)
            }
            failure = "the endpoint answered \(response.status.code)"
            retryAfter = RetryAfter.delay(in: response.headers, unixTime: Date().timeIntervalSince1970)
        } catch let error as OutboundError {
            switch error.kind {
            case .circuitOpen(let wait):
                // Nothing was sent: the deliveries waiting for this destination move out of the claim's way until the
                // breaker lets a probe through.
                try await database.withTenant(tenant, logger: logger) {
                    try await $0.parkDeliveries(of: target.id, until: Date().addingTimeInterval(wait.inSeconds))
                }
                return .deferred(error.description, after: wait)
            case .rateLimited(let wait):
                return .deferred(error.description, after: wait)
            default:
                detail.durationMilliseconds = (ContinuousClock.now - started).wholeMilliseconds
                record(detail)
                failure = Self.describe(error)
            }
        }
        return try await failed(target, attempt: attempt, message: failure, retryAfter: retryAfter, logger: logger)
    }

    /// A failed attempt: the next step of the schedule, or a dead letter; and the destination disabled once it has
    /// failed for `disableAfter` without a success.
    private func failed(
        _ target: DeliveryTarget,
        attempt: Int,
        message: String,
        retryAfter: Duration?,
        logger: Logger
    ) async throws -> DeliveryOutcome {
        let failingSince = try await database.withTenant(target.tenantID, logger: logger) { try await $0.noteDestinationFailure(target.id) }
        if target.row.failingSince == nil { targets.forget(target.id, tenant: target.tenantID) }
        if let failingSince, Date().timeIntervalSince(failingSince) >= disableAfter.inSeconds {
            try await disable(target, reason: "every delivery failed since \(failingSince.formatted(.iso8601))", logger: logger)
            return .retry("\(message); the destination is disabled after failing since \(failingSince.formatted(.iso8601))", after: Self.parked)
        }
        guard let delay = schedule.delay(afterAttempt: attempt, retryAfter: retryAfter, unitRandom: unitRandom()) else {
            return .dead("\(message) (attempt \(attempt) of \(schedule.attempts))")
        }
        return .retry(message, after: delay)
    }

    private func disable(_ target: DeliveryTarget, reason: String, logger: Logger) async throws {
        _ = try await database.withTenant(target.tenantID, logger: logger) { try await $0.disableDestination(target.id, reason: reason) }
        targets.forget(target.id, tenant: target.tenantID)
        logger.warning("destination disabled", metadata: ["destination_id": "\(target.id.lowercasedString)", "reason": "\(reason)"])
    }

    /// The first bytes of a response body as text (invalid UTF-8 replaced), for the attempt's history.
    static func kept(_ body: ByteBuffer) -> String? {
        guard body.readableBytes > 0 else { return nil }
        let bytes = body.readableBytesView.prefix(keptResponseBytes)
        return String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "\u{0}", with: "\u{FFFD}")
    }

    /// An outbound failure in the receiver's terms.
    static func describe(_ error: OutboundError) -> String {
        switch error.kind {
        case .timeout(let phase): "the endpoint did not answer in time (\(phase.rawValue) timeout)"
        case .connectionFailed: "the connection to the endpoint failed"
        case .responseTooLarge(let limit): "the endpoint's answer exceeded \(limit) bytes"
        default: error.description
        }
    }
}

/// The Standard Webhooks request headers.
enum DestinationHeaders {
    static let webhookID = HTTPField.Name("webhook-id")!
    static let webhookTimestamp = HTTPField.Name("webhook-timestamp")!
    static let webhookSignature = HTTPField.Name("webhook-signature")!
}
