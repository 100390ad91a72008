import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SwitchyardAPIContract
import SwitchyardCore
import SwitchyardOAuth
import SwitchyardPostgres
import SwitchyardWebhooks

/// The tenant portal: server-rendered pages (no script) for one tenant, reached through a one-time link.
///
/// Every page looks its data up as the session's tenant, so another tenant's id is simply not found (404). Every form
/// posts the session's CSRF token; after an action the browser is redirected to the page it came from (post, redirect,
/// get), except where a secret is shown once, which is rendered in the answer to the post and never stored.
struct PortalController: Sendable {
    let database: Database
    let access: PortalAccess
    let destinations: DestinationActions
    let oauth: OAuthServices
    let publicBaseURL: String
    /// The largest form accepted.
    static let maxFormBytes = 16 * 1024

    func addRoutes(to router: Router<AppRequestContext>) {
        let portal = router.group("portal")
        portal.get("open/{token}", use: openPage)
        portal.post("open/{token}", use: open)
        portal.post("logout", use: logout)
        portal.get(use: overview)
        portal.get("integrations/{integration_id}", use: integration)
        portal.post("integrations/{integration_id}/reconnect", use: reconnect)
        portal.get("webhooks", use: webhooks)
        portal.get("dead-letters", use: deadLetters)
        portal.post("dead-letters/{job_id}/redrive", use: redrive)
        portal.get("destinations", use: destinationList)
        portal.post("destinations", use: createDestination)
        portal.get("destinations/{destination_id}", use: destination)
        portal.post("destinations/{destination_id}", use: updateDestination)
        portal.post("destinations/{destination_id}/test", use: testDestination)
        portal.post("destinations/{destination_id}/rotate-secret", use: rotateSecret)
        portal.post("destinations/{destination_id}/enable", use: enableDestination)
        portal.post("destinations/{destination_id}/disable", use: disableDestination)
    }

    // MARK: Opening and leaving

    /// The link's landing page: a button, so that a link previewer fetching the URL does not use it up.
    @Sendable func openPage(_ request: Request, context: AppRequestContext) async throws -> Response {
        let token = context.parameters.get("token") ?? ""
        let isOpen = try await database.withOperator(logger: context.logger) {
            try await $0.portalLinkIsOpen(tokenHash: OpaqueToken(value: token).hash)
        }
        guard isOpen else { return PortalPage.linkUsed }
        return PortalPage(title: "Open the portal", template: "open", view: ["token": token]).response
    }

    @Sendable func open(_ request: Request, context: AppRequestContext) async throws -> Response {
        let token = context.parameters.get("token") ?? ""
        guard let cookie = try await access.open(linkToken: token, context: context) else { return PortalPage.linkUsed }
        return PortalPage.redirect("/portal", cookie: cookie).response
    }

    @Sendable func logout(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await form(request)
        return try await page(request, context, form: form) { _ in
            var page = PortalPage(
                title: "Logged out",
                template: "message",
                view: ["heading": "You are logged out", "text": "Ask your application for a new link to come back."]
            )
            page.setCookie = try await access.end(request, context: context)
            return page
        }
    }

    // MARK: Pages

    @Sendable func overview(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await page(request, context) { visitor in
            let now = Date()
            let since = Date(timeIntervalSince1970: ((now.timeIntervalSince1970 - 23 * 3600) / 3600).rounded(.down) * 3600)
            let (integrations, events, usage) = try await database.withTenant(visitor.tenantID, logger: context.logger) { transaction in
                (
                    try await transaction.integrations(IntegrationFilter(), page: PageRequest(limit: 100, cursor: nil)).items,
                    try await transaction.eventCountsByHour(since: since),
                    try await transaction.usage(from: since, to: now.addingTimeInterval(3600), granularity: .hour)
                )
            }
            let hours = (0..<24).map { since.addingTimeInterval(TimeInterval($0 * 3600)) }
            let eventCounts = Dictionary(events.map { ($0.hour, $0.count) }, uniquingKeysWith: +)
            let failureCounts = Dictionary(usage.filter(PortalViews.isFailure).map { ($0.bucket, $0.value) }, uniquingKeysWith: +)
            let rows = integrations.map(PortalViews.integrationRow)
            return PortalPage(
                title: "Overview",
                template: "overview",
                view: [
                    "integrations": rows, "hasIntegrations": !rows.isEmpty,
                    "eventsChart": PortalChart.bars(
                        hours.map { .init(label: PortalViews.hour($0), value: eventCounts[$0] ?? 0) },
                        title: "Events per hour",
                        color: "#2d5bd7"
                    ),
                    "failuresChart": PortalChart.bars(
                        hours.map { .init(label: PortalViews.hour($0), value: failureCounts[$0] ?? 0) },
                        title: "Failures per hour",
                        color: "#c0392b"
                    ),
                ],
                nav: "overview"
            )
        }
    }

