import Foundation
import HummingbirdTesting
import SwitchyardAPIClient
import SwitchyardAPIContract
import SwitchyardCore
import SwitchyardJobs
import SwitchyardPostgres
import SwitchyardTestSupport
import Testing

@Suite("Integration health from recent job outcomes (REQUIREMENTS RL-7)")
struct IntegrationHealthTests {
    @Test("scores: all good is healthy, some failures degraded, most failures or the latest three failing down")
    func evaluate() throws {
        let now = Date()
        #expect(IntegrationHealth.evaluate(outcomes: [], lastError: nil, at: now) == nil)
        #expect(IntegrationHealth.evaluate(outcomes: Array(repeating: true, count: 10), lastError: nil, at: now)?.status == .healthy)
        let degraded = try #require(IntegrationHealth.evaluate(outcomes: [true, false, true, true, true], lastError: "HTTP 503", at: now))
        #expect(
            degraded.status == .degraded && degraded.score == 0.8 && degraded.reason.contains("1 of the last 5")
                && degraded.reason.contains("HTTP 503")
        )
        #expect(
            IntegrationHealth.evaluate(outcomes: [false, false, false] + Array(repeating: true, count: 30), lastError: "x", at: now)?.status == .down
        )
        #expect(IntegrationHealth.evaluate(outcomes: [true, false, false, false, true], lastError: "x", at: now)?.status == .down)
    }

    @Test("failing jobs turn an integration down, successes bring it back; each change is an integration.health_changed event")
    func healthFollowsOutcomes() async throws {
        let environment = try await TestEnvironment.make()
        let logger = environment.logger
        try await environment.withApp { (client: any TestClientProtocol) async throws in
            let made = try await client.makeTenant(slug: "health")
            let tenant = TenantID(try #require(UUID(uuidString: made.id)))
            let integration = try await IntegrationsAPITests.createStripe(client, key: made.key)
            let integrationID = try #require(UUID(uuidString: integration))
            #expect(try await client.request(.get, "/v1/integrations/\(integration)", key: made.key).jsonObject()["health"] is NSNull)
            try await environment.withDatabase(maxConnections: 8) { database in
                let scoring = IntegrationHealthScoring(database: database, metrics: nil)
                let registry = JobQueueTests.registry()
                _ = try await database.withTenant(tenant, logger: logger) {
                    try await $0.enqueue(
                        batch: Array(repeating: try NewJob(FlakyPayload(failures: 100), integrationID: integrationID, maxAttempts: 1), count: 3)
                    )
                }
                try await database.withExecutor(registry: registry, logger: logger) {
                    try await eventually("three dead jobs") { try await database.count(.dead, of: tenant, logger: logger) == 3 }
                }
                #expect(try await scoring.run(logger: logger) == 1)
                let down = try #require(
                    try await client.request(.get, "/v1/integrations/\(integration)", key: made.key).jsonObject()["health"] as? [String: Any]
                )
                #expect(down["status"] as? String == "down" && down["score"] as? Double == 0, "\(down)")
                #expect((down["reason"] as? String)?.contains("try again later") == true)
                #expect(try await scoring.run(logger: logger) == 0)  // no change, no second event

                _ = try await database.withTenant(tenant, logger: logger) {
                    try await $0.enqueue(batch: Array(repeating: try NewJob(NoopPayload(), integrationID: integrationID), count: 30))
                }
                try await database.withExecutor(registry: registry, logger: logger) {
                    try await eventually("thirty jobs succeed") { try await database.count(.succeeded, of: tenant, logger: logger) == 30 }
                }
                #expect(try await scoring.run(logger: logger) == 1)
                let healthy = try #require(
                    try await client.request(.get, "/v1/integrations/\(integration)", key: made.key).jsonObject()["health"] as? [String: Any]
                )
                #expect(healthy["status"] as? String == "healthy", "\(healthy)")
            }
            let events = try await client.api(key: made.key).listEvents(query: .init(_type: "integration.health_changed", integrationId: integration))
                .ok.body.json.data
            // `data` is free-form in the document; here its members are all text.
            let changes = events.compactMap { $0.data.value as? [String: String] }
            #expect(changes.map { $0["to"] ?? "" } == ["down", "healthy"])  // oldest first
            #expect(changes.first?["from"] == "unknown" && changes.last?["from"] == "down")
        }
    }
}
