import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import SwitchyardAPIClient
import SwitchyardAPIContract
import SwitchyardCore
import SwitchyardJobs
import SwitchyardPostgres
import SwitchyardTestSupport
import Testing

/// Usage counters: counted in memory where things happen, flushed in batches to `usage_counters`, read through
/// `GET /v1/metrics/usage` (the tenant) and `GET /v1/platform/metrics/usage` (the operator).
@Suite("Usage metrics: counted in batches, read per tenant and per operator")
struct UsageTests {
    /// An environment whose processes flush usage every 100 ms, so counts show within the tests' patience.
    static func environment() async throws -> TestEnvironment {
        var environment = try await TestEnvironment.make()
        environment.configuration.usage.flushIntervalMilliseconds = 100
        return environment
    }

    typealias Report = Components.Schemas.UsageReport

    static func usage(_ client: any TestClientProtocol, key: String) async throws -> Report {
        try await client.api(key: key).getUsage(query: .init()).ok.body.json
    }

    static func total(_ report: Report, _ metric: UsageMetric, _ dimension: String, tenant: String? = nil) -> Int64 {
        report.series.filter { $0.metric == metric.rawValue && $0.dimension == dimension && (tenant == nil || $0.tenantId == tenant) }
            .map(\.total).reduce(0, +)
    }

    @Test("API requests, webhooks received and refused reach the tenant's usage within a flush; another tenant sees only its own")
    func countedAndIsolated() async throws {
        let environment = try await Self.environment()
        try await environment.withApp(.live) { (client: any TestClientProtocol) async throws in
            let acme = try await client.makeTenant(slug: "usage-acme")
            let globex = try await client.makeTenant(slug: "usage-globex")
            let source = try await WebhookFixture.makeSource(client, key: acme.key)
            for index in 1...2 {
                let response = try await WebhookFixture.deliverGitHub(client, source: source.id, secret: source.secret, deliveryID: "u-\(index)")
                #expect(response.status == .ok)
            }
            let forged = try await WebhookFixture.deliverGitHub(client, source: source.id, secret: "not the secret", deliveryID: "u-forged")
            #expect(forged.status == .unauthorized)
            let missing = try await client.request(.get, "/v1/destinations/\(UUID().lowercasedString)", key: acme.key)
            #expect(missing.status == .notFound)

            var report = try await Self.usage(client, key: acme.key)
            // Creating the source (201), the 404 and the usage reads (200) themselves, once flushed.
            try await eventually("acme's webhooks and requests are counted") {
                report = try await Self.usage(client, key: acme.key)
                return Self.total(report, .webhooksReceived, "github") == 2 && Self.total(report, .apiRequests, "2xx") >= 2
                    && Self.total(report, .apiRequests, "4xx") == 1
            }
            #expect(Self.total(report, .webhooksRejected, "invalid_signature") == 1)
            #expect(report.series.allSatisfy { $0.tenantId == nil && $0.points.map(\.value).reduce(0, +) == $0.total })
            #expect(report.granularity == .hour)

            let other = try await Self.usage(client, key: globex.key)
            #expect(Self.total(other, .webhooksReceived, "github") == 0)
            #expect(Self.total(other, .webhooksRejected, "invalid_signature") == 0)
            #expect(Self.total(other, .apiRequests, "4xx") == 0)

            // The operator sees both, per tenant, or one.
            let admin = client.api(key: TestEnvironment.adminKey)
            var all = try await admin.getPlatformUsage(query: .init()).ok.body.json
            try await eventually("globex's own requests are counted too") {
                all = try await admin.getPlatformUsage(query: .init()).ok.body.json
                return all.series.contains { $0.tenantId == globex.id }
            }
            #expect(Self.total(all, .webhooksReceived, "github", tenant: acme.id) == 2)
            let one = try await admin.getPlatformUsage(query: .init(tenantId: globex.id)).ok.body.json
            #expect(!one.series.isEmpty && one.series.allSatisfy { $0.tenantId == globex.id })

            // Per day, the same totals in one bucket.
            let daily = try await client.api(key: acme.key).getUsage(query: .init(granularity: .day)).ok.body.json
            #expect(Self.total(daily, .webhooksReceived, "github") == 2)
            #expect(daily.series.allSatisfy { $0.points.count == 1 })
        }
    }