    @Sendable func integration(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await page(request, context) { visitor in
            let id = try Self.uuid("integration_id", context)
            let (integration, jobs) = try await database.withTenant(visitor.tenantID, logger: context.logger) { transaction in
                (
                    try await transaction.integration(id),
                    try await transaction.jobs(JobFilter(integrationID: id), page: PageRequest(limit: 20, cursor: nil)).items
                )
            }
            guard let integration else { throw PortalPageError.notFound }
            var view = PortalViews.integrationRow(integration)
            view["needsReauth"] = integration.status == .needsReauth
            view["score"] = integration.health.map { String(format: "%.2f", $0.score) }
            let attempts = PortalViews.recentAttempts(jobs, limit: 20)
            view["attempts"] = attempts
            view["hasAttempts"] = !attempts.isEmpty
            return PortalPage(title: integration.displayName, template: "integration", view: view, nav: "overview")
        }
    }

    @Sendable func webhooks(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await page(request, context) { visitor in
            let sources = try await database.withTenant(visitor.tenantID, logger: context.logger) { transaction in
                var sources: [(WebhookSourceRecord, [WebhookEventRecord])] = []
                for source in try await transaction.webhookSources(PageRequest(limit: 50, cursor: nil)).items {
                    let events = try await transaction.webhookEvents(
                        WebhookEventFilter(sourceID: source.id),
                        page: PageRequest(limit: 10, cursor: nil)
                    )
                    sources.append((source, events.items))
                }
                return sources
            }
            let views: [[String: Any]] = sources.map { source, events in
                let rows = events.map(PortalViews.webhookEventRow)
                return [
                    "id": source.id.lowercasedString, "name": source.name,
                    "scheme": (try? WebhookScheme.stored(source.scheme, source: source.id))?.type ?? "",
                    "url": publicBaseURL + "/webhooks/" + source.id.lowercasedString, "events": rows, "hasEvents": !rows.isEmpty,
                ]
            }
            return PortalPage(title: "Webhooks", template: "webhooks", view: ["sources": views], nav: "webhooks")
        }
    }

    @Sendable func deadLetters(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await page(request, context) { visitor in
            let jobs = try await database.withTenant(visitor.tenantID, logger: context.logger) {
                try await $0.jobs(JobFilter(states: [.dead]), page: PageRequest(limit: 100, cursor: nil)).items
            }
            let rows = jobs.map(PortalViews.deadLetterRow)
            return PortalPage(
                title: "Dead letters",
                template: "dead-letters",
                view: ["jobs": rows, "hasJobs": !rows.isEmpty],
                nav: "deadLetters",
                notice: PortalViews.notice(request)
            )
        }
    }

    @Sendable func destinationList(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await page(request, context) { visitor in
            try await destinationListPage(visitor, context: context, problem: nil)
        }
    }

    @Sendable func destination(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await page(request, context) { visitor in
            let id = try Self.uuid("destination_id", context)
            let saved = try await destinations.show(id, tenant: visitor.tenantID, logger: context.logger)
            return try await destinationPage(saved, visitor: visitor, context: context, notice: PortalViews.notice(request))
        }
    }

    // MARK: Actions

