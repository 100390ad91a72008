import AsyncHTTPClient
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import PostgresNIO
import SwitchyardAPI
import SwitchyardCore
import SwitchyardDevCluster
import SwitchyardJobs
import SwitchyardMetrics
import SwitchyardTestSupport
import Synchronization
import Testing

@testable import SwitchyardPostgres

/// A tenant key's API rate limit holds across `serve` processes sharing one PostgreSQL (issue 18), within the
/// tolerance `SharedRateLimiter` states: burst + rate x T + N x 1.5 x lease size over any T.
@Suite("Rate limits shared across processes (issue 18)")
struct SharedRateLimitTests {
    @Test(
        "the lease size is ceil(rate / 16), at least 1 and at most half the burst",
        arguments: [(50.0, 100, 4), (20, 20, 2), (1, 5, 1), (1000, 100, 50), (10_000, 10_000, 625), (100, 1, 1), (100, 3, 1)]
    )
    func leaseSize(rate: Double, burst: Int, expected: Int) {
        #expect(SharedRateLimiter.leaseSize(ratePerSecond: rate, burst: burst) == expected)
    }

    @Test("the limiter's transactions do not wait for their commit to be flushed; a tenant's, on the same connections next, do")
    func limiterCommitsWithoutWaitingForTheFlush() async throws {
        let environment = try await TestEnvironment.make()
        let logger = environment.logger
        // The test cluster turns synchronous commits off for speed; this database's sessions have them on, as in
        // production.
        try await environment.withOwnerConnection { owner in
            try await owner.query(
                "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET synchronous_commit = on', current_database()); END $$",
                logger: logger
            )
        }
        try await environment.withDatabase { database in
            let tenant = try await database.withOperator(logger: logger) { try await $0.createTenant(slug: "flush", name: "flush") }.id
            let setting: PostgresQuery = "SELECT current_setting('synchronous_commit')"
            for _ in 0..<3 {
                let limiter = try await database.withRateLimiter(logger: logger) { try await $0.query(setting).decode(String.self).collect().first }
                #expect(limiter == "off")
                let tenantTransaction = try await database.withTenant(tenant, logger: logger) { transaction in
                    try await transaction.query(setting).decode(String.self).collect().first
                }
                #expect(tenantTransaction == "on")
            }
        }
    }

    @Test(
        "a lease is all or nothing from a bucket that starts full and refills by elapsed time; only the limiter sees buckets; housekeeping prunes full ones"
    )
    func leasesFromTheBucket() async throws {
        let environment = try await TestEnvironment.make()
        let logger = environment.logger
        try await environment.withDatabase { database in
            let tenant = try await database.withOperator(logger: logger) { try await $0.createTenant(slug: "buckets", name: "buckets") }.id
            let key = UUID()
            // A rate slow enough that the seconds a loaded machine takes between two leases refill next to nothing.
            let bucket = TenantScopedID(tenant: tenant.rawValue, id: key)
            let lease = { @Sendable in
                let leases = try await database.withRateLimiter(logger: logger) {
                    try await $0.lease([bucket], tokens: 4, ratePerSecond: 0.001, burst: 10)
                }
                return try #require(leases[bucket])
            }
            let first = try await lease()
            #expect(first.granted == 4)
            #expect(abs(first.tokensLeft - 6) < 0.1)
            #expect(try await lease().granted == 4)
            let refused = try await lease()
            #expect(refused.granted == 0, "\(refused)")
            #expect(refused.tokensLeft > 1.9 && refused.tokensLeft < 2.5, "\(refused)")
            // 2,000 s later the bucket has refilled 2 tokens: a lease of 4 is granted again.
            try await environment.withOwnerConnection { connection in
                try await connection.query("UPDATE rate_limit_buckets SET updated_at = updated_at - interval '2000 seconds'", logger: logger)
            }
            let refilled = try await lease()
            #expect(refilled.granted == 4 && refilled.tokensLeft < 0.5, "\(refilled)")

            // Only the limiter sees the rows: not the tenant itself, not the operator.
            let seen = try await environment.rowsSeenByAccessMode(of: "rate_limit_buckets", tenant: tenant)
            #expect(seen == ["tenant": 0, "operator": 0, "limiter": 1])
            #expect(try await database.withRateLimiter(logger: logger) { try await $0.pruneFullBuckets() } == 0)
            try await environment.withOwnerConnection { connection in
                try await connection.query("UPDATE rate_limit_buckets SET full_at = now() - interval '1 second'", logger: logger)
            }
            // The scheduler's housekeeping prunes them.
            try await JobScheduler(database: database, options: SchedulerOptions(fastJobsSettings()), metrics: nil, logger: logger).housekeeping()
            let rows = try await environment.withOwnerConnection { connection in
                try await connection.query("SELECT count(*)::int FROM rate_limit_buckets", logger: logger).decode(Int.self).collect()
            }
            #expect(rows == [0])
            // Gone means full again.
            let afresh = try await lease()
            #expect(afresh.granted == 4 && abs(afresh.tokensLeft - 6) < 0.1, "\(afresh)")
        }
    }

