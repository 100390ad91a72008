import Foundation
import Logging
import SwitchyardCore
import SwitchyardJobs
import SwitchyardPostgres
import SwitchyardVault

/// `switchyard bench executors`: the same no-op jobs, spread over several tenants, run by 1, 2 and 4 `switchyard
/// executor` processes on one PostgreSQL. On a machine with few cores the point is the shape, not a linear speed-up:
/// no collapse as processes are added, no lock convoy, fairness across tenants kept; and where the CPU went.
public struct ExecutorScaleBenchmark: Sendable {
    /// One configuration's run.
    public struct Phase: Sendable, CustomStringConvertible, ScalePhase {
        public let processes: Int
        public let jobs: Int
        public let seconds: Double
        /// CPU seconds of the executor processes, of PostgreSQL (its server's processes, when it runs on this machine)
        /// and of the whole machine, over the phase.
        public let executorCPU: Double
        public let postgresCPU: Double
        public let machineCPU: Double
        /// When half the jobs were done: the fewest finished jobs of a tenant over the most (1 is perfectly even).
        public let fairness: Double

        public var rate: Double { Double(jobs) / seconds }

        public var description: String {
            String(
                format:
                    "%d executor process%@: %6.0f jobs/s (%.2f s); CPU: executors %.2f s, PostgreSQL %.2f s, machine %.2f s (%.0f%% of %.0f cores); fairness at half %.2f",
                processes,
                processes == 1 ? "  " : "es",
                rate,
                seconds,
                executorCPU,
                postgresCPU,
                machineCPU,
                100 * ProcessCPU.machineShare(busySeconds: machineCPU, over: seconds),
                ProcessCPU.cores,
                fairness
            )
        }
    }

    public struct Report: Sendable, CustomStringConvertible {
        public let phases: [Phase]
        public let tenants: Int
        public let concurrency: Int

        /// The rate of the most processes over the rate of the fewest: below 1 means adding processes cost throughput.
        public var ratio: Double { phases.scaleComparison().ratio }

        public var description: String {
            (["\(phases.first?.jobs ?? 0) no-op jobs per configuration, \(tenants) tenants, \(concurrency) workers per process"]
                + phases.map(\.description)
                + phases.scaleLines(unit: "jobs"))
                .joined(separator: "\n")
        }
    }

    let database: Database
    let applicationURL: DatabaseURL
    let executable: String
    let jobs: Int
    let tenants: Int
    let processCounts: [Int]
    let concurrency: Int
    let logger: Logger

    /// `executable` is the `switchyard` binary the executor processes run; `database` must be running.
    public init(
        database: Database,
        applicationURL: DatabaseURL,
        executable: String,
        jobs: Int,
        tenants: Int,
        processCounts: [Int],
        concurrency: Int,
        logger: Logger
    ) {
        self.database = database
        self.applicationURL = applicationURL
        self.executable = executable
        self.jobs = jobs
        self.tenants = max(1, tenants)
        self.processCounts = processCounts
        self.concurrency = concurrency
        self.logger = logger
    }

    public func run() async throws -> Report {
        // Unreported: the first run on a fresh database is slower whatever its process count (its planner has no
        // statistics of the jobs table yet, and its caches are cold), which would flatter every later configuration.
        _ = try await phase(processes: processCounts.min() ?? 1)
        var phases: [Phase] = []
        for count in processCounts { phases.append(try await phase(processes: count)) }
        return Report(phases: phases, tenants: tenants, concurrency: concurrency)
    }