    @Test("malformed parameters are 400, impossible ranges 422; each route refuses the other principal's key")
    func badInput() async throws {
        let environment = try await Self.environment()
        try await environment.withApp(.router) { (client: any TestClientProtocol) async throws in
            let tenant = try await client.makeTenant(slug: "usage-bad")
            for query in ["granularity=minute", "from=yesterday", "to=2026-13-01T00:00:00Z", "tenant_id=\(tenant.id)", "limit=5"] {
                try ProblemDetailsTests.expectProblem(
                    try await client.request(.get, "/v1/metrics/usage?\(query)", key: tenant.key),
                    .badRequest,
                    code: "invalid-request"
                )
            }
            // Well-formed, but no range: `from` not before `to`, or wider than the granularity allows.
            for query in [
                "from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z", "from=2026-12-01T00:00:00Z&to=2026-12-01T00:00:00Z",
                "from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00Z", "granularity=day&from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z",
            ] {
                try ProblemDetailsTests.expectProblem(
                    try await client.request(.get, "/v1/metrics/usage?\(query)", key: tenant.key),
                    .unprocessableContent,
                    code: "validation-failed"
                )
            }
            try ProblemDetailsTests.expectProblem(
                try await client.request(.get, "/v1/platform/metrics/usage?tenant_id=nope", key: TestEnvironment.adminKey),
                .badRequest,
                code: "invalid-request"
            )
            #expect(try await client.request(.get, "/v1/platform/metrics/usage", key: tenant.key).status == .forbidden)
            #expect(try await client.request(.get, "/v1/metrics/usage", key: TestEnvironment.adminKey).status == .forbidden)
            #expect(try await client.request(.get, "/v1/metrics/usage").status == .unauthorized)
            // A range of exactly 31 days per hour is fine, and `from` is rounded down to its hour.
            let from = try #require(RFC3339Timestamp.date(from: "2026-11-01T10:30:00Z"))
            let to = try #require(RFC3339Timestamp.date(from: "2026-12-02T10:00:00Z"))
            let report = try await client.api(key: tenant.key).getUsage(query: .init(from: from, to: to)).ok.body.json
            #expect(report.from == RFC3339Timestamp.date(from: "2026-11-01T10:00:00Z"))
            #expect(report.series.isEmpty)
        }
    }

