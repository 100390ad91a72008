import Foundation
import Logging
import PostgresNIO
import SwitchyardCore
import SwitchyardJobs
import SwitchyardMetrics
import SwitchyardOAuth
import SwitchyardOutbound
import SwitchyardPostgres
import SwitchyardTestSupport
import Testing

/// A provider account's quota learned from its headers is spent together by every process calling it (issue 18):
/// two outbound clients, each with its own limiter and connection pool as two processes have, on one database.
@Suite("Provider quotas shared across processes (issue 18)")
struct SharedProviderQuotaTests {
    @Test("two processes calling one provider account together send no more than each window's announced quota")
    func twoProcessesShareOneQuota() async throws {
        // Each process alone would learn 9 remaining of 10 and spend them: together they would collect 429s.
        try await sendTogether(.init(limit: 10, window: .seconds(2)), senders: 4, requestsEach: 4)
    }

    @Test(
        "requests in flight across a window's end are counted in the window that granted them, and a new window is opened by an announcement that counts them"
    )
    func windowBoundariesInTransit() async throws {
        // Each request takes up to 150 ms to be counted and its answer up to 150 ms more to come back: a window's end
        // is known only within a response's round trip, and requests overtake one another. Tokens of the old window
        // are spent only before its earliest possible end, probes of the next go out only after its latest.
        try await sendTogether(.init(limit: 10, window: .seconds(1), transit: .milliseconds(150)), senders: 4, requestsEach: 8)
    }

    /// Two processes, each with `senders` concurrent senders sending `requestsEach` requests in turn, under `quota`:
    /// every request is answered 200 and the provider never answers 429.
    private func sendTogether(_ quota: FakeProviderAPI.Quota, senders: Int, requestsEach: Int) async throws {
        let environment = try await TestEnvironment.make()
        try await FakeProviderAPI.withRunning { api in
            api.setQuota(quota, for: "/shared")
            try await environment.withTwoProcesses(api) { tenant, clients in
                let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                    for client in clients {
                        for _ in 0..<senders {
                            group.addTask {
                                var codes: [Int] = []
                                for _ in 0..<requestsEach {
                                    codes.append(
                                        try await client.send(api.sharedRequest("/shared", tenant: tenant), logger: environment.logger).status.code
                                    )
                                }
                                return codes.filter { $0 != 200 }.count
                            }
                        }
                    }
                    return try await group.reduce(0, +)
                }
                #expect(statuses == 0, "answers other than 200")
            }
            #expect(api.tooManyRequestsServed == 0)
            #expect(api.requests(to: "/shared").count == 2 * senders * requestsEach + api.tooManyRequestsServed)
        }
    }

    @Test("a 429 with Retry-After seen by one process makes the other wait, without calling the provider")
    func blockIsShared() async throws {
        let environment = try await TestEnvironment.make()
        try await FakeProviderAPI.withRunning { api in
            // Long enough that the second process asks within the block on a loaded machine too (3 s was not).
            api.script("/blocked", [.status(429, headers: ["Retry-After": "8"])])
            try await environment.withTwoProcesses(api) { tenant, clients in
                let first = try await clients[0].send(api.sharedRequest("/blocked", tenant: tenant), logger: environment.logger)
                #expect(first.status == .tooManyRequests)
                let error = await #expect(throws: OutboundError.self) {
                    try await clients[1].send(
                        api.sharedRequest("/blocked", tenant: tenant, maxRateLimitWait: .milliseconds(500)),
                        logger: environment.logger
                    )
                }
                guard case .rateLimited(let retryAfter) = error?.kind else {
                    Issue.record("expected rateLimited, got \(String(describing: error))")
                    return
                }
                #expect(retryAfter > .milliseconds(500))
                #expect(api.requests(to: "/blocked").count == 1)
                // Willing to wait, the other process sends once the block is over.
                let later = try await clients[1].send(api.sharedRequest("/blocked", tenant: tenant), logger: environment.logger)
                #expect(later.status == .ok)
            }
            let received = api.requests(to: "/blocked")
            try #require(received.count == 2)
            #expect(received[1].receivedAt - received[0].receivedAt >= .seconds(1))
        }
    }

    @Test("when the shared store fails, requests still go through, limited by the process alone, and the store is not asked per request")
    func failsOpen() async throws {
        try await FakeProviderAPI.withRunning { api in
            api.setQuota(.init(limit: 100, window: .seconds(10)), for: "/open")
            let store = FailingQuotaStore()
            var configuration = OutboundConfiguration()
            configuration.plainHTTPAllowList.append(api.hostAndPort)
            let metrics = MetricsRegistry(version: "test")
            let client = OutboundClient(configuration: configuration, metrics: metrics.outbound, sharedQuota: store)
            let tenant = TenantID(UUID())
            try await OutboundClient.withClient(client) { client in
                for _ in 0..<10 {
                    let response = try await client.send(api.sharedRequest("/open", tenant: tenant), logger: Logger(label: "test"))
                    #expect(response.status == .ok)
                }
            }
            #expect(api.requests(to: "/open").count == 10)
            // Asked once, then not again until the retry interval (5 s) has passed: once more on a slow machine.
            #expect(store.calls >= 1 && store.calls <= 2, "\(store.calls) calls")
            let exposition = try MetricsTests.Exposition(parsing: String(decoding: metrics.render(), as: UTF8.self))
            let failed = exposition.samples.first { $0.name == "switchyard_outbound_quota_leases_total" && $0.labels == ["outcome": "failed"] }
            #expect(failed?.value == Double(store.calls), "the failed leases are counted in /metrics")
        }
    }

    @Test("a lease takes an eighth of what is left, a report only lowers it, and a block holds every process")
    func leasesFromTheRow() async throws {
        let environment = try await TestEnvironment.make()
        let logger = environment.logger
        try await environment.withDatabase { database in
            let tenant = try await database.withOperator(logger: logger) { try await $0.createTenant(slug: "quotas", name: "quotas") }.id
            func lease(
                _ remaining: Int? = nil,
                unleased: Int = 0,
                key: String = "integration-1",
                spendableFor: Double = 50
            ) async throws -> ProviderQuotaLease {
                try await database.withRateLimiter(logger: logger) {
                    try await $0.leaseProviderQuota(
                        tenant: tenant,
                        key: key,
                        want: 8,
                        announced: remaining.map { AnnouncedQuotaWindow(remaining: $0, spendableFor: .seconds(spendableFor), endsIn: .seconds(60)) },
                        sentUnleased: unleased
                    )
                }
            }
            #expect(try await lease() == .unknown)
            // The announcement opens the window with 40 left (the probe that announced it is counted by the provider).
            guard case .granted(5, let spendLeft) = try await lease(40, unleased: 1) else {
                Issue.record("expected a lease of 5")
                return
            }
            #expect(spendLeft > 30 && spendLeft <= 50)
            // 35 left; another process reports 20 and 2 requests sent without tokens: min(35 - 2, 20) = 20, lease 3.
            guard case .granted(3, _) = try await lease(20, unleased: 2) else {
                Issue.record("expected a lease of 3")
                return
            }
            try await database.withRateLimiter(logger: logger) { try await $0.blockProviderQuota(tenant: tenant, key: "integration-1", seconds: 30) }
            guard case .exhausted(let wait) = try await lease() else {
                Issue.record("expected the block")
                return
            }
            #expect(wait > 10 && wait <= 30)
            // Past the window's earliest end, nothing is granted however much is left, until its latest end.
            guard case .exhausted(let gap) = try await lease(40, unleased: 1, key: "integration-2", spendableFor: -0.1) else {
                Issue.record("expected no tokens after the window's earliest end")
                return
            }
            #expect(gap > 50 && gap <= 60)

            // Only the limiter sees the rows: not the tenant itself, not the operator.
            let seen = try await environment.rowsSeenByAccessMode(of: "provider_quotas", tenant: tenant)
            #expect(seen == ["tenant": 0, "operator": 0, "limiter": 2])
            // A row whose window and block have ended is pruned by the scheduler's housekeeping; a current one is kept.
            try await environment.withOwnerConnection { connection in
                try await connection.query(
                    """
                    UPDATE provider_quotas
                       SET (spend_ends_at, window_ends_at, blocked_until) = (now() - interval '1 second', now() - interval '1 second', now() - interval '1 second')
                    """,
                    logger: logger
                )
            }
            try await JobScheduler(database: database, options: SchedulerOptions(fastJobsSettings()), metrics: nil, logger: logger).housekeeping()
            let rows = try await environment.withOwnerConnection { connection in
                try await connection.query("SELECT count(*)::int FROM provider_quotas", logger: logger).decode(Int.self).collect()
            }
            #expect(rows == [0])
        }
    }
}

