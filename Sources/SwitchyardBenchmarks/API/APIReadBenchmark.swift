import Foundation
import Logging
import NIOHTTP1
import SwitchyardCore
import SwitchyardMetrics
import SwitchyardPostgres

/// `switchyard bench api`: the authenticated read routes through the real server against the ceiling of `GET /healthz`
/// (no authentication, no database) on the same server: each saturated in turn, then each paced at a fixed rate with
/// latency counted from every request's intended send time (issue 18).
public struct APIReadBenchmark: Sendable {
    let configuration: SwitchyardConfiguration
    let database: Database
    /// Keep-alive connections sending at once in the saturated phase.
    let concurrency: Int
    /// How many slices of `/healthz` and the route each route's saturation alternates.
    static let slices = 5
    /// How long each route is saturated (and `/healthz` beside it), in `slices` slices.
    let saturation: Duration
    /// The paced phase's rate per route, and how long each route is paced.
    let pacedRate: Double
    let paced: Duration
    let logger: Logger

    public init(
        configuration: SwitchyardConfiguration,
        database: Database,
        concurrency: Int,
        saturation: Duration,
        pacedRate: Double,
        paced: Duration,
        logger: Logger
    ) {
        self.configuration = configuration
        self.database = database
        self.concurrency = concurrency
        self.saturation = saturation
        self.pacedRate = pacedRate
        self.paced = paced
        self.logger = logger
    }

    /// Runs both phases. The server it starts runs `database` (which must not be running yet).
    public func run() async throws -> APIReadBenchmarkReport {
        let metrics = MetricsRegistry(version: "bench")
        return try await BenchmarkServer.run(configuration: configuration, database: database, metrics: metrics, logger: logger) { port in
            // One tenant per connection: requests of many tenants at once, as a busy API serves them (reads of one
            // tenant could share a row where several requests' reads are combined).
            var callers: [(key: String, integration: String)] = []
            for _ in 0..<concurrency { callers.append(try await setUp()) }
            let routes = [
                RouteLoad(route: "/healthz", port: port, requests: [("/healthz", nil)]),
                RouteLoad(route: "/v1/me", port: port, requests: callers.map { ("/v1/me", $0.key) }),
                RouteLoad(
                    route: "/v1/integrations/{id}",
                    port: port,
                    requests: callers.map { ("/v1/integrations/\($0.integration)", $0.key) }
                ),
                RouteLoad(
                    route: "/v1/integrations/{id}/credentials",
                    port: port,
                    requests: callers.map { ("/v1/integrations/\($0.integration)/credentials", $0.key) }
                ),
            ]
            // Warm-up: connections open, the key's authentication and rate-limit lease cached, plans made.
            for route in routes { _ = try await route.saturate(for: .milliseconds(500), concurrency: concurrency, postmaster: nil) }
            // PostgreSQL's processes, to tell its CPU from this process's (the server and the load generator).
            let postmaster = ProcessCPU.postmaster(ofBackend: try await database.withQueue(logger: logger) { try await $0.backendProcessID() })
            // Each route in slices, each slice right after one of `/healthz`: the machine's speed drifts over a
            // run (other tenants of the host), and a ratio of two rates measured seconds apart carries that drift.
            let ceiling = routes[0]
            var saturated: [APIReadBenchmarkReport.Saturated] = []
            for route in routes.dropFirst() {
                var slices: [APIReadBenchmarkReport.Slice] = []
                for _ in 0..<Self.slices {
                    let ceilingSlice = try await ceiling.saturate(for: saturation / Self.slices, concurrency: concurrency, postmaster: postmaster)
                    let routeSlice = try await route.saturate(for: saturation / Self.slices, concurrency: concurrency, postmaster: postmaster)
                    slices.append(.init(ceiling: ceilingSlice, route: routeSlice))
                }
                saturated.append(.init(route: route.route, slices: slices))
            }
            var latencies: [APIReadBenchmarkReport.Paced] = []
            for route in routes {
                let samples = try await route.pace(rate: pacedRate, for: paced, workers: concurrency)
                latencies.append(.init(route: route.route, latencies: LatencySummary(samples)))
            }
            return APIReadBenchmarkReport(
                concurrency: concurrency,
                slices: Self.slices,
                saturation: saturation,
                pacedRate: pacedRate,
                paced: paced,
                saturated: saturated,
                latencies: latencies
            )
        }
    }

