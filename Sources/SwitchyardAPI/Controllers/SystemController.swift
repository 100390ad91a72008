import Hummingbird
import NIOCore
import SwitchyardCore
import SwitchyardMetrics
import SwitchyardPostgres

/// Probes and metrics, outside `/v1` and without authentication.
struct SystemController: Sendable {
    let database: Database
    let metrics: MetricsRegistry

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
            applied = try await database.withCatalog(logger: context.logger) { try await $0.appliedMigrationVersions() }
        } catch {
            throw SwitchyardError.databaseUnavailable
        }
        switch SchemaStatus.evaluate(applied: applied) {
        case .current, .ahead:
            return try HTTPPayload.json(Status(status: "ready", schemaVersion: applied?.max())).response
        case .behind(let current, let required):
            throw SwitchyardError(.unavailable, code: "schema-behind", detail: "The database schema is at version \(current); this build needs \(required). Run `switchyard migrate`.")
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