    @Sendable func reconnect(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await form(request)
        return try await page(request, context, form: form) { visitor in
            let id = try Self.uuid("integration_id", context)
            let token = OpaqueToken.generate(prefix: "cs_")
            try await database.withTenant(visitor.tenantID, logger: context.logger) { transaction in
                guard let integration = try await transaction.integration(id) else { throw PortalPageError.notFound }
                let session = try await transaction.createConnectSession(
                    NewConnectSession(
                        tokenHash: token.hash,
                        allowedProviders: [integration.provider],
                        integrationID: id,
                        endUserID: integration.endUserID,
                        tags: integration.tags,
                        extraScopes: [],
                        connectionParameters: integration.connectionParameters,
                        returnTo: nil,
                        expiresAt: Date().addingTimeInterval(TimeInterval(oauth.settings.connectSessionTTLSeconds))
                    )
                )
                try await transaction.recordAudit(
                    visitor.auditor(requestID: context.requestID)("connect_session.created", "connect_session", session.id.lowercasedString, [:])
                )
            }
            return PortalPage.redirect("/connect/" + token.value)
        }
    }

    @Sendable func redrive(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await form(request)
        return try await page(request, context, form: form) { visitor in
            let id = try Self.uuid("job_id", context)
            let redriven = try await database.withTenant(visitor.tenantID, logger: context.logger) { transaction in
                let jobs = try await transaction.redriveDeadJobs(JobFilter(ids: [id]), limit: 1)
                if !jobs.isEmpty {
                    try await transaction.recordAudit(visitor.auditor(requestID: context.requestID)("job.redriven", "job", id.lowercasedString, [:]))
                }
                return !jobs.isEmpty
            }
            guard redriven else { throw PortalPageError.notFound }
            return PortalPage.redirect("/portal/dead-letters?notice=redriven")
        }
    }

    @Sendable func createDestination(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await form(request)
        return try await page(request, context, form: form) { visitor in
            do {
                let input = try Components.Schemas.DestinationCreate.decode(from: PortalViews.destinationJSON(form))
                let saved = try await destinations.create(
                    input,
                    tenant: visitor.tenantID,
                    audit: visitor.auditor(requestID: context.requestID),
                    logger: context.logger
                )
                return try await destinationPage(saved, visitor: visitor, context: context, notice: "The destination is added.")
            } catch let error as SwitchyardError where error.kind.statusCode == 422 || error.kind.statusCode == 400 {
                return try await destinationListPage(visitor, context: context, problem: error.detail)
            }
        }
    }

    @Sendable func updateDestination(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await form(request)
        return try await page(request, context, form: form) { visitor in
            let id = try Self.uuid("destination_id", context)
            do {
                let body = PortalViews.destinationJSON(form)
                _ = try await destinations.update(
                    id,
                    Result { try DestinationPatch.decode(from: body) },
                    tenant: visitor.tenantID,
                    audit: visitor.auditor(requestID: context.requestID),
                    logger: context.logger
                )
                return PortalPage.redirect("/portal/destinations/\(id.lowercasedString)?notice=saved")
            } catch let error as SwitchyardError where error.kind.statusCode == 422 || error.kind.statusCode == 400 {
                let saved = try await destinations.show(id, tenant: visitor.tenantID, logger: context.logger)
                return try await destinationPage(saved, visitor: visitor, context: context, problem: error.detail)
            }
        }
    }

    @Sendable func testDestination(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await destinationAction(request, context, notice: "test-sent") { id, visitor, audit in
            _ = try await destinations.test(id, tenant: visitor.tenantID, audit: audit, logger: context.logger)
        }
    }

    @Sendable func enableDestination(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await destinationAction(request, context, notice: "enabled") { id, visitor, audit in
            _ = try await destinations.enable(id, tenant: visitor.tenantID, audit: audit, logger: context.logger)
        }
    }

    @Sendable func disableDestination(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await destinationAction(request, context, notice: "disabled") { id, visitor, audit in
            _ = try await destinations.disable(
                id,
                reason: .success("disabled in the portal"),
                tenant: visitor.tenantID,
                audit: audit,
                logger: context.logger
            )
        }
    }