    @Test("one statement leases for several keys, each from its own bucket; a key given twice leases once")
    func leasesForSeveralKeys() async throws {
        let environment = try await TestEnvironment.make()
        let logger = environment.logger
        try await environment.withDatabase { database in
            let tenants = try await database.withOperator(logger: logger) { transaction in
                [
                    try await transaction.createTenant(slug: "batch-a", name: "a").id,
                    try await transaction.createTenant(slug: "batch-b", name: "b").id,
                ]
            }
            let drained = TenantScopedID(tenant: tenants[0].rawValue, id: UUID())
            let fresh = TenantScopedID(tenant: tenants[0].rawValue, id: UUID())
            let other = TenantScopedID(tenant: tenants[1].rawValue, id: UUID())
            // A rate slow enough that a loaded machine's seconds refill next to nothing.
            let lease = { @Sendable (keys: [TenantScopedID]) in
                try await database.withRateLimiter(logger: logger) { try await $0.lease(keys, tokens: 4, ratePerSecond: 0.001, burst: 10) }
            }
            _ = try await lease([drained])
            _ = try await lease([drained])
            let leases = try await lease([other, drained, fresh, other])
            #expect(leases.count == 3)
            #expect(leases[drained]?.granted == 0, "2 tokens left, fewer than a lease: \(String(describing: leases[drained]))")
            #expect(leases[fresh]?.granted == 4 && abs((leases[fresh]?.tokensLeft ?? 0) - 6) < 0.1)
            #expect(leases[other]?.granted == 4 && abs((leases[other]?.tokensLeft ?? 0) - 6) < 0.1, "leased once, not twice")
            let rows = try await environment.withOwnerConnection { connection in
                try await connection.query("SELECT count(*)::int FROM rate_limit_buckets", logger: logger).decode(Int.self).collect()
            }
            #expect(rows == [3])
        }
    }

