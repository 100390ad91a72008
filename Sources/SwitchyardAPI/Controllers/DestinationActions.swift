import Foundation
import Logging
import SwitchyardAPIContract
import SwitchyardCore
import SwitchyardDestinations
import SwitchyardOutbound
import SwitchyardPostgres

/// What can be done to a tenant's destination, with its rules and its audit event: the API (`DestinationsController`)
/// and the portal both go through here, so a form in the portal checks exactly what a request body does.
struct DestinationActions: Sendable {
    let database: Database
    /// The outbound client's guard: a URL is refused here by the rules its deliveries are sent under (API-5, DS-3).
    let ssrfGuard: SSRFGuard

    /// Unexpired signing secrets a destination may have: every delivery carries one signature per secret.
    static let maxSecrets = 10

    /// Who acts, for the audit log: an API key or a portal session.
    typealias Audit = @Sendable (_ action: String, _ resourceType: String, _ resourceID: String?, _ details: [String: String]) -> NewAuditEvent

    struct Saved: Sendable {
        let record: DestinationRecord
        let secrets: [DestinationSecretRecord]
        /// A secret made by this action, shown once.
        var newSecret: String?
    }

    func create(_ input: Components.Schemas.DestinationCreate, tenant: TenantID, audit: Audit, logger: Logger) async throws -> Saved {
        let settings = try input.settings
        try await checkReachable(settings.url)
        let secret = StandardWebhookSecret.generate().text
        return try await database.withTenant(tenant, logger: logger) { transaction in
            let record = try await transaction.createDestination(settings, secret: secret)
            try await transaction.recordAudit(audit("destination.created", "destination", record.id.lowercasedString, [:]))
            return Saved(record: record, secrets: try await transaction.destinationSecrets(of: record.id), newSecret: secret)
        }
    }

    func show(_ id: UUID, tenant: TenantID, logger: Logger) async throws -> Saved {
        try await database.withTenant(tenant, logger: logger) { transaction in
            Saved(record: try await Self.require(id, in: transaction), secrets: try await transaction.destinationSecrets(of: id))
        }
    }

    /// `parsed` is decoded before the destination is looked up and thrown after: another tenant's destination is a 404
    /// whatever the body says.
    func update(_ id: UUID, _ parsed: Result<DestinationPatch, any Error>, tenant: TenantID, audit: Audit, logger: Logger) async throws -> Saved {
        _ = try await database.withTenant(tenant, logger: logger) { try await Self.require(id, in: $0) }
        let patch = try parsed.get()
        // Resolved outside the transaction, which would otherwise hold its connection through a DNS lookup.
        if let url = patch.update.url { try await checkReachable(url) }
        return try await database.withTenant(tenant, logger: logger) { transaction in
            let current = try await Self.require(id, in: transaction)
            let change = try patch.settings(replacing: current)
            guard let record = try await transaction.updateDestination(id, change.settings, replacingHeaders: change.replacingHeaders) else {
                throw SwitchyardError.notFound("The destination")
            }
            try await transaction.recordAudit(audit("destination.updated", "destination", id.lowercasedString, [:]))
            return Saved(record: record, secrets: try await transaction.destinationSecrets(of: id))
        }
    }

    /// A new secret, shown once; the others keep signing for the grace period, so both signatures go out meanwhile.
    func rotateSecret(
        _ id: UUID,
        gracePeriod: Result<Int?, any Error>,
        tenant: TenantID,
        audit: Audit,
        logger: Logger
    ) async throws -> Saved {
        let secret = StandardWebhookSecret.generate().text
        return try await database.withTenant(tenant, logger: logger) { transaction in
            let record = try await Self.require(id, in: transaction)
            let grace = try gracePeriod.get() ?? Components.Schemas.DestinationSecretRotation.defaultGracePeriodSeconds
            guard try await transaction.destinationSecrets(of: id).count < Self.maxSecrets else {
                throw SwitchyardError.conflict(
                    "The destination has \(Self.maxSecrets) unexpired secrets; rotate again when the grace period of one has ended."
                )
            }
            let added = try await transaction.addDestinationSecret(secret, to: id, expiresAt: nil)
            try await transaction.expireOtherDestinationSecrets(of: id, keeping: added.id, at: Date().addingTimeInterval(TimeInterval(grace)))
            try await transaction.recordAudit(
                audit(
                    "destination.secret_rotated",
                    "destination",
                    id.lowercasedString,
                    ["secret_id": added.id.lowercasedString, "grace_period_seconds": "\(grace)"]
                )
            )
            return Saved(record: record, secrets: try await transaction.destinationSecrets(of: id), newSecret: secret)
        }
    }

    func enable(_ id: UUID, tenant: TenantID, audit: Audit, logger: Logger) async throws -> Saved {
        try await database.withTenant(tenant, logger: logger) { transaction in
            var record = try await Self.require(id, in: transaction)
            if !record.enabled {
                guard let enabled = try await transaction.enableDestination(id) else { throw SwitchyardError.notFound("The destination") }
                record = enabled
                try await transaction.recordAudit(audit("destination.enabled", "destination", id.lowercasedString, [:]))
            }
            return Saved(record: record, secrets: try await transaction.destinationSecrets(of: id))
        }
    }

    func disable(_ id: UUID, reason: Result<String?, any Error>, tenant: TenantID, audit: Audit, logger: Logger) async throws -> Saved {
        try await database.withTenant(tenant, logger: logger) { transaction in
            var record = try await Self.require(id, in: transaction)
            let reason = try reason.get() ?? "disabled through the API"
            if record.enabled {
                guard let disabled = try await transaction.disableDestination(id, reason: reason) else {
                    throw SwitchyardError.notFound("The destination")
                }
                record = disabled
                try await transaction.recordAudit(audit("destination.disabled", "destination", id.lowercasedString, [:]))
            }
            return Saved(record: record, secrets: try await transaction.destinationSecrets(of: id))
        }
    }

    /// One delivery of a synthetic `destination.test` event, to this destination only.
    func test(_ id: UUID, tenant: TenantID, audit: Audit, logger: Logger) async throws -> DeliveryRecord {
        try await database.withTenant(tenant, logger: logger) { transaction in
            guard try await Self.require(id, in: transaction).enabled else {
                throw SwitchyardError.conflict("The destination is disabled; enable it to send it a test event.")
            }
            guard let delivery = try await transaction.enqueueTestDelivery(to: id) else { throw SwitchyardError.notFound("The destination") }
            try await transaction.recordAudit(
                audit("destination.tested", "destination", id.lowercasedString, ["delivery_id": delivery.id.lowercasedString])
            )
            return delivery
        }
    }

    /// Refuses (422) a URL the SSRF guard would refuse at delivery time: not https (unless allow-listed), with a user
    /// name or password, or naming or resolving to a loopback, private, link-local, CGNAT or ULA address.
    func checkReachable(_ url: String) async throws {
        do {
            _ = try await ssrfGuard.check(url)
        } catch {
            throw SwitchyardError.validation("The field 'url' is not valid: \(error.description).")
        }
    }

    static func require(_ id: UUID, in transaction: TenantTransaction) async throws -> DestinationRecord {
        guard let record = try await transaction.destination(id) else { throw SwitchyardError.notFound("The destination") }
        return record
    }
}

extension TenantRequestContext {
    /// This request's caller as the actor of audit events.
    var auditor: DestinationActions.Audit {
        let caller = caller.key.displayPrefix
        let requestID = requestID
        return { action, type, id, details in
            NewAuditEvent(actor: caller, action: action, resourceType: type, resourceID: id, requestID: requestID, details: details)
        }
    }
}