    /// The new secret is in this answer only (`Cache-Control: no-store`).
    @Sendable func rotateSecret(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await form(request)
        return try await page(request, context, form: form) { visitor in
            let id = try Self.uuid("destination_id", context)
            let saved = try await destinations.rotateSecret(
                id,
                gracePeriod: .success(nil),
                tenant: visitor.tenantID,
                audit: visitor.auditor(requestID: context.requestID),
                logger: context.logger
            )
            return try await destinationPage(
                saved,
                visitor: visitor,
                context: context,
                notice: "The secret is rotated; the old one signs for 24 more hours."
            )
        }
    }

    // MARK: Helpers

    /// Runs a page for the request's visitor (a form's poster when `form` is given), turning what went wrong into a page.
    private func page(
        _ request: Request,
        _ context: AppRequestContext,
        form: [String: String]? = nil,
        _ body: (PortalVisitor) async throws -> PortalPage
    ) async throws -> Response {
        do {
            let visitor =
                if let form { try await access.poster(request, form: form, context: context) } else {
                    try await access.visitor(request, context: context)
                }
            var page = try await body(visitor)
            page.csrf = visitor.csrf
            return page.response
        } catch let error as PortalPageError {
            return PortalPage.failure(error)
        } catch let error as SwitchyardError where error.kind.statusCode == 404 {
            return PortalPage.failure(.notFound)
        } catch let error as SwitchyardError where error.kind.statusCode == 409 {
            return PortalPage(
                title: "Not now",
                template: "message",
                view: ["heading": "That cannot be done now", "text": error.detail],
                status: .conflict
            )
            .response
        }
    }

    private func destinationAction(
        _ request: Request,
        _ context: AppRequestContext,
        notice: String,
        _ action: @escaping (UUID, PortalVisitor, DestinationActions.Audit) async throws -> Void
    ) async throws -> Response {
        let form = try await form(request)
        return try await page(request, context, form: form) { visitor in
            let id = try Self.uuid("destination_id", context)
            try await action(id, visitor, visitor.auditor(requestID: context.requestID))
            return PortalPage.redirect("/portal/destinations/\(id.lowercasedString)?notice=\(notice)")
        }
    }

    private func destinationListPage(_ visitor: PortalVisitor, context: AppRequestContext, problem: String?) async throws -> PortalPage {
        let records = try await database.withTenant(visitor.tenantID, logger: context.logger) {
            try await $0.destinations(PageRequest(limit: 100, cursor: nil)).items
        }
        let rows = records.map(PortalViews.destinationRow)
        return PortalPage(
            title: "Destinations",
            template: "destinations",
            view: ["destinations": rows, "hasDestinations": !rows.isEmpty],
            nav: "destinations",
            problem: problem,
            status: problem == nil ? .ok : .unprocessableContent
        )
    }

    private func destinationPage(
        _ saved: DestinationActions.Saved,
        visitor: PortalVisitor,
        context: AppRequestContext,
        notice: String? = nil,
        problem: String? = nil
    ) async throws -> PortalPage {
        let id = saved.record.id
        let deliveries = try await database.withTenant(visitor.tenantID, logger: context.logger) { transaction in
            var details: [DeliveryRecord] = []
            for delivery in try await transaction.deliveries(DeliveryFilter(destinationID: id), page: PageRequest(limit: 10, cursor: nil)).items {
                if let detail = try await transaction.delivery(delivery.id) { details.append(detail) }
            }
            return details
        }
        var view = PortalViews.destinationRow(saved.record)
        view["secret"] = saved.newSecret
        view["secretCount"] = saved.secrets.count
        view["deliveries"] = deliveries.map(PortalViews.deliveryRow)
        return PortalPage(
            title: "Destination",
            template: "destination",
            view: view,
            nav: "destinations",
            notice: notice,
            problem: problem,
            status: problem == nil ? .ok : .unprocessableContent
        )
    }

    /// An `application/x-www-form-urlencoded` body (the only kind the portal's forms send), at most `maxFormBytes`.
    private func form(_ request: Request) async throws -> [String: String] {
        let body = try await request.body.collect(upTo: Self.maxFormBytes)
        return PortalViews.parseForm(String(decoding: body.readableBytesView, as: UTF8.self))
    }

    static func uuid(_ name: String, _ context: AppRequestContext) throws -> UUID {
        guard let text = context.parameters.get(name), let id = UUID(uuidString: text) else { throw PortalPageError.notFound }
        return id
    }
}
