import Foundation
import Hummingbird
import Logging
import NIOCore
import SwitchyardCore
import SwitchyardMetrics
import SwitchyardPostgres

/// `/healthz`, `/readyz` and `/metrics`, outside `/v1` and without authentication: on the API server, and on the probe
/// server of each `executor` and `scheduler`, which link this module and not the API.
public struct ProbeRoutes<Context: RequestContext>: Sendable {
    let database: Database
    let metrics: MetricsRegistry
    /// What else the process needs to be ready: `nil` when it is, else the reason it is not (an executor whose
    /// jobs are stuck, a scheduler that cannot reach its lock).
    let processReadiness: @Sendable () -> String?
    /// The id a refusal names as its `instance` (the API's request id).
    let requestID: @Sendable (Context) -> String

    /// A probe answers within a second whatever the database does: a load balancer's check must not hang.
    static var probeDeadlines: DatabaseDeadlines { DatabaseDeadlines(acquire: .milliseconds(400), call: .milliseconds(500)) }

    public init(
        database: Database,
        metrics: MetricsRegistry,
        processReadiness: @escaping @Sendable () -> String? = { nil },
        requestID: @escaping @Sendable (Context) -> String = { _ in UUID().uuidString.lowercased() }
    ) {
        self.database = database
        self.metrics = metrics
        self.processReadiness = processReadiness
        self.requestID = requestID
    }

    private struct Status: Encodable {
        let status: String
        let schemaVersion: Int?

        enum CodingKeys: String, CodingKey {
            case status
            case schemaVersion = "schema_version"
        }
    }

    public func addRoutes(to router: Router<Context>) {
        router.get("healthz", use: health)
        router.get("readyz", use: readiness)
        router.get("metrics", use: exposition)
    }

    /// The process is alive; says nothing about its dependencies (a liveness probe must not flap with them).
    @Sendable func health(_ request: Request, context: Context) async throws -> Response {
        try Self.json(Status(status: "ok", schemaVersion: nil))
    }

    /// The database answers, its schema is the one this build needs, and the process itself is ready.
    @Sendable func readiness(_ request: Request, context: Context) async throws -> Response {
        guard let applied = await appliedMigrations(logger: context.logger) else {
            return refusal(.databaseUnavailable, context)
        }
        if let reason = processReadiness() {
            return refusal(SwitchyardError(.unavailable, code: "not-ready", detail: reason), context)
        }
        switch SchemaStatus.evaluate(applied: applied) {
        case .current, .ahead:
            return try Self.json(Status(status: "ready", schemaVersion: applied?.max()))
        case .behind(let current, let required):
            return refusal(
                SwitchyardError(
                    .unavailable,
                    code: "schema-behind",
                    detail: "The database schema is at version \(current); this build needs \(required). Run `switchyard migrate`."
                ),
                context
            )
        }
    }

    /// Checks the database first, so that `switchyard_database_up` is as fresh as the scrape: a process whose pool cannot
    /// reach PostgreSQL says so even when nothing probes its `/readyz`.
    @Sendable func exposition(_ request: Request, context: Context) async throws -> Response {
        _ = await appliedMigrations(logger: context.logger)
        return Response(
            status: .ok,
            headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: metrics.render()))
        )
    }

    /// The applied migration versions (`.some(nil)` before the first migration), or `nil` when the database did not answer
    /// within the probe's deadlines; either way recorded in `switchyard_database_up`.
    private func appliedMigrations(logger: Logger) async -> [Int]?? {
        do {
            let applied = try await database.withCatalog(deadlines: Self.probeDeadlines, logger: logger) {
                try await $0.appliedMigrationVersions()
            }
            metrics.database.setReachable(true)
            return .some(applied)
        } catch {
            metrics.database.setReachable(false)
            return nil
        }
    }

    private func refusal(_ problem: SwitchyardError, _ context: Context) -> Response {
        let rendered = ProblemResponse(problem, instance: requestID(context))
        return Response(status: rendered.status, headers: rendered.headers, body: .init(byteBuffer: ByteBuffer(bytes: rendered.body)))
    }

    private static func json(_ value: some Encodable) throws -> Response {
        let body = try JSONEncoder().encode(value)
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}

/// The probe server of a process that serves no API (`executor`, `scheduler`): `/healthz`, `/readyz` and `/metrics`.
/// `readiness` tells what the process itself needs besides the database.
public func buildProbeApplication(
    database: Database,
    metrics: MetricsRegistry,
    host: String,
    port: Int,
    logger: Logger,
    readiness: @escaping @Sendable () -> String? = { nil }
) -> some ApplicationProtocol {
    let router = Router(context: BasicRequestContext.self)
    ProbeRoutes<BasicRequestContext>(database: database, metrics: metrics, processReadiness: readiness).addRoutes(to: router)
    return Application(router: router, configuration: .init(address: .hostname(host, port: port), serverName: "switchyard"), logger: logger)
}