    private func phase(processes count: Int) async throws -> Phase {
        let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        var owners: [TenantID] = []
        for index in 0..<tenants {
            owners.append(
                try await database.withOperator(logger: logger) {
                    try await $0.createTenant(slug: "scale-\(suffix)-\(index)", name: "Scale \(index)")
                }.id
            )
        }
        // The executors start first (a process's start is not what is measured); the jobs are due together once all
        // are queued, and the clock starts then.
        let children = try (0..<count).map { _ in try startExecutor() }
        defer {
            for child in children where child.isRunning { child.terminate() }
        }
        try await Task.sleep(for: .seconds(1))
        let due = Date().addingTimeInterval(1 + Double(jobs) / 20_000)
        let job = try NewJob(NoopPayload(), runAt: due)
        for (index, tenant) in owners.enumerated() {
            let share = jobs / tenants + (index < jobs % tenants ? 1 : 0)
            for start in stride(from: 0, to: share, by: 5000) {
                let batch = Array(repeating: job, count: min(5000, share - start))
                _ = try await database.withTenant(tenant, logger: logger) { try await $0.enqueue(batch: batch) }
            }
        }
        guard Date() < due else { throw BenchmarkFailure("queueing the jobs took longer than planned; run with fewer --jobs") }
        try await Task.sleep(for: .seconds(due.timeIntervalSinceNow))

        // The server's processes: the parent of one of its backends, when that backend is a process of this machine.
        let backend = try await database.withQueue(logger: logger) { try await $0.backendProcessID() }
        let postmaster = ProcessCPU.parent(of: backend).flatMap { ProcessCPU.seconds(of: $0) == nil ? nil : $0 }
        let postgresBefore = ProcessCPU.server(postmaster)
        let executorsBefore = children.compactMap { ProcessCPU.seconds(of: $0.processIdentifier) }.reduce(0, +)
        let machineBefore = ProcessCPU.machineBusySeconds()
        let started = ContinuousClock.now
        var fairness = 1.0
        var measuredFairness = false
        while true {
            let done = try await database.withQueue(logger: logger) { try await $0.succeededJobs(of: owners) }
            let total = done.values.reduce(0, +)
            if !measuredFairness, total >= jobs / 2 {
                let counts = owners.map { done[$0] ?? 0 }
                fairness = Double(counts.min() ?? 0) / Double(max(counts.max() ?? 1, 1))
                measuredFairness = true
            }
            if total >= jobs { break }
            if let exited = children.first(where: { !$0.isRunning }) {
                throw BenchmarkFailure("an executor process exited with status \(exited.terminationStatus)")
            }
            // Counting costs PostgreSQL a little (it shows in its CPU): ten times a second is enough.
            try await Task.sleep(for: .milliseconds(100))
        }
        let seconds = (ContinuousClock.now - started).inSeconds
        // Read before the executors stop: their PostgreSQL backends leave with them.
        let executorCPU = children.compactMap { ProcessCPU.seconds(of: $0.processIdentifier) }.reduce(0, +) - executorsBefore
        let postgresCPU = ProcessCPU.server(postmaster, since: postgresBefore)
        let machineCPU = ProcessCPU.machineBusySeconds() - machineBefore
        for child in children { child.terminate() }
        for child in children { child.waitUntilExit() }
        return Phase(
            processes: count,
            jobs: jobs,
            seconds: seconds,
            executorCPU: executorCPU,
            postgresCPU: postgresCPU,
            machineCPU: machineCPU,
            fairness: fairness
        )
    }

    private func startExecutor() throws -> Process {
        let process = Process()
        process.executableURL = URL(filePath: executable)
        process.arguments = ["executor"]
        var variables = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SWITCHYARD_") }
        variables["SWITCHYARD_DATABASE_URL"] = applicationURL.urlString
        variables["SWITCHYARD_KEYRING"] = LocalKeyring.generate(keyID: "scale").json()
        variables["SWITCHYARD_LOG_LEVEL"] = "warning"
        variables["SWITCHYARD_EXECUTOR_CONCURRENCY"] = "\(concurrency)"
        variables["SWITCHYARD_EXECUTOR_CLAIM_BATCH"] = "\(min(concurrency, 1000))"
        variables["SWITCHYARD_DATABASE_MAX_CONNECTIONS"] = "\(concurrency / 8 + 8)"
        variables["SWITCHYARD_QUEUE_POLL_INTERVAL_MS"] = "50"
        process.environment = variables
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        return process
    }
}
