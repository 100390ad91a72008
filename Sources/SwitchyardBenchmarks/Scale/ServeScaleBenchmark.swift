import Crypto
import Foundation
import Logging
import NIOCore
import SwitchyardCore
import SwitchyardPostgres
import SwitchyardVault

/// `switchyard bench serves`: signed webhook deliveries into 1 and 2 `switchyard serve` processes on one PostgreSQL,
/// each process fed by a load generator process of its own with its share of the connections. As with `bench
/// executors`, on two cores the point is the shape (no collapse when a process is added, the group commit still
/// batching) and where the CPU went, not a speed-up.
public struct ServeScaleBenchmark: Sendable {
    /// One configuration's run.
    public struct Phase: Sendable, CustomStringConvertible, ScalePhase {
        public let processes: Int
        public let deliveries: Int
        public let seconds: Double
        /// Acknowledgement latency percentiles over every delivery, in milliseconds.
        public let p50: Double
        public let p99: Double
        /// CPU seconds over the phase of the serve processes, of the load generators, of PostgreSQL and of the machine.
        public let serveCPU: Double
        public let generatorCPU: Double
        public let postgresCPU: Double
        public let machineCPU: Double

        public var rate: Double { Double(deliveries) / seconds }

        public var description: String {
            String(
                format:
                    "%d serve process%@: %6.0f events/s acknowledged (%.2f s); ack latency p50 %.2f ms, p99 %.2f ms; CPU: serve %.2f s, generators %.2f s, PostgreSQL %.2f s, machine %.2f s (%.0f%% of %.0f cores)",
                processes,
                processes == 1 ? "  " : "es",
                rate,
                seconds,
                p50,
                p99,
                serveCPU,
                generatorCPU,
                postgresCPU,
                machineCPU,
                100 * ProcessCPU.machineShare(busySeconds: machineCPU, over: seconds),
                ProcessCPU.cores
            )
        }
    }

    public struct Report: Sendable, CustomStringConvertible {
        public let phases: [Phase]
        public let connections: Int

        /// The rate of the most processes over the rate of the fewest: below 1 means adding processes cost throughput.
        public var ratio: Double { phases.scaleComparison().ratio }

        public var description: String {
            ([
                "\(phases.first?.deliveries ?? 0) GitHub-signed deliveries per configuration, \(connections) keep-alive connections in all, split over the processes"
            ]
                + phases.map(\.description)
                + phases.scaleLines(unit: "events"))
                .joined(separator: "\n")
        }
    }

    let database: Database
    let applicationURL: DatabaseURL
    let keyringJSON: String
    let executable: String
    let deliveries: Int
    let connections: Int
    let processCounts: [Int]
    let freePort: @Sendable () throws -> Int
    let logger: Logger

    /// `database` must be running and use the keyring `keyringJSON`, which the serve processes get too (they open the
    /// source's signing secret this process sealed); `executable` is the `switchyard` binary.
    public init(
        database: Database,
        applicationURL: DatabaseURL,
        keyringJSON: String,
        executable: String,
        deliveries: Int,
        connections: Int,
        processCounts: [Int],
        freePort: @escaping @Sendable () throws -> Int,
        logger: Logger
    ) {
        self.database = database
        self.applicationURL = applicationURL
        self.keyringJSON = keyringJSON
        self.executable = executable
        self.deliveries = max(1, deliveries)
        self.connections = max(1, connections)
        self.processCounts = processCounts
        self.freePort = freePort
        self.logger = logger
    }

    public func run() async throws -> Report {
        let source = try await makeSource()
        // Unreported, as in `bench executors`: a fresh database's first run is slower whatever the process count.
        _ = try await phase(processes: processCounts.min() ?? 1, source: source, prefix: "warm")
        var phases: [Phase] = []
        for count in processCounts { phases.append(try await phase(processes: count, source: source, prefix: "p\(count)")) }
        return Report(phases: phases, connections: connections)
    }

