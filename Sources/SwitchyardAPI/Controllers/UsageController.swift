import Foundation
import Hummingbird
import SwitchyardAPIContract
import SwitchyardCore
import SwitchyardPostgres

/// `GET /v1/metrics/usage` (the calling tenant) and `GET /v1/platform/metrics/usage` (the operator, per tenant): the
/// usage counters of migration 0030, summed per hour or per UTC day.
struct UsageController: Sendable {
    let database: Database

    /// The widest range one request may ask for, per granularity (744 hourly, 400 daily buckets).
    static let maxSpan: [UsageGranularity: TimeInterval] = [.hour: 31 * 86_400, .day: 400 * 86_400]

    func addRoutes(tenant group: RouterGroup<TenantRequestContext>) {
        group.get(use: tenantUsage)
    }

    func addRoutes(operator group: RouterGroup<OperatorRequestContext>) {
        group.get(use: platformUsage)
    }

    @Sendable func tenantUsage(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try request.refuseUnknownQueryParameters(accepting: ["from", "to", "granularity"])
        let range = try UsageRange(request.uri.queryParameters)
        let rows = try await database.withTenant(context.tenantID, logger: context.logger) {
            try await $0.usage(from: range.from, to: range.to, granularity: range.granularity)
        }
        return try HTTPPayload.json(Components.Schemas.UsageReport(range, rows: rows)).response
    }

    @Sendable func platformUsage(_ request: Request, context: OperatorRequestContext) async throws -> Response {
        try request.refuseUnknownQueryParameters(accepting: ["from", "to", "granularity", "tenant_id"])
        let query = request.uri.queryParameters
        let range = try UsageRange(query)
        var tenant: TenantID?
        if let text = query["tenant_id"] {
            guard let id = UUID(uuidString: String(text)) else { throw SwitchyardError.invalidRequest("tenant_id must be a UUID.") }
            tenant = TenantID(id)
        }
        let rows = try await database.withOperator(logger: context.logger) {
            try await $0.usage(tenant: tenant, from: range.from, to: range.to, granularity: range.granularity)
        }
        return try HTTPPayload.json(Components.Schemas.UsageReport(range, rows: rows)).response
    }
}

/// The range and granularity a usage request asks for, checked.
struct UsageRange {
    let granularity: UsageGranularity
    /// The start of the first bucket.
    let from: Date
    let to: Date

    init(_ query: Parameters, now: Date = Date()) throws {
        let granularityText = query["granularity"].map(String.init) ?? UsageGranularity.hour.rawValue
        guard let granularity = UsageGranularity(rawValue: granularityText) else {
            throw SwitchyardError.invalidRequest("granularity must be one of: hour, day.")
        }
        let bucket: TimeInterval = granularity == .hour ? 3600 : 86_400
        let to = try WebhookEventsController.date(query["to"], name: "to") ?? now
        let requestedFrom =
            try WebhookEventsController.date(query["from"], name: "from") ?? to.addingTimeInterval(granularity == .hour ? -86_400 : -30 * 86_400)
        // Buckets are whole UTC hours or days: the range starts at the start of the one holding `from`.
        let from = Date(timeIntervalSince1970: (requestedFrom.timeIntervalSince1970 / bucket).rounded(.down) * bucket)
        // Well-formed but impossible ranges are 422, as for a body: what the document allows, the server parses.
        guard from < to else {
            throw SwitchyardError.validation("from must be before to.")
        }
        let span = UsageController.maxSpan[granularity] ?? 0
        guard to.timeIntervalSince(from) <= span else {
            throw SwitchyardError.validation(
                "The range is at most \(Int(span / 86_400)) days with granularity \(granularity.rawValue); ask for granularity=day or a shorter range."
            )
        }
        self.granularity = granularity
        self.from = from
        self.to = to
    }
}

extension Components.Schemas.UsageReport {
    /// Rows ordered by metric, dimension, tenant and time (as `usage(...)` returns them) become one series each.
    init(_ range: UsageRange, rows: [UsageRow]) {
        var series: [Components.Schemas.UsageSeries] = []
        for row in rows {
            let point = Components.Schemas.UsagePoint(start: row.bucket, value: row.value)
            let tenant = row.tenantID?.rawValue.lowercasedString
            if var last = series.last, last.metric == row.metric, last.dimension == row.dimension, last.tenantId == tenant {
                last.points.append(point)
                last.total += row.value
                series[series.count - 1] = last
            } else {
                series.append(.init(tenantId: tenant, metric: row.metric, dimension: row.dimension, total: row.value, points: [point]))
            }
        }
        self.init(granularity: .init(rawValue: range.granularity.rawValue) ?? .hour, from: range.from, to: range.to, series: series)
    }
}