/// A store that never answers, as PostgreSQL refusing connections.
private final class FailingQuotaStore: SharedQuotaStore {
    private let count = SharedCounter()
    var calls: Int { count.value }

    func lease(_ request: SharedQuotaLeaseRequest) async throws -> SharedQuotaLease {
        count.add()
        throw SwitchyardError.internal("connection refused")
    }

    func block(tenant: TenantID, key: String, for duration: Duration) async throws {
        count.add()
        throw SwitchyardError.internal("connection refused")
    }
}

extension FakeProviderAPI {
    /// A request to `path` spending `tenant`'s shared quota of one account.
    fileprivate func sharedRequest(_ path: String, tenant: TenantID, maxRateLimitWait: Duration = .seconds(30)) -> OutboundRequest {
        var request = request(.get, path, key: "account-shared", maxRateLimitWait: maxRateLimitWait)
        request.tenant = tenant
        return request
    }
}

extension TestEnvironment {
    /// Runs `body` with a tenant and two outbound clients on two connection pools of this environment's database.
    fileprivate func withTwoProcesses(
        _ api: FakeProviderAPI,
        _ body: @Sendable (TenantID, [OutboundClient]) async throws -> Void
    ) async throws {
        var outbound = OutboundConfiguration()
        outbound.plainHTTPAllowList.append(api.hostAndPort)
        let configuration = outbound
        let logger = self.logger
        try await withDatabase { first in
            try await withDatabase { second in
                let tenant = try await first.withOperator(logger: logger) { try await $0.createTenant(slug: "provider-quota", name: "quota") }.id
                let clients = [first, second].map {
                    OutboundClient(configuration: configuration, metrics: nil, sharedQuota: PostgresProviderQuotaStore(database: $0, logger: logger))
                }
                try await OutboundClient.withClient(clients[0]) { _ in
                    try await OutboundClient.withClient(clients[1]) { _ in
                        try await body(tenant, clients)
                    }
                }
            }
        }
    }
}
