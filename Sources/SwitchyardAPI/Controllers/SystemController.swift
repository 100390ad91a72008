import Hummingbird
import NIOCore
import SwitchyardCore
import SwitchyardMetrics
import SwitchyardPostgres

/// Probes and metrics, outside `/v1` and without authentication.
struct SystemController: Sendable {
    let database: Database
    let metrics: MetricsRegistry
    /// What else the process needs to be ready: `nil` when it is, else the reason it is not (an executor whose
    /// jobs are stuck, a scheduler that cannot reach its lock).
    var processReadiness: @Sendable () -> String? = { nil }

    /// A probe answers within a second whatever the database does: a load balancer's check must not hang.
    static let probeDeadlines = DatabaseDeadlines(acquire: .milliseconds(400), call: .milliseconds(500))

    struct Status: Encodable {
        let status: String
        let schemaVersion: Int?

        enum CodingKeys: String, CodingKey {
            case status
            case schemaVersion = "schema_version"
        }
    }

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get("healthz", use: health)
        router.get("readyz", use: readiness)
        router.get("metrics", use: exposition)
    }

    /// The process is alive; says nothing about its dependencies (a liveness probe must not flap with them).
    @Sendable func health(_ request: Request, context: AppRequestContext) async throws -> Response {
        try HTTPPayload.json(Status(status: "ok", schemaVersion: nil)).response
    }

    /// The database answers and its schema is the one this build needs.
    @Sendable func readiness(_ request: Request, context: AppRequestContext) async throws -> Response {
        let applied: [Int]?
        do {
            applied = try await database.withCatalog(deadlines: Self.probeDeadlines, logger: context.logger) {
                try await $0.appliedMigrationVersions()
            }
        } catch {
            throw SwitchyardError.databaseUnavailable
        }
        if let reason = processReadiness() {
            throw SwitchyardError(.unavailable, code: "not-ready", detail: reason)
        }
        switch SchemaStatus.evaluate(applied: applied) {
        case .current, .ahead:
            return try HTTPPayload.json(Status(status: "ready", schemaVersion: applied?.max())).response
        case .behind(let current, let required):
            throw SwitchyardError(
                .unavailable,
                code: "schema-behind",
                detail: "The database schema is at version \(current); this build needs \(required). Run `switchyard migrate`."
            )
        }
    }

    @Sendable func exposition(_ request: Request, context: AppRequestContext) async throws -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: metrics.render()))
        )
    }
}