    /// `bench ingest`'s source and signed body; returns the source's ingest path and the body's signature.
    private func makeSource() async throws -> (path: String, signature: String) {
        let (_, source) = try await IngestBenchmark.makeSource(database, logger: logger)
        return ("/webhooks/\(source.lowercasedString)", IngestBenchmark.signature(of: IngestBenchmark.body()))
    }

    private func phase(processes count: Int, source: (path: String, signature: String), prefix: String) async throws -> Phase {
        let ports = try (0..<count).map { _ in try freePort() }
        let children = try ports.map { try startServe(port: $0) }
        defer {
            for child in children where child.isRunning { child.terminate() }
        }
        for (port, child) in zip(ports, children) { try await waitUntilReady(port: port, child: child) }

        let backend = try await database.withQueue(logger: logger) { try await $0.backendProcessID() }
        let postmaster = ProcessCPU.parent(of: backend).flatMap { ProcessCPU.seconds(of: $0) == nil ? nil : $0 }
        let postgresBefore = ProcessCPU.server(postmaster)
        let serveBefore = children.compactMap { ProcessCPU.seconds(of: $0.processIdentifier) }.reduce(0, +)
        let machineBefore = ProcessCPU.machineBusySeconds()
        let generatorBefore = ProcessCPU.childrenSeconds()
        let started = ContinuousClock.now
        // One generator process per serve process, each with its share of the deliveries and the connections.
        let parts = try await withThrowingTaskGroup(of: IngestSender.Phase.self) { group in
            for (index, port) in ports.enumerated() {
                let share = deliveries / count + (index < deliveries % count ? 1 : 0)
                let target = IngestTarget(port: port, path: source.path, body: IngestBenchmark.body(), signature: source.signature)
                let sender = IngestSenderProcess(executable: executable, target: target)
                let connections = max(1, self.connections / count)
                group.addTask { try await sender.run(count: share, concurrency: connections, prefix: "\(prefix)-\(index)", pace: nil) }
            }
            return try await group.reduce(into: [IngestSender.Phase]()) { $0.append($1) }
        }
        let seconds = (ContinuousClock.now - started).inSeconds
        let serveCPU = children.compactMap { ProcessCPU.seconds(of: $0.processIdentifier) }.reduce(0, +) - serveBefore
        let postgresCPU = ProcessCPU.server(postmaster, since: postgresBefore)
        let machineCPU = ProcessCPU.machineBusySeconds() - machineBefore
        let generatorCPU = ProcessCPU.childrenSeconds() - generatorBefore
        for child in children { child.terminate() }
        for child in children { child.waitUntilExit() }
        var latencies = LatencyHistogram()
        for part in parts { latencies.add(part.latencies) }
        return Phase(
            processes: count,
            deliveries: deliveries,
            seconds: seconds,
            p50: latencies.milliseconds(at: 50),
            p99: latencies.milliseconds(at: 99),
            serveCPU: serveCPU,
            generatorCPU: generatorCPU,
            postgresCPU: postgresCPU,
            machineCPU: machineCPU
        )
    }

    private func startServe(port: Int) throws -> Process {
        let process = Process()
        process.executableURL = URL(filePath: executable)
        process.arguments = ["serve"]
        var variables = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SWITCHYARD_") }
        variables["SWITCHYARD_DATABASE_URL"] = applicationURL.urlString
        variables["SWITCHYARD_KEYRING"] = keyringJSON
        // Required by `serve`; nothing here uses it.
        variables["SWITCHYARD_ADMIN_KEY"] = (0..<4).map { _ in UUID().uuidString }.joined()
        variables["SWITCHYARD_HTTP_PORT"] = "\(port)"
        variables["SWITCHYARD_HTTP_HOST"] = "127.0.0.1"
        variables["SWITCHYARD_LOG_LEVEL"] = "warning"
        process.environment = variables
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        return process
    }

    private func waitUntilReady(port: Int, child: Process) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            guard child.isRunning else { throw BenchmarkFailure("a serve process exited with status \(child.terminationStatus)") }
            if let connection = try? await BenchmarkHTTPConnection.connect(host: "127.0.0.1", port: port) {
                await connection.close()
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw BenchmarkFailure("a serve process did not listen on port \(port) within a minute")
    }

}
