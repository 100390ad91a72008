import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import PostgresNIO
import SwitchyardCore
import SwitchyardDestinations
import SwitchyardJobs
import SwitchyardOutbound
import SwitchyardPostgres

/// `switchyard bench fanout`: events fanned out to loopback receivers, one destination each, through the whole path
/// (the fan-out trigger's job per event claimed by the executor, each delivery signed and POSTed through the outbound
/// client, the attempts recorded), against a plain HTTP load generator POSTing the same bodies to the same receivers with the
/// same concurrency and connection pool; then the latency from an event's commit to each of its first delivery
/// attempts, with events recorded at half the measured peak.
public struct FanoutBenchmark: Sendable {
    let configuration: SwitchyardConfiguration
    let database: Database
    let receivers: Int
    let events: Int
    let latencySeconds: Double
    let logger: Logger

    /// `database` must be running.
    public init(configuration: SwitchyardConfiguration, database: Database, receivers: Int, events: Int, latencySeconds: Double, logger: Logger) {
        self.configuration = configuration
        self.database = database
        self.receivers = max(1, receivers)
        self.events = max(1, events)
        self.latencySeconds = latencySeconds
        self.logger = logger
    }

    public func run() async throws -> FanoutBenchmarkReport {
        try await FanoutReceivers.withRunning(count: receivers) { receivers in
            var outboundSettings = configuration.outbound
            outboundSettings.plainHTTPAllowList = receivers.boundPorts.map { "127.0.0.1:\($0)" }
            let outbound = OutboundClient(configuration: OutboundConfiguration(outboundSettings), metrics: nil)
            do {
                let report = try await run(receivers, outbound: outbound)
                try await outbound.shutdown()
                return report
            } catch {
                try? await outbound.shutdown()
                throw error
            }
        }
    }

    private func run(_ receivers: FanoutReceivers, outbound: OutboundClient) async throws -> FanoutBenchmarkReport {
        let tenant = try await database.withOperator(logger: logger) {
            try await $0.createTenant(slug: "bench-fanout-\(UInt32.random(in: 0...UInt32.max))", name: "Bench fan-out")
        }.id
        try await database.withTenant(tenant, logger: logger) { transaction in
            for port in receivers.boundPorts {
                _ = try await transaction.createDestination(
                    DestinationSettings(url: "http://127.0.0.1:\(port)/hook"),
                    secret: StandardWebhookSecret.generate().text
                )
            }
        }
        let deliveries = events * receivers.boundPorts.count
        let sampleBody = try await recordEvents(events, tenant: tenant)
        try await analyze()

        // The server's processes: the parent of one of its backends, when that backend is a process of this machine.
        let backend = try await database.withQueue(logger: logger) { try await $0.backendProcessID() }
        let postmaster = ProcessCPU.parent(of: backend).flatMap { ProcessCPU.seconds(of: $0) == nil ? nil : $0 }

        let ceilingBefore = try await ceiling(receivers, requests: deliveries, body: sampleBody, postmaster: postmaster)
        let registry = JobRegistry.executor(configuration: configuration, database: database, outbound: outbound)
        let executor = JobExecutor(database: database, registry: registry, options: ExecutorOptions(configuration.jobs), metrics: nil, logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            let cpuBefore = CPUUsage(postmaster: postmaster)
            let started = ContinuousClock.now
            let before = receivers.requests
            group.addTask { try await executor.run() }
            defer { group.cancelAll() }
            while receivers.requests - before < deliveries { try await Task.sleep(for: .milliseconds(20)) }
            try await waitUntilDelivered()
            let platformSeconds = (ContinuousClock.now - started).inSeconds
            let platformCPU = CPUUsage(postmaster: postmaster).since(cpuBefore)
            let peak = Double(deliveries) / platformSeconds

            // Half of the peak, as events a second.
            let eventsPerSecond = max(1, peak / 2 / Double(receivers.boundPorts.count))
            let latencies = try await latency(receivers, tenant: tenant, eventsPerSecond: eventsPerSecond)
            group.cancelAll()
            let ceilingAfter = try await ceiling(receivers, requests: deliveries, body: sampleBody, postmaster: postmaster)
            let fasterCeiling = ceilingBefore.seconds <= ceilingAfter.seconds ? ceilingBefore : ceilingAfter
            return FanoutBenchmarkReport(
                receivers: receivers.boundPorts.count,
                events: events,
                deliveries: deliveries,
                bodyBytes: sampleBody.utf8.count,
                concurrency: configuration.jobs.executorConcurrency,
                platformSeconds: platformSeconds,
                platformCPU: platformCPU,
                ceilingSeconds: fasterCeiling.seconds,
                ceilingCPU: fasterCeiling.cpu,
                ceilingPasses: [ceilingBefore.seconds, ceilingAfter.seconds],
                latencyRate: eventsPerSecond * Double(receivers.boundPorts.count),
                latencies: latencies
            )
        }
    }