    @Test("flushes add up: two processes flushing the same counters at once lose nothing and do not deadlock")
    func concurrentFlushes() async throws {
        let environment = try await Self.environment()
        try await environment.withDatabase(maxConnections: 6) { database in
            let logger = environment.logger
            let tenants = [try await database.makeTenant("usage-a", logger: logger), try await database.makeTenant("usage-b", logger: logger)]
            let meters = [UsageMeter(), UsageMeter()]
            let flushers = meters.map {
                UsageFlusher(database: database, meter: $0, interval: .seconds(60), retention: .seconds(86_400), logger: logger)
            }
            // Both processes count the same counters, in opposite tenant order, and flush together, ten rounds.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, meter) in meters.enumerated() {
                    let flusher = flushers[index]
                    let order = index == 0 ? tenants : tenants.reversed()
                    group.addTask {
                        for _ in 0..<10 {
                            for tenant in order {
                                for dimension in ["2xx", "4xx", "5xx"] { meter.record(.apiRequests, tenant: tenant, dimension: dimension, count: 3) }
                                meter.record(.jobs, tenant: tenant, dimension: "succeeded")
                            }
                            #expect(await flusher.flush() == 8)
                        }
                    }
                }
                try await group.waitForAll()
            }
            let now = Date()
            let rows = try await database.withOperator(logger: logger) {
                try await $0.usage(tenant: nil, from: now.addingTimeInterval(-7200), to: now.addingTimeInterval(3600), granularity: .day)
            }
            for tenant in tenants {
                let mine = rows.filter { $0.tenantID == tenant }
                let requests: Int64 = mine.filter { $0.metric == "api.requests" }.map(\.value).reduce(0, +)
                let jobs: Int64 = mine.filter { $0.metric == "jobs" }.map(\.value).reduce(0, +)
                // Two processes, ten rounds, three dimensions of three requests; one job per round.
                #expect(requests == 180)
                #expect(jobs == 20)
            }
        }
    }

    @Test("a flush that cannot reach the database keeps its counts for the next one")
    func failedFlushKeepsCounts() async throws {
        let environment = try await Self.environment()
        try await environment.withDatabase { database in
            let logger = environment.logger
            let tenant = try await database.makeTenant("usage-outage", logger: logger)
            let meter = UsageMeter()
            meter.record(.webhooksReceived, tenant: tenant, dimension: "stripe", count: 5)

            // A pool whose server is not there (a closed port): the flush fails within its acquire timeout.
            var unreachable = environment.configuration.database
            unreachable.url.port = try ChildProcess.freePort()
            unreachable.acquireTimeoutMilliseconds = 300
            let down = try Database(configuration: unreachable, vault: environment.vault, metrics: nil, logger: logger)
            let written = await withThrowingTaskGroup(of: Int.self) { group in
                group.addTask {
                    try await down.run()
                    return -1
                }
                defer { group.cancelAll() }
                return await UsageFlusher(database: down, meter: meter, interval: .seconds(60), retention: .seconds(86_400), logger: logger).flush()
            }
            #expect(written == 0)
            meter.record(.webhooksReceived, tenant: tenant, dimension: "stripe", count: 2)
            let flusher = UsageFlusher(database: database, meter: meter, interval: .seconds(60), retention: .seconds(86_400), logger: logger)
            #expect(await flusher.flush() == 1)
            let now = Date()
            let rows = try await database.withTenant(tenant, logger: logger) {
                try await $0.usage(from: now.addingTimeInterval(-3600), to: now.addingTimeInterval(3600), granularity: .hour)
            }
            #expect(rows.map(\.value) == [7])
        }
    }

    @Test("counters past retention are pruned; a stored bucket must be a whole hour")
    func retentionAndPolicy() async throws {
        let environment = try await Self.environment()
        try await environment.withDatabase { database in
            let logger = environment.logger
            let tenant = try await database.makeTenant("usage-old", logger: logger)
            let now = Date()
            let hour = Date(timeIntervalSince1970: (now.timeIntervalSince1970 / 3600).rounded(.down) * 3600)
            let old = hour.addingTimeInterval(-500 * 86_400)
            try await database.withUsageWriter(logger: logger) {
                try await $0.add([
                    UsageCount(tenantID: tenant, bucket: old, metric: .jobs, dimension: "dead", value: 4),
                    UsageCount(tenantID: tenant, bucket: hour, metric: .jobs, dimension: "dead", value: 1),
                ])
            }
            let pruned = try await database.withUsageWriter(logger: logger) { try await $0.prune(before: now.addingTimeInterval(-400 * 86_400)) }
            #expect(pruned == 1)
            let rows = try await database.withTenant(tenant, logger: logger) {
                try await $0.usage(from: old, to: now.addingTimeInterval(3600), granularity: .day)
            }
            #expect(rows.map(\.value) == [1])

            await #expect(throws: (any Error).self) {
                try await database.withUsageWriter(logger: logger) {
                    try await $0.add([UsageCount(tenantID: tenant, bucket: hour.addingTimeInterval(60), metric: .jobs, dimension: "", value: 1)])
                }
            }
        }
    }

    @Test("an executor counts finished attempts by outcome in their tenant's usage")
    func executorCountsJobs() async throws {
        let environment = try await Self.environment()
        try await environment.withDatabase { database in
            let logger = environment.logger
            let tenant = try await database.makeTenant("usage-jobs", logger: logger)
            var registry = JobRegistry.standard()
            registry.register(FlakyHandler())
            let meter = UsageMeter()
            try await database.withExecutor(registry: registry, usage: meter, logger: logger) {
                let flaky = try await database.enqueue(try NewJob(FlakyPayload(failures: 1)), for: tenant, logger: logger)
                let broken = try await database.enqueue(try NewJob(FlakyPayload(failures: 5, permanent: true)), for: tenant, logger: logger)
                try await eventually("both jobs finish") {
                    let first = try await database.job(flaky, of: tenant, logger: logger).state
                    let second = try await database.job(broken, of: tenant, logger: logger).state
                    return first == .succeeded && second == .dead
                }
            }
            let flusher = UsageFlusher(database: database, meter: meter, interval: .seconds(60), retention: .seconds(86_400), logger: logger)
            await flusher.flush()
            let now = Date()
            let rows = try await database.withTenant(tenant, logger: logger) {
                try await $0.usage(from: now.addingTimeInterval(-3600), to: now.addingTimeInterval(3600), granularity: .day)
            }
            let jobs = Dictionary(uniqueKeysWithValues: rows.filter { $0.metric == "jobs" }.map { ($0.dimension, $0.value) })
            #expect(jobs == ["retry": 1, "succeeded": 1, "dead": 1])
        }
    }
}
