import Foundation
import Hummingbird
import SwitchyardAPIContract
import SwitchyardCore
import SwitchyardDestinations
import SwitchyardOutbound
import SwitchyardPostgres

/// `/v1/destinations` and `/v1/deliveries`: a tenant's endpoints that hear its events, and the deliveries to them.
/// A delivery is a `destination.deliver` job (the fan-out trigger of migration 0023 makes them); the routes here add
/// the ones a tenant asks for (a test, a resend, a replay) and show them with their attempts.
struct DestinationsController: Sendable {
    let database: Database
    let limits: LimitsConfiguration
    /// The outbound client's guard: a URL is refused here by the rules its deliveries are sent under (API-5, DS-3).
    let ssrfGuard: SSRFGuard

    /// Events one replay queues at most; a capped replay says where to go on from.
    static let replayLimit = 100_000
    /// Unexpired signing secrets a destination may have: every delivery carries one signature per secret.
    static let maxSecrets = 10

    func addRoutes(destinations group: RouterGroup<TenantRequestContext>) {
        group.post(use: create)
        group.get(use: list)
        group.get("{destination_id}", use: show)
        group.patch("{destination_id}", use: update)
        group.delete("{destination_id}", use: delete)
        group.post("{destination_id}/rotate-secret", use: rotateSecret)
        group.post("{destination_id}/enable", use: enable)
        group.post("{destination_id}/disable", use: disable)
        group.post("{destination_id}/test", use: test)
        group.post("{destination_id}/replay", use: replay)
    }

    func addRoutes(deliveries group: RouterGroup<TenantRequestContext>) {
        group.get(use: listDeliveries)
        group.get("{delivery_id}", use: showDelivery)
        group.post("{delivery_id}/resend", use: resend)
    }

    // MARK: Destinations

    @Sendable func create(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try context.require(.write)
        let input = try Components.Schemas.DestinationCreate.decode(from: try await request.collectJSONBody(limit: limits.maxBodyBytes))
        let settings = try input.settings
        try await checkReachable(settings.url)
        let secret = StandardWebhookSecret.generate().text
        let (record, secrets) = try await database.withTenant(context.tenantID, logger: context.logger) { transaction in
            let record = try await transaction.createDestination(settings, secret: secret)
            try await transaction.recordAudit(context.audit("destination.created", "destination", record.id.lowercasedString))
            return (record, try await transaction.destinationSecrets(of: record.id))
        }
        return try HTTPPayload.json(
            Components.Schemas.Destination(record, secrets: secrets, secret: secret),
            status: .created,
            headers: [.location: "/v1/destinations/\(record.id.lowercasedString)", .cacheControl: "no-store"]
        ).response
    }

    @Sendable func list(_ request: Request, context: TenantRequestContext) async throws -> Response {
        let page = try request.pageRequest(limits)
        let (result, secrets) = try await database.withTenant(context.tenantID, logger: context.logger) { transaction in
            let result = try await transaction.destinations(page)
            var secrets: [UUID: [DestinationSecretRecord]] = [:]
            for destination in result.items { secrets[destination.id] = try await transaction.destinationSecrets(of: destination.id) }
            return (result, secrets)
        }
        return try HTTPPayload.json(Components.Schemas.DestinationList(result, secrets: secrets)).response
    }

    @Sendable func show(_ request: Request, context: TenantRequestContext) async throws -> Response {
        let id = try request.uuid("destination_id", context: context, resource: "The destination")
        let (record, secrets) = try await database.withTenant(context.tenantID, logger: context.logger) { transaction in
            (try await Self.require(id, in: transaction), try await transaction.destinationSecrets(of: id))
        }
        return try HTTPPayload.json(Components.Schemas.Destination(record, secrets: secrets)).response
    }

    @Sendable func update(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try context.require(.write)
        let id = try request.uuid("destination_id", context: context, resource: "The destination")
        let body = try await request.collectJSONBody(limit: limits.maxBodyBytes)
        // Checked after the destination is found: another tenant's destination is a 404 whatever the body says.
        let parsed = Result { try DestinationPatch.decode(from: body) }
        _ = try await database.withTenant(context.tenantID, logger: context.logger) { try await Self.require(id, in: $0) }
        let patch = try parsed.get()
        // Resolved outside the transaction, which would otherwise hold its connection through a DNS lookup.
        if let url = patch.update.url { try await checkReachable(url) }
        let (record, secrets) = try await database.withTenant(context.tenantID, logger: context.logger) { transaction in
            let current = try await Self.require(id, in: transaction)
            let change = try patch.settings(replacing: current)
            guard let record = try await transaction.updateDestination(id, change.settings, replacingHeaders: change.replacingHeaders) else {
                throw SwitchyardError.notFound("The destination")
            }
            try await transaction.recordAudit(context.audit("destination.updated", "destination", id.lowercasedString))
            return (record, try await transaction.destinationSecrets(of: id))
        }
        return try HTTPPayload.json(Components.Schemas.Destination(record, secrets: secrets)).response
    }