    /// Records `count` events, 100 per transaction; the fan-out trigger makes their deliveries. Returns one event's body.
    private func recordEvents(_ count: Int, tenant: TenantID) async throws -> String {
        var recorded = 0
        while recorded < count {
            let batch = min(100, count - recorded)
            try await database.withTenant(tenant, logger: logger) { transaction in
                for index in 0..<batch {
                    try await transaction.recordEvent(
                        "record.changed",
                        integrationID: nil,
                        data: ["index": String(recorded + index), "model": "contact", "note": String(repeating: "x", count: 200)]
                    )
                }
            }
            recorded += batch
        }
        return try await database.withQueue(logger: logger) { try await $0.sampleDeliveryBody() } ?? "{}"
    }

    /// Gives the planner statistics of the tables just filled, as a database in service has (autovacuum would get to
    /// them only after its nap): without them the claim is planned for an empty `jobs`. Needs the owner's URL.
    private func analyze() async throws {
        let url = configuration.database.migrationURL
        let connection = try await PostgresConnection.connect(configuration: try .init(url), id: 900, logger: logger)
        do {
            try await connection.query("ANALYZE jobs, events, destinations" as PostgresQuery, logger: logger)
        } catch {
            logger.warning("could not analyze the tables (SWITCHYARD_MIGRATION_DATABASE_URL names their owner)", metadata: ["error": "\(error)"])
        }
        try await connection.close()
    }