    @Test("two serve processes on one database admit one key's requests within burst + rate x T + 2 x 1.5 leases, and refuse the rest with 429")
    func twoProcessesShareOneLimit() async throws {
        // Low enough that even a loaded machine's two servers are asked for more than the limit in the 2 s.
        let rate = 5
        let burst = 5
        let environment = try await TestEnvironment.make()
        let settings = [
            "SWITCHYARD_ADMIN_KEY": TestEnvironment.adminKey, "SWITCHYARD_RATE_LIMIT_PER_SECOND": "\(rate)",
            "SWITCHYARD_RATE_LIMIT_BURST": "\(burst)",
        ]
        try await ServeProcesses.with(2, environment: environment, settings: settings) { client, ports in
            let (_, key) = try await client.makeTenant(port: ports[0], slug: "shared-limit")
            // Each server makes its database connections on demand, and a debug build's first ones (SCRAM's key
            // derivation) take seconds on a loaded machine: in a full CI run the 2 s window below once saw 11 requests
            // and no refusal. Warm both servers up with another tenant's key, as many requests at once as senders.
            let (_, warmUpKey) = try await client.makeTenant(port: ports[0], slug: "shared-limit-warm-up")
            for port in ports {
                try await withThrowingTaskGroup(of: Void.self) { warmUp in
                    for _ in 0..<8 {
                        warmUp.addTask {
                            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/me")
                            request.headers.add(name: "Authorization", value: "Bearer \(warmUpKey)")
                            _ = try await client.execute(request, timeout: .seconds(60)).body.collect(upTo: 1 << 16)
                        }
                    }
                    try await warmUp.waitForAll()
                }
            }

            let leasesBeforeSending = try await leaseCounts(client, ports: ports)

            let tally = Tally()
            let started = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { senders in
                for sender in 0..<8 {
                    senders.addTask {
                        var turn = sender
                        // At least 2 s, and on a machine too loaded for the servers to be asked for more than the
                        // limit in that time, until both have admitted and one has refused (the bounds below use
                        // the time measured).
                        while ContinuousClock.now - started < .seconds(2)
                            || (!tally.counts.sawBothOutcomes && ContinuousClock.now - started < .seconds(30))
                        {
                            turn += 1
                            let server = turn % 2
                            var request = HTTPClientRequest(url: "http://127.0.0.1:\(ports[server])/v1/me")
                            request.headers.add(name: "Authorization", value: "Bearer \(key)")
                            let response = try await client.execute(request, timeout: .seconds(10))
                            let body = try await response.body.collect(upTo: 1 << 16)
                            tally.record(
                                server: server,
                                status: Int(response.status.code),
                                retryAfter: response.headers.first(name: "Retry-After"),
                                contentType: response.headers.first(name: "Content-Type"),
                                body: String(buffer: body)
                            )
                        }
                    }
                }
                try await senders.waitForAll()
            }
            let elapsed = ContinuousClock.now - started
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            let lease = SharedRateLimiter.leaseSize(ratePerSecond: Double(rate), burst: burst)
            let limit = Double(burst) + Double(rate) * seconds
            // What each process may hold: a lease and what was left of the one before (`SharedRateLimiter`).
            let tolerance = 2 * (lease + lease / 2)
            let counts = tally.counts
            // The leases of the timed phase: the counters now, less what the warm-up's key leased.
            var leases = try await leaseCounts(client, ports: ports)
            for (outcome, warmUp) in leasesBeforeSending { leases[outcome, default: 0] -= warmUp }
            print(
                "shared rate limit: \(counts.admitted) admitted (\(counts.admittedPerServer)), \(counts.refused) refused in \(elapsed); "
                    + "limit \(limit), tolerance \(tolerance), per-process limits would allow \(2 * limit); leases \(leases)"
            )
            #expect(Double(counts.admitted) <= limit + Double(tolerance), "admitted \(counts.admitted) over \(elapsed)")
            // At most a lease per process is stranded where the next request does not go.
            let total = counts.admitted + counts.refused
            #expect(counts.admitted >= min(burst, total) - tolerance, "the shared budget under-admitted: \(counts.admitted) of \(total)")
            #expect(counts.admittedPerServer.allSatisfy { $0 > 0 }, "each process admits some: \(counts.admittedPerServer)")
            #expect(counts.refused > 0)
            // Off the hot path, however many requests are sent: a lease serves `lease` requests (only the last one of
            // each process may go unused), and a process asks again after a refusal only once the bucket could grant,
            // so between two of its refused leases some lease was granted.
            let granted = leases["granted", default: 0]
            #expect(leases["failed", default: 0] == 0)
            #expect(granted <= Double(counts.admitted / lease + 2), "\(leases)")
            #expect(leases["exhausted", default: 0] <= 2 * (granted + 1), "\(leases)")
            #expect(counts.other.isEmpty, "answers neither 200 nor 429: \(counts.other.prefix(5))")
            #expect(counts.badRefusals.isEmpty, "429s without Retry-After or problem+json: \(counts.badRefusals.prefix(5))")
        }
    }