    @Sendable func delete(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try context.require(.write)
        let id = try request.uuid("destination_id", context: context, resource: "The destination")
        let deleted = try await database.withTenant(context.tenantID, logger: context.logger) { transaction in
            let deleted = try await transaction.deleteDestination(id)
            if deleted { try await transaction.recordAudit(context.audit("destination.deleted", "destination", id.lowercasedString)) }
            return deleted
        }
        guard deleted else { throw SwitchyardError.notFound("The destination") }
        return HTTPPayload.noContent().response
    }

    /// A new secret, shown once; the others keep signing for the grace period, so both signatures go out meanwhile.
    @Sendable func rotateSecret(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try context.require(.write)
        let id = try request.uuid("destination_id", context: context, resource: "The destination")
        let body = try await request.collectJSONBody(limit: limits.maxBodyBytes)
        let parsed = Result { try body.readableBytes == 0 ? nil : Components.Schemas.DestinationSecretRotation.decode(from: body) }
        let secret = StandardWebhookSecret.generate().text
        let (record, secrets) = try await database.withTenant(context.tenantID, logger: context.logger) { transaction in
            let record = try await Self.require(id, in: transaction)
            let grace = try parsed.get()?.gracePeriodSeconds ?? Components.Schemas.DestinationSecretRotation.defaultGracePeriodSeconds
            guard try await transaction.destinationSecrets(of: id).count < Self.maxSecrets else {
                throw SwitchyardError.conflict(
                    "The destination has \(Self.maxSecrets) unexpired secrets; rotate again when the grace period of one has ended."
                )
            }
            let added = try await transaction.addDestinationSecret(secret, to: id, expiresAt: nil)
            try await transaction.expireOtherDestinationSecrets(of: id, keeping: added.id, at: Date().addingTimeInterval(TimeInterval(grace)))
            try await transaction.recordAudit(
                context.audit(
                    "destination.secret_rotated",
                    "destination",
                    id.lowercasedString,
                    ["secret_id": added.id.lowercasedString, "grace_period_seconds": "\(grace)"]
                )
            )
            return (record, try await transaction.destinationSecrets(of: id))
        }
        return try HTTPPayload.json(
            Components.Schemas.Destination(record, secrets: secrets, secret: secret),
            headers: [.cacheControl: "no-store"]
        ).response
    }

    @Sendable func enable(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try context.require(.write)
        let id = try request.uuid("destination_id", context: context, resource: "The destination")
        let (record, secrets) = try await database.withTenant(context.tenantID, logger: context.logger) { transaction in
            var record = try await Self.require(id, in: transaction)
            if !record.enabled {
                guard let enabled = try await transaction.enableDestination(id) else { throw SwitchyardError.notFound("The destination") }
                record = enabled
                try await transaction.recordAudit(context.audit("destination.enabled", "destination", id.lowercasedString))
            }
            return (record, try await transaction.destinationSecrets(of: id))
        }
        return try HTTPPayload.json(Components.Schemas.Destination(record, secrets: secrets)).response
    }

    @Sendable func disable(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try context.require(.write)
        let id = try request.uuid("destination_id", context: context, resource: "The destination")
        let body = try await request.collectJSONBody(limit: limits.maxBodyBytes)
        let parsed = Result { try body.readableBytes == 0 ? nil : Components.Schemas.DestinationDisable.decode(from: body) }
        let (record, secrets) = try await database.withTenant(context.tenantID, logger: context.logger) { transaction in
            var record = try await Self.require(id, in: transaction)
            let reason = try parsed.get()?.reason ?? "disabled through the API"
            if record.enabled {
                guard let disabled = try await transaction.disableDestination(id, reason: reason) else {
                    throw SwitchyardError.notFound("The destination")
                }
                record = disabled
                try await transaction.recordAudit(context.audit("destination.disabled", "destination", id.lowercasedString))
            }
            return (record, try await transaction.destinationSecrets(of: id))
        }
        return try HTTPPayload.json(Components.Schemas.Destination(record, secrets: secrets)).response
    }

    /// One delivery of a synthetic `destination.test` event, to this destination only.
    @Sendable func test(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try context.require(.write)
        let id = try request.uuid("destination_id", context: context, resource: "The destination")
        let delivery = try await database.withTenant(context.tenantID, logger: context.logger) { transaction in
            guard try await Self.require(id, in: transaction).enabled else {
                throw SwitchyardError.conflict("The destination is disabled; enable it to send it a test event.")
            }
            guard let delivery = try await transaction.enqueueTestDelivery(to: id) else { throw SwitchyardError.notFound("The destination") }
            try await transaction.recordAudit(
                context.audit("destination.tested", "destination", id.lowercasedString, ["delivery_id": delivery.id.lowercasedString])
            )
            return delivery
        }
        return try Self.accepted(delivery)
    }