    /// Until no fan-out and no delivery job waits or runs.
    private func waitUntilDelivered() async throws {
        let kinds = [DestinationFanOutPayload.kind, DestinationDeliveryPayload.kind]
        while try await database.withQueue(logger: logger, { try await $0.unfinishedJobs(kinds: kinds) }) > 0 {
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Records events at `eventsPerSecond` for `latencySeconds`, one per transaction, and returns, per delivery, the
    /// time from the event's commit to the receiver's first sight of it.
    private func latency(_ receivers: FanoutReceivers, tenant: TenantID, eventsPerSecond: Double) async throws -> [Duration] {
        receivers.startRecording()
        var committed: [String: ContinuousClock.Instant] = [:]
        let interval = Duration.seconds(1 / eventsPerSecond)
        let count = max(1, Int(eventsPerSecond * latencySeconds))
        var next = ContinuousClock.now
        for index in 0..<count {
            try await Task.sleep(until: next)
            next += interval
            let id = try await database.withTenant(tenant, logger: logger) {
                try await $0.recordEvent("record.changed", integrationID: nil, data: ["index": String(index), "model": "contact"])
            }
            committed[DestinationDelivery.webhookID(event: id)] = ContinuousClock.now
        }
        // A delivery acknowledged was seen by its receiver before it answered.
        try await waitUntilDelivered()
        let arrivals = receivers.stopRecording()
        return arrivals.compactMap { arrival, at in committed[arrival.webhookID].map { at - $0 } }.sorted()
    }

    /// The plain load generator: `requests` POSTs of `body`, spread over the receivers, `concurrency` at a time, through
    /// an AsyncHTTPClient pool configured as the outbound client's. Returns the seconds taken and the CPU used meanwhile.
    private func ceiling(
        _ receivers: FanoutReceivers,
        requests: Int,
        body: String,
        postmaster: Int32?
    ) async throws -> (seconds: Double, cpu: CPUUsage) {
        var poolConfiguration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(5), read: .seconds(30)),
            connectionPool: .init(
                idleTimeout: .seconds(60),
                concurrentHTTP1ConnectionsPerHostSoftLimit: OutboundConfiguration(configuration.outbound).maxConnectionsPerHost
            ),
            decompression: .disabled
        )
        poolConfiguration.connectionPool.retryConnectionEstablishment = false
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: poolConfiguration)
        let urls = receivers.boundPorts.map { "http://127.0.0.1:\($0)/hook" }
        let bytes = ByteBuffer(string: body)
        let tickets = TicketCounter()
        let cpuBefore = CPUUsage(postmaster: postmaster)
        let started = ContinuousClock.now
        do {
            // Each worker on a loop of its own, in turn: with tasks on the event loops (`Switchyard.main`), workers
            // started from one task would all run on that task's loop, and open their connections there, which left
            // the other core mostly idle and this ceiling 25-35 % lower.
            let loops = Array(client.eventLoopGroup.makeIterator())
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<max(1, configuration.jobs.executorConcurrency) {
                    group.addTask(executorPreference: EventLoopTaskExecutor.of(loops[worker % loops.count])) {
                        while true {
                            let ticket = tickets.take()
                            guard ticket < requests else { return }
                            var request = HTTPClientRequest(url: urls[ticket % urls.count])
                            request.method = .POST
                            request.headers.add(name: "content-type", value: "application/json")
                            request.headers.add(name: "webhook-id", value: "msg_load_\(ticket)")
                            request.headers.add(name: "webhook-timestamp", value: "1700000000")
                            request.headers.add(name: "webhook-signature", value: "v1,\(String(repeating: "A", count: 43))=")
                            request.body = .bytes(bytes)
                            let response = try await client.execute(request, timeout: TimeAmount.seconds(30))
                            _ = try await response.body.collect(upTo: 1 << 20)
                            guard response.status == .ok else { throw BenchmarkFailure("a receiver answered \(response.status.code)") }
                        }
                    }
                }
                try await group.waitForAll()
            }
        } catch {
            try? await client.shutdown()
            throw error
        }
        let seconds = (ContinuousClock.now - started).inSeconds
        let cpu = CPUUsage(postmaster: postmaster).since(cpuBefore)
        try await client.shutdown()
        return (seconds, cpu)
    }
}

/// CPU seconds of this process (the executor, the outbound client or load generator, and the receivers) and of
/// PostgreSQL's processes when the server runs on this machine: where a phase's time went.
public struct CPUUsage: Sendable {
    public var process: Double
    public var postgres: Double
    /// The whole machine's busy CPU seconds, whoever used them.
    public var machine: Double
    var postgresByProcess: [Int32: Double] = [:]

    init(process: Double, postgres: Double, machine: Double) {
        self.process = process
        self.postgres = postgres
        self.machine = machine
    }

    /// The totals so far.
    init(postmaster: Int32?) {
        process = ProcessCPU.seconds(of: getpid()) ?? 0
        postgresByProcess = ProcessCPU.server(postmaster)
        postgres = postgresByProcess.values.reduce(0, +)
        machine = ProcessCPU.machineBusySeconds()
    }

    /// What was used since `earlier`.
    func since(_ earlier: CPUUsage) -> CPUUsage {
        CPUUsage(
            process: process - earlier.process,
            postgres: postgresByProcess.reduce(0) { sum, entry in sum + entry.value - (earlier.postgresByProcess[entry.key] ?? 0) },
            machine: machine - earlier.machine
        )
    }
}