    /// A tenant, a key that may read credentials, and an API-key integration with its credential; returns the key
    /// and the integration's id.
    private func setUp() async throws -> (key: String, integration: String) {
        let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        let tenant = try await database.withOperator(logger: logger) {
            try await $0.createTenant(slug: "bench-\(suffix)", name: "API read benchmark")
        }.id
        return try await database.withTenant(tenant, logger: logger) { transaction in
            let (_, secret) = try await transaction.createAPIKey(
                NewAPIKey(name: "bench", scopes: [.read, .credentialsRead], expiresAt: nil, createdBy: "bench")
            )
            let integration = try await transaction.createIntegration(
                NewIntegration(
                    provider: "stripe",
                    displayName: "Bench",
                    status: .connected,
                    connectionParameters: [:],
                    endUserID: nil,
                    tags: ["bench"],
                    credential: .apiKey(fields: ["api_key": "sk_test_bench"])
                )
            )
            return (secret.value, integration.id.lowercasedString)
        }
    }
}

/// GET requests to one route over keep-alive connections, one per concurrent sender; sender n sends the n-th of
/// `requests` (path and API key), in turn.
struct RouteLoad: Sendable {
    let route: String
    let port: Int
    let requests: [(path: String, key: String?)]

    private func head(_ sender: Int) -> HTTPRequestHead {
        let (path, key) = requests[sender % requests.count]
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path)
        head.headers.add(name: "Host", value: "127.0.0.1:\(port)")
        if let key { head.headers.add(name: "Authorization", value: "Bearer \(key)") }
        return head
    }

    /// Sends back to back on `concurrency` connections for `duration`; returns what was answered and what it cost.
    func saturate(for duration: Duration, concurrency: Int, postmaster: Int32?) async throws -> Saturation {
        let connections = try await BenchmarkHTTPConnection.connect(concurrency, host: "127.0.0.1", port: port)
        let cpu = ProcessCPU.Mark(postmaster: postmaster)
        let started = ContinuousClock.now
        let deadline = started + duration
        let answered = try await withThrowingTaskGroup(of: Int.self) { group in
            for (sender, connection) in connections.enumerated() {
                let head = head(sender)
                group.addTask {
                    var answered = 0
                    while ContinuousClock.now < deadline {
                        try check(try await connection.send(head))
                        answered += 1
                    }
                    await connection.close()
                    return answered
                }
            }
            return try await group.reduce(0, +)
        }
        let seconds = (ContinuousClock.now - started).inSeconds
        let spent = ProcessCPU.Mark(postmaster: postmaster).since(cpu)
        return Saturation(answered: answered, seconds: seconds, ownCPU: spent.own, postgresCPU: spent.postgres, machineCPU: spent.machine)
    }

    /// Sends `rate` requests a second for `duration`: request n is due at start + n / rate, and its latency counts from
    /// then, so a slow answer delays no measurement (no coordinated omission) as long as a worker is free.
    func pace(rate: Double, for duration: Duration, workers: Int) async throws -> [Duration] {
        let count = Int(rate * duration.inSeconds)
        let tickets = TicketCounter()
        let connections = try await BenchmarkHTTPConnection.connect(workers, host: "127.0.0.1", port: port)
        // Warm-up, as before the saturated phase: the keys have been idle while other routes ran, and the first request
        // of a key idle for over 5 s waits for its lookup and its rate-limit lease; that is a cold start, not the
        // steady 1,000 req/s this phase measures.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (sender, connection) in connections.enumerated() {
                let head = head(sender)
                group.addTask { try check(try await connection.send(head)) }
            }
            try await group.waitForAll()
        }
        let started = ContinuousClock.now
        return try await withThrowingTaskGroup(of: [Duration].self) { group in
            for (sender, connection) in connections.enumerated() {
                let head = head(sender)
                group.addTask {
                    var latencies: [Duration] = []
                    while true {
                        let index = tickets.take()
                        guard index < count else { break }
                        let due = started + .seconds(Double(index) / rate)
                        if due > ContinuousClock.now { try await Task.sleep(until: due) }
                        try check(try await connection.send(head))
                        latencies.append(ContinuousClock.now - due)
                    }
                    await connection.close()
                    return latencies
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
    }

    private func check(_ status: UInt) throws {
        guard status == 200 else { throw BenchmarkFailure("GET \(route) was answered \(status)") }
    }
}
