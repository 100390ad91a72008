import Foundation
import Logging
import SwitchyardCore
import SwitchyardMetrics
import SwitchyardPostgres

/// Scores every integration with recent job attempts (REQUIREMENTS RL-7) and records a change of
/// status as an `integration.health_changed` event for the tenant. Run by the scheduler.
public struct IntegrationHealthScoring: Sendable {
    let database: Database
    let window: Duration
    let metrics: JobMetrics?

    public init(database: Database, window: Duration = .seconds(3600), metrics: JobMetrics?) {
        self.database = database
        self.window = window
        self.metrics = metrics
    }

    /// One pass; returns how many integrations changed status.
    @discardableResult
    public func run(logger: Logger) async throws -> Int {
        let recent = try await database.withQueue(logger: logger) { try await $0.recentIntegrationOutcomes(window: window) }
        var changed = 0
        var counts: [IntegrationHealth.Status: Int] = [:]
        let now = Date()
        for integration in recent {
            guard let health = IntegrationHealth.evaluate(outcomes: integration.outcomes, lastError: integration.lastError, at: now) else { continue }
            counts[health.status, default: 0] += 1
            let didChange = try await database.withTenant(integration.tenantID, logger: logger) { transaction in
                let previous = try await transaction.setIntegrationHealth(integration.integrationID, health)
                guard previous != health.status else { return false }
                try await transaction.recordEvent(
                    "integration.health_changed",
                    integrationID: integration.integrationID,
                    data: [
                        "from": previous?.rawValue ?? "unknown", "to": health.status.rawValue, "reason": health.reason, "score": "\(health.score)",
                    ]
                )
                return true
            }
            if didChange { changed += 1 }
        }
        metrics?.setIntegrationHealth(IntegrationHealth.Status.allCases.map { (status: $0.rawValue, count: counts[$0] ?? 0) })
        return changed
    }
}
