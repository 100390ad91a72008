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
    let actions: DestinationActions

    /// Events one replay queues at most; a capped replay says where to go on from.
    static let replayLimit = 100_000

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
        let saved = try await actions.create(input, tenant: context.tenantID, audit: context.auditor, logger: context.logger)
        return try HTTPPayload.json(
            Components.Schemas.Destination(saved.record, secrets: saved.secrets, secret: saved.newSecret),
            status: .created,
            headers: [.location: "/v1/destinations/\(saved.record.id.lowercasedString)", .cacheControl: "no-store"]
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
        let saved = try await actions.show(id, tenant: context.tenantID, logger: context.logger)
        return try HTTPPayload.json(Components.Schemas.Destination(saved.record, secrets: saved.secrets)).response
    }

    @Sendable func update(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try context.require(.write)
        let id = try request.uuid("destination_id", context: context, resource: "The destination")
        let body = try await request.collectJSONBody(limit: limits.maxBodyBytes)
        let saved = try await actions.update(
            id,
            Result { try DestinationPatch.decode(from: body) },
            tenant: context.tenantID,
            audit: context.auditor,
            logger: context.logger
        )
        return try HTTPPayload.json(Components.Schemas.Destination(saved.record, secrets: saved.secrets)).response
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
        let grace = Result { try body.readableBytes == 0 ? nil : Components.Schemas.DestinationSecretRotation.decode(from: body).gracePeriodSeconds }
        let saved = try await actions.rotateSecret(id, gracePeriod: grace, tenant: context.tenantID, audit: context.auditor, logger: context.logger)
        return try HTTPPayload.json(
            Components.Schemas.Destination(saved.record, secrets: saved.secrets, secret: saved.newSecret),
            headers: [.cacheControl: "no-store"]
        ).response
    }

    @Sendable func enable(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try context.require(.write)
        let id = try request.uuid("destination_id", context: context, resource: "The destination")
        let saved = try await actions.enable(id, tenant: context.tenantID, audit: context.auditor, logger: context.logger)
        return try HTTPPayload.json(Components.Schemas.Destination(saved.record, secrets: saved.secrets)).response
    }

    @Sendable func disable(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try context.require(.write)
        let id = try request.uuid("destination_id", context: context, resource: "The destination")
        let body = try await request.collectJSONBody(limit: limits.maxBodyBytes)
        let reason = Result { try body.readableBytes == 0 ? nil : Components.Schemas.DestinationDisable.decode(from: body).reason }
        let saved = try await actions.disable(id, reason: reason, tenant: context.tenantID, audit: context.auditor, logger: context.logger)
        return try HTTPPayload.json(Components.Schemas.Destination(saved.record, secrets: saved.secrets)).response
    }

    /// One delivery of a synthetic `destination.test` event, to this destination only.
    @Sendable func test(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try context.require(.write)
        let id = try request.uuid("destination_id", context: context, resource: "The destination")
        return try Self.accepted(try await actions.test(id, tenant: context.tenantID, audit: context.auditor, logger: context.logger))
    }

    /// Every recorded event since a time that the destination's filter matches, delivered to it again.
    @Sendable func replay(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try context.require(.write)
        let id = try request.uuid("destination_id", context: context, resource: "The destination")
        let body = try await request.collectJSONBody(limit: limits.maxBodyBytes)
        let parsed = Result { try Components.Schemas.DestinationReplay.decode(from: body) }
        let replayed = try await database.withTenant(context.tenantID, logger: context.logger) { transaction in
            _ = try await DestinationActions.require(id, in: transaction)
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