    /// Every recorded event since a time that the destination's filter matches, delivered to it again.
    @Sendable func replay(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try context.require(.write)
        let id = try request.uuid("destination_id", context: context, resource: "The destination")
        let body = try await request.collectJSONBody(limit: limits.maxBodyBytes)
        let parsed = Result { try Components.Schemas.DestinationReplay.decode(from: body) }
        let replayed = try await database.withTenant(context.tenantID, logger: context.logger) { transaction in
            _ = try await Self.require(id, in: transaction)
            let input = try parsed.get()
            let replayed = try await transaction.replayEvents(to: id, since: input.since, until: input.until, limit: Self.replayLimit)
            try await transaction.recordAudit(
                context.audit(
                    "destination.replayed",
                    "destination",
                    id.lowercasedString,
                    ["since": input.since.formatted(.iso8601), "count": "\(replayed.enqueued)"]
                )
            )
            return replayed
        }
        return try HTTPPayload.json(Components.Schemas.DestinationReplayResult(replayed), status: .accepted).response
    }

    // MARK: Deliveries

    @Sendable func listDeliveries(_ request: Request, context: TenantRequestContext) async throws -> Response {
        let page = try request.pageRequest(limits, filters: ["destination_id", "event_id", "status", "created_after", "created_before"])
        let query = request.uri.queryParameters
        var filter = DeliveryFilter()
        filter.destinationID = try Self.uuid(query["destination_id"], name: "destination_id")
        filter.eventID = try Self.uuid(query["event_id"], name: "event_id")
        if let status = query["status"] {
            guard let state = JobState(rawValue: String(status)) else {
                let statuses = Components.Schemas.DeliveryStatus.allCases.map(\.rawValue).joined(separator: ", ")
                throw SwitchyardError.invalidRequest("status must be one of \(statuses).")
            }
            filter.state = state
        }
        filter.createdAfter = try WebhookEventsController.date(query["created_after"], name: "created_after")
        filter.createdBefore = try WebhookEventsController.date(query["created_before"], name: "created_before")
        let result = try await database.withTenant(context.tenantID, logger: context.logger) { try await $0.deliveries(filter, page: page) }
        return try HTTPPayload.json(Components.Schemas.DeliveryList(result)).response
    }

    @Sendable func showDelivery(_ request: Request, context: TenantRequestContext) async throws -> Response {
        let id = try request.uuid("delivery_id", context: context, resource: "The delivery")
        guard let record = try await database.withTenant(context.tenantID, logger: context.logger, { try await $0.delivery(id) }) else {
            throw SwitchyardError.notFound("The delivery")
        }
        return try HTTPPayload.json(Components.Schemas.Delivery(record)).response
    }

    /// A new delivery of the same event to the same destination: the same body, so the same `webhook-id`.
    @Sendable func resend(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try context.require(.write)
        let id = try request.uuid("delivery_id", context: context, resource: "The delivery")
        let delivery = try await database.withTenant(context.tenantID, logger: context.logger) { transaction in
            guard try await transaction.delivery(id) != nil else { throw SwitchyardError.notFound("The delivery") }
            guard let delivery = try await transaction.resendDelivery(id) else {
                throw SwitchyardError.conflict("The delivery's destination was deleted.")
            }
            try await transaction.recordAudit(
                context.audit("delivery.resent", "delivery", id.lowercasedString, ["delivery_id": delivery.id.lowercasedString])
            )
            return delivery
        }
        return try Self.accepted(delivery)
    }

    // MARK: Helpers

    /// Refuses (422) a URL the SSRF guard would refuse at delivery time: not https (unless allow-listed), with a user
    /// name or password, or naming or resolving to a loopback, private, link-local, CGNAT or ULA address.
    private func checkReachable(_ url: String) async throws {
        do {
            _ = try await ssrfGuard.check(url)
        } catch {
            throw SwitchyardError.validation("The field 'url' is not valid: \(error.description).")
        }
    }

    private static func require(_ id: UUID, in transaction: TenantTransaction) async throws -> DestinationRecord {
        guard let record = try await transaction.destination(id) else { throw SwitchyardError.notFound("The destination") }
        return record
    }

    private static func accepted(_ delivery: DeliveryRecord) throws -> Response {
        try HTTPPayload.json(
            Components.Schemas.Delivery(delivery),
            status: .accepted,
            headers: [.location: "/v1/deliveries/\(delivery.id.lowercasedString)"]
        ).response
    }

    private static func uuid(_ text: Substring?, name: String) throws -> UUID? {
        guard let text else { return nil }
        guard let id = UUID(uuidString: String(text)) else { throw SwitchyardError.invalidRequest("\(name) must be a UUID.") }
        return id
    }
}