    @Test("a lease half spent is renewed in the background, before it runs out: a steady key's requests never wait for one")
    func renewedAheadOfNeed() async throws {
        let environment = try await TestEnvironment.make()
        let logger = environment.logger
        try await environment.withDatabase { database in
            let tenant = try await VaultTests.makeTenant(database, "lease-ahead", logger: logger)
            let metrics = MetricsRegistry(version: "test")
            // Leases of 10 tokens, a bucket of 100: no lease is refused below.
            // A lifetime no step below comes near: only the tokens left decide when a lease is renewed.
            let limiter = SharedRateLimiter(
                ratePerSecond: 160,
                burst: 100,
                leaseLifetime: .seconds(600),
                database: database,
                metrics: metrics.rateLimits
            )
            #expect(limiter.leaseSize == 10)
            func granted() throws -> Double {
                try MetricsTests.Exposition(parsing: String(decoding: metrics.render(), as: UTF8.self)).samples
                    .first { $0.name == "switchyard_rate_limit_leases_total" && $0.labels["outcome"] == "granted" }?.value ?? 0
            }
            let key = UUID()
            // The first request waits for the first lease; the next four spend it down to half, which starts the next.
            for _ in 0..<5 { #expect(await limiter.check(tenant: tenant, apiKey: key, logger: logger) == .allowed) }
            try await eventually("the second lease is granted") { try granted() == 2 }
            // The 5 left and the 10 of the second lease: 9 requests leave 6, more than half a lease, and ask nothing.
            for _ in 0..<9 { #expect(await limiter.check(tenant: tenant, apiKey: key, logger: logger) == .allowed) }
            #expect(try granted() == 2)
            // The next leaves 5: the third lease, asked for while 5 are still there to answer requests.
            #expect(await limiter.check(tenant: tenant, apiKey: key, logger: logger) == .allowed)
            try await eventually("the third lease is granted") { try granted() == 3 }
            // 15 held now (at most 1.5 leases): 9 more ask nothing.
            for _ in 0..<9 { #expect(await limiter.check(tenant: tenant, apiKey: key, logger: logger) == .allowed) }
            #expect(try granted() == 3)
        }
    }

    /// `switchyard_rate_limit_leases_total` by outcome, summed over the servers.
    private func leaseCounts(_ client: HTTPClient, ports: [Int]) async throws -> [String: Double] {
        var leases: [String: Double] = [:]
        for port in ports {
            let answer = try await LoopbackHTTP(client: client, port: port).send(.GET, "/metrics")
            for sample in try MetricsTests.Exposition(parsing: answer.body).samples where sample.name == "switchyard_rate_limit_leases_total" {
                leases[sample.labels["outcome"] ?? "", default: 0] += sample.value
            }
        }
        return leases
    }

    @Test(
        "when the shared buckets cannot be written the API still answers, limited by each process alone, says so in /metrics, and uses them again once repaired"
    )
    func failsOpen() async throws {
        var environment = try await TestEnvironment.make()
        environment.configuration.limits.rateLimitPerSecond = 1
        environment.configuration.limits.rateLimitBurst = 5
        try await environment.withOwnerConnection { connection in
            try await connection.query("REVOKE ALL ON rate_limit_buckets FROM switchyard_app", logger: environment.logger)
        }
        let metrics = MetricsRegistry(version: "test")
        let owner = environment
        try await environment.withApp(metrics: metrics) { (client: any TestClientProtocol) async throws in
            let tenant = try await client.makeTenant(slug: "fail-open")
            var statuses: [HTTPResponse.Status] = []
            var limited: TestResponse?
            for _ in 0..<50 where limited == nil {
                let response = try await client.request(.get, "/v1/me", key: tenant.key)
                statuses.append(response.status)
                if response.status == .tooManyRequests { limited = response }
            }
            #expect(statuses.prefix(5).allSatisfy { $0 == .ok }, "\(statuses)")
            #expect(!statuses.contains { $0.code >= 500 }, "\(statuses)")
            let response = try #require(limited, "the per-process limiter still applies: \(statuses)")
            #expect(response.headers[.retryAfter].flatMap { Int($0) } != nil)
            #expect(response.headers[.contentType] == "application/problem+json")
            func value(_ name: String, _ labels: [String: String] = [:]) throws -> Double? {
                let exposition = try MetricsTests.Exposition(parsing: String(decoding: metrics.render(), as: UTF8.self))
                return exposition.samples.first { $0.name == name && $0.labels == labels }?.value
            }
            // One failed lease, and another each time the buckets are tried again (every 5 s) on a slow machine.
            #expect(try (value("switchyard_rate_limit_leases_total", ["outcome": "failed"]) ?? 0) >= 1)
            #expect(try value("switchyard_rate_limit_leases_total", ["outcome": "granted"]) == 0)
            #expect(try value("switchyard_rate_limit_local_decisions_total") == Double(statuses.count))

            // Repaired, the buckets are tried again after `retryInterval` by one request in the background, and the
            // key is limited through them from then on.
            try await owner.withOwnerConnection { connection in
                try await connection.query("GRANT SELECT, INSERT, UPDATE, DELETE ON rate_limit_buckets TO switchyard_app", logger: owner.logger)
            }
            try await eventually("a lease is granted again", timeout: SharedRateLimiter.retryInterval + .seconds(15)) {
                _ = try await client.request(.get, "/v1/me", key: tenant.key)
                return try (value("switchyard_rate_limit_leases_total", ["outcome": "granted"]) ?? 0) >= 1
            }
        }
    }

    @Test("SWITCHYARD_RATE_LIMIT_SCOPE=process limits each key in the process alone and writes no bucket")
    func processScope() async throws {
        var environment = try await TestEnvironment.make()
        environment.configuration.limits.rateLimitPerSecond = 1
        environment.configuration.limits.rateLimitBurst = 3
        environment.configuration.limits.rateLimitScope = .process
        let metrics = MetricsRegistry(version: "test")
        try await environment.withApp(metrics: metrics) { (client: any TestClientProtocol) async throws in
            let tenant = try await client.makeTenant(slug: "process-scope")
            var statuses: [HTTPResponse.Status] = []
            for _ in 0..<50 where statuses.last != .tooManyRequests {
                statuses.append(try await client.request(.get, "/v1/me", key: tenant.key).status)
            }
            #expect(statuses.prefix(3).allSatisfy { $0 == .ok } && statuses.last == .tooManyRequests, "\(statuses)")
            let exposition = try MetricsTests.Exposition(parsing: String(decoding: metrics.render(), as: UTF8.self))
            let leases = exposition.samples.filter { $0.name == "switchyard_rate_limit_leases_total" }.map(\.value).reduce(0, +)
            #expect(leases == 0)
        }
        let rows = try await environment.withOwnerConnection { connection in
            try await connection.query("SELECT count(*)::int FROM rate_limit_buckets", logger: environment.logger).decode(Int.self).collect()
        }
        #expect(rows == [0])
    }
}

/// What the senders of `twoProcessesShareOneLimit` got back.
private final class Tally: Sendable {
    struct Counts {
        var admittedPerServer = [0, 0]
        var refused = 0
        var other: [String] = []
        var badRefusals: [String] = []
        var admitted: Int { admittedPerServer.reduce(0, +) }
        var sawBothOutcomes: Bool { refused > 0 && admittedPerServer.allSatisfy { $0 > 0 } }
    }

    private let state = Mutex(Counts())

    func record(server: Int, status: Int, retryAfter: String?, contentType: String?, body: String) {
        state.withLock { counts in
            switch status {
            case 200:
                counts.admittedPerServer[server] += 1
            case 429:
                counts.refused += 1
                let seconds = retryAfter.flatMap { Int($0) } ?? 0
                if seconds < 1 || contentType != "application/problem+json" || !body.contains("rate-limited") {
                    counts.badRefusals.append("Retry-After \(retryAfter ?? "none"), \(contentType ?? "no type"): \(body)")
                }
            default:
                counts.other.append("\(status): \(body)")
            }
        }
    }

    var counts: Counts { state.withLock { $0 } }
}
