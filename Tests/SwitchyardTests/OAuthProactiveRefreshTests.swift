import Foundation
import HummingbirdTesting
import SwitchyardAPI
import SwitchyardAPIClient
import SwitchyardAPIContract
import SwitchyardCore
import SwitchyardJobs
import SwitchyardPostgres
import SwitchyardTestSupport
import Testing

@Suite("Proactive OAuth refresh through the job queue (REQUIREMENTS OA-5, OA-7)")
struct OAuthProactiveRefreshTests {
    @Test(
        "a stored refreshable token gets an oauth.refresh job; the executor refreshes before expiry, nobody asking; a refused grant dead-letters it"
    )
    func refreshesBeforeExpiry() async throws {
        try await FakeOAuthProvider.withRunning { fake in
            // Four-second tokens: the refresh job is due halfway, two seconds after the token is stored.
            fake.update { $0.accessTokenLifetime = 4 }
            let environment = try await OAuthFixture.environment(for: fake)
            let logger = environment.logger
            try await environment.withApp { (client: any TestClientProtocol) async throws in
                let fixture = try await OAuthFixture.make(client, environment: environment, fake: fake)
                let integration = try #require(UUID(uuidString: try await fixture.connect(client)))
                let connectedToken = try #require(fake.lastIssuedAccessToken)
                let tenant = TenantID(try #require(UUID(uuidString: fixture.tenantID)))
                try await environment.withDatabase(maxConnections: 8) { database in
                    let queued = try await database.withTenant(tenant, logger: logger) {
                        try await $0.jobs(JobFilter(states: [.queued], kind: OAuthRefreshPayload.kind), page: PageRequest(limit: 10, cursor: nil))
                    }.items
                    #expect(queued.count == 1 && queued.first?.integrationID == integration)
                    #expect(fake.counters.refreshGrants == 0)

                    let outbound = environment.makeOutboundClient()
                    let registry = JobRegistry.executor(configuration: environment.configuration, database: database, outbound: outbound)
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask { try await outbound.run() }
                        defer { group.cancelAll() }
                        try await database.withExecutor(registry: registry, logger: logger) {
                            try await eventually("the executor refreshes the token") { fake.counters.refreshGrants >= 1 }
                            // The new token has its own refresh job; the first one succeeded. (Each new token's job is due
                            // two seconds later, so a loaded machine may already have run the second: only the kinds of
                            // state are checked, not that exactly two jobs exist at the moment of the look.)
                            try await eventually("the next refresh is queued") {
                                let states = try await database.withTenant(tenant, logger: logger) {
                                    try await $0.jobs(JobFilter(kind: OAuthRefreshPayload.kind), page: PageRequest(limit: 10, cursor: nil))
                                }.items.map(\.state)
                                return Set(states) == [.queued, .succeeded] && states.filter { $0 == .queued }.count == 1
                            }
                            let credential = try await database.withTenant(tenant, logger: logger) { try await $0.credential(for: integration) }
                            guard case .oauth2(let tokens)? = credential else { throw TestFailure("no OAuth credential") }
                            // A refreshed token, not the one from the connect. (It may have expired by now: four
                            // seconds pass quickly on a loaded machine.)
                            #expect(tokens.accessToken != connectedToken && fake.hasIssued(accessToken: tokens.accessToken))

                            // The provider forgets the grant: the next refresh is refused, the job dead-letters without
                            // retries and the integration needs re-authorization.
                            fake.forgetAllGrants()
                            try await eventually("the refused refresh is a dead letter") {
                                try await database.withTenant(tenant, logger: logger) {
                                    try await $0.jobs(
                                        JobFilter(states: [.dead], kind: OAuthRefreshPayload.kind),
                                        page: PageRequest(limit: 10, cursor: nil)
                                    )
                                }.items.count == 1
                            }
                        }
                    }
                    let dead = try await database.withTenant(tenant, logger: logger) {
                        try await $0.jobs(JobFilter(states: [.dead]), page: PageRequest(limit: 10, cursor: nil))
                    }.items
                    #expect(dead.first?.attempts == 1 && dead.first?.lastError?.contains("invalid_grant") == true)
                }
                #expect(try await fixture.integration(client, integration.lowercasedString).status == .needsReauth)
            }
        }
    }
}
