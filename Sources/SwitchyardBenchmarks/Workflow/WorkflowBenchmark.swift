import Foundation
import Logging
import SwitchyardCore
import SwitchyardJobs
import SwitchyardOutbound
import SwitchyardPostgres
import SwitchyardWorkflows

/// `switchyard bench workflow`: a three-step workflow (filter, map, http through an integration to a loopback API)
/// started by N recorded events, run by one executor; then `bench queue`'s executor phase (N no-op jobs) on the same
/// database, so that a step's cost is compared with a no-op job's measured in the same run.
public struct WorkflowBenchmark: Sendable {
    public struct Report: Sendable, CustomStringConvertible {
        public let runs: Int
        public let runsSeconds: Double
        public let noopJobs: Int
        public let noopSeconds: Double
        public let concurrency: Int
        public static let stepsPerRun = 3

        public var runRate: Double { Double(runs) / runsSeconds }
        public var noopRate: Double { Double(noopJobs) / noopSeconds }
        /// The time one step takes over the time one no-op job takes (each through the same executor).
        public var ratio: Double { noopRate / (runRate * Double(Self.stepsPerRun)) }

        public var description: String {
            """
            runs:             \(runs) runs of filter -> map -> http (loopback), each started by an event
            workflow:         \(Int(runRate.rounded())) runs/s  (\(String(format: "%.2f", runsSeconds)) s; \(concurrency) workers, one process)
            no-op jobs:       \(Int(noopRate.rounded())) jobs/s  (bench queue's executor phase, \(noopJobs) jobs, same process and database)
            per step:         \(String(format: "%.3f", 1000 / (runRate * Double(Self.stepsPerRun)))) ms of executor time per step; \(String(format: "%.3f", 1000 / noopRate)) ms per no-op job
            ratio: \(String(format: "%.2f", ratio))
            (a step's cost / a no-op job's; the goal is <= 3, and >= 1000 runs/s)
            """
        }
    }

    let configuration: SwitchyardConfiguration
    let database: Database
    let events: Int
    let logger: Logger

    /// `database` must be running.
    public init(configuration: SwitchyardConfiguration, database: Database, events: Int, logger: Logger) {
        self.configuration = configuration
        self.database = database
        self.events = max(1, events)
        self.logger = logger
    }

    public func run() async throws -> Report {
        try await FanoutReceivers.withRunning(count: 1) { receivers in
            let port = receivers.boundPorts[0]
            var outboundSettings = configuration.outbound
            outboundSettings.plainHTTPAllowList = ["127.0.0.1:\(port)"]
            let outbound = OutboundClient(configuration: OutboundConfiguration(outboundSettings), metrics: nil)
            do {
                let report = try await run(port: port, outbound: outbound)
                try await outbound.shutdown()
                return report
            } catch {
                try? await outbound.shutdown()
                throw error
            }
        }
    }

    private func run(port: Int, outbound: OutboundClient) async throws -> Report {
        let tenant = try await database.withOperator(logger: logger) {
            try await $0.createTenant(slug: "bench-workflow-\(UInt32.random(in: 0...UInt32.max))", name: "Bench workflow")
        }.id
        try await database.withTenant(tenant, logger: logger) { transaction in
            _ = try await transaction.saveCustomProvider(
                id: "loopback",
                definition: """
                    {"id":"loopback","display_name":"Loopback","auth_type":"api_key",
                     "credentials":{"fields":[{"name":"api_key","description":"The API key","secret":true}],
                                    "injection":{"type":"header","name":"Authorization","value":"Bearer {api_key}"}},
                     "api_base_url":"http://127.0.0.1:\(port)"}
                    """
            )
            let integration = try await transaction.createIntegration(
                NewIntegration(
                    provider: "loopback",
                    displayName: "Loopback",
                    status: .connected,
                    connectionParameters: [:],
                    endUserID: nil,
                    tags: [],
                    credential: .apiKey(fields: ["api_key": "bench-key"])
                )
            ).id
            let definition = try JSONDecoder().decode(
                JSONValue.self,
                from: Data(
                    """
                    {"trigger": {"type": "event", "event_types": ["bench.changed"]},
                     "limits": {"max_concurrent_runs": 1000},
                     "steps": [
                       {"id": "keep", "type": "filter", "condition": {"==": [{"var": "trigger.event.data.model"}, "contact"]}},
                       {"id": "shape", "type": "map", "template": {"index": {"var": "trigger.event.data.index"}, "model": "contact"}},
                       {"id": "send", "type": "http", "integration_id": "\(integration.lowercasedString)", "method": "POST", "path": "/hook",
                        "body": {"var": "steps.shape"}}
                     ]}
                    """.utf8
                )
            )
            _ = try await WorkflowPublishing.create(name: "bench", definition: definition, enabled: true, in: transaction)
        }
        // The events, 100 a transaction: the trigger of migration 0027 queues one run job per event.
        var recorded = 0
        while recorded < events {
            let batch = min(100, events - recorded)
            try await database.withTenant(tenant, logger: logger) { transaction in
                for index in 0..<batch {
                    try await transaction.recordEvent(
                        "bench.changed",
                        integrationID: nil,
                        data: ["index": String(recorded + index), "model": "contact"]
                    )
                }
            }
            recorded += batch
        }

        let registry = JobRegistry.executor(configuration: configuration, database: database, outbound: outbound)
        let executor = JobExecutor(database: database, registry: registry, options: ExecutorOptions(configuration.jobs), metrics: nil, logger: logger)
        let started = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await executor.run() }
            defer { group.cancelAll() }
            while try await database.withTenant(tenant, logger: logger, { try await $0.hasActiveJobs() }) {
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        let seconds = (ContinuousClock.now - started).inSeconds
        let succeeded = try await database.withTenant(tenant, logger: logger) {
            try await $0.countWorkflowRuns(status: .succeeded)
        }
        guard succeeded == events else { throw BenchmarkFailure("\(succeeded) of \(events) workflow runs succeeded") }

        let noop = try await QueueBenchmark(
            database: database,
            url: configuration.database.url,
            settings: configuration.jobs,
            jobs: events,
            rawWorkers: 1,
            logger: logger
        ).executorPhase()
        return Report(runs: events, runsSeconds: seconds, noopJobs: events, noopSeconds: noop, concurrency: configuration.jobs.executorConcurrency)
    }
}
