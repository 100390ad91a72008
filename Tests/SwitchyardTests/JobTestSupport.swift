import Foundation
import Logging
import ServiceLifecycle
import SwitchyardCore
import SwitchyardJobs
import SwitchyardPostgres
import SwitchyardTestSupport
import SwitchyardVault
import Synchronization
import Testing

/// Short leases, polls and backoffs so the queue's behaviour shows within seconds; tests never assert on timing.
func fastJobsSettings() -> JobsSettings {
    var settings = JobsSettings()
    settings.executorConcurrency = 4
    // Long enough that a heartbeat delayed by a loaded machine does not expire a lease mid-test; the tests of
    // lease expiry shorten it themselves.
    settings.leaseMilliseconds = 5_000
    settings.pollIntervalMilliseconds = 50
    settings.retryBaseMilliseconds = 20
    settings.retryMaxMilliseconds = 400
    settings.shutdownTimeoutMilliseconds = 5_000
    settings.schedulerTickMilliseconds = 100
    return settings
}

/// Fails its first `failures` attempts: transient (with an optional requested delay) or permanent.
struct FlakyPayload: JobPayload {
    static let kind = "test.flaky"
    var failures: Int
    var retryAfterMilliseconds: Int?
    var permanent = false
    /// Fail with a message holding U+0000, as a provider's error text can.
    var nulInMessage = false
}

struct FlakyHandler: JobHandler {
    func run(_ payload: FlakyPayload, context: JobContext) async throws {
        guard context.attempt <= payload.failures else { return }
        if payload.nulInMessage { throw JobFailure.permanent("the provider said: a\u{0}b") }
        if payload.permanent { throw JobFailure.permanent("boom: the provider said 400") }
        throw JobFailure.transient("try again later", retryAfter: payload.retryAfterMilliseconds.map { .milliseconds($0) })
    }
}

/// Fails permanently while the switch is on (for redrive after the cause is fixed).
final class FailureSwitch: Sendable {
    private let failing = Mutex(true)
    var isFailing: Bool { failing.withLock { $0 } }
    func fix() { failing.withLock { $0 = false } }
}

struct SwitchedPayload: JobPayload {
    static let kind = "test.switched"
}

struct SwitchedHandler: JobHandler {
    let failure: FailureSwitch
    func run(_ payload: SwitchedPayload, context: JobContext) async throws {
        if failure.isFailing { throw JobFailure.permanent("the destination rejected the payload") }
    }
}

/// Counts a handler's runs, the jobs they were for, and the most that ran at once.
final class RunTally: Sendable {
    private struct State {
        var running = 0
        var most = 0
        var runs = 0
        var jobs: Set<UUID> = []
    }

    private let state = Mutex(State())

    func began(_ job: UUID) {
        state.withLock { state in
            state.running += 1
            state.most = max(state.most, state.running)
            state.runs += 1
            state.jobs.insert(job)
        }
    }

    func ended() { state.withLock { $0.running -= 1 } }

    var figures: (runs: Int, distinct: Int, most: Int) { state.withLock { ($0.runs, $0.jobs.count, $0.most) } }
}

struct TalliedPayload: JobPayload {
    static let kind = "test.tallied"
}

/// Holds its worker for a few milliseconds, counted by the tally.
struct TalliedHandler: JobHandler {
    let tally: RunTally
    func run(_ payload: TalliedPayload, context: JobContext) async throws {
        tally.began(context.jobID)
        defer { tally.ended() }
        try await Task.sleep(for: .milliseconds(Int.random(in: 1...5)))
    }
}

/// Waits until the gate opens (or the task is cancelled): a job that holds its worker as long as the test wants.
final class Gate: Sendable {
    private let open = Mutex(false)
    func release() { open.withLock { $0 = true } }
    func wait() async throws {
        while !open.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(10)) }
    }
}

struct GatedPayload: JobPayload {
    static let kind = "test.gated"
}

struct GatedHandler: JobHandler {
    let gate: Gate
    func run(_ payload: GatedPayload, context: JobContext) async throws { try await gate.wait() }
}

extension Database {
    func makeTenant(_ slug: String, logger: Logger) async throws -> TenantID {
        try await withOperator(logger: logger) { try await $0.createTenant(slug: slug, name: slug) }.id
    }

    func enqueue(_ job: NewJob, for tenant: TenantID, logger: Logger) async throws -> UUID {
        try await withTenant(tenant, logger: logger) { try await $0.enqueue(job) }.job.id
    }

    func job(_ id: UUID, of tenant: TenantID, logger: Logger) async throws -> JobRecord {
        let job = try await withTenant(tenant, logger: logger) { try await $0.job(id) }
        return try #require(job)
    }

    func count(_ state: JobState, of tenant: TenantID, logger: Logger) async throws -> Int {
        try await withTenant(tenant, logger: logger) { try await $0.countJobs(state: state) }
    }

    /// Runs an executor in this process while `body` runs; it is cancelled afterwards.
    func withExecutor<Result: Sendable>(
        registry: JobRegistry,
        settings: JobsSettings = fastJobsSettings(),
        usage: UsageMeter? = nil,
        logger: Logger,
        _ body: @Sendable () async throws -> Result
    ) async throws -> Result {
        let executor = JobExecutor(database: self, registry: registry, options: ExecutorOptions(settings), metrics: nil, usage: usage, logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await executor.run() }
            defer { group.cancelAll() }
            return try await body()
        }
    }
}

/// Polls `condition` until it holds; fails the test (with `message`, and what `diagnosis` tells then) after `timeout`.
///
/// The timeout bounds liveness, not speed: a condition that holds returns at its next poll. The default leaves room for
/// the full suite on two cores, where an executor's 25 no-op jobs (3 s alone) once took over 30 s while every test
/// started at once (CI of df02fa6, before the suite's parallelism was capped).
func eventually(
    _ message: @autoclosure () -> String,
    timeout: Duration = .seconds(60),
    diagnosis: () async -> String? = { nil },
    _ condition: () async throws -> Bool,
    sourceLocation: SourceLocation = #_sourceLocation
) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    // One last look: a machine that stalled this task through its deadline may have let the condition come true meanwhile.
    if try await condition() { return }
    let diagnosed = await diagnosis().map { "; \($0)" } ?? ""
    Issue.record("timed out waiting: \(message())\(diagnosed)", sourceLocation: sourceLocation)
    throw TestFailure("timed out waiting: \(message())")
}

/// A `switchyard executor` (or `scheduler`) child process of the binary `swift build` made.
final class SwitchyardProcess: Sendable {
    static let binary = URL(filePath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appending(path: ".build/debug/switchyard")

    let process: Process
    let log: URL

    init(_ arguments: [String], environment: TestEnvironment, settings: [String: String]) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.binary.path) else {
            throw TestFailure("\(Self.binary.path) is missing: run `swift build --build-tests` first")
        }
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = arguments
        var variables = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SWITCHYARD_") }
        variables["SWITCHYARD_DATABASE_URL"] = environment.applicationURL.urlString
        variables["SWITCHYARD_KEYRING"] = LocalKeyring.generate(keyID: "child").json()
        variables["SWITCHYARD_LOG_LEVEL"] = "info"
        variables["SWITCHYARD_DATABASE_MAX_CONNECTIONS"] = "6"
        // An empty value unsets the variable (the inline keyring, for a child given a keyring file).
        for (key, value) in settings { variables[key] = value.isEmpty ? nil : value }
        process.environment = variables
        log = URL(filePath: NSTemporaryDirectory()).appending(path: "switchyard-child-\(UUID().uuidString.prefix(8)).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        self.process = process
    }

    func signal(_ signal: Int32) {
        kill(process.processIdentifier, signal)
    }

    /// Waits for the process to exit; returns its status.
    func waitForExit(timeout: Duration = .seconds(30)) async throws -> Int32 {
        try await eventually("\(process.arguments ?? []) to exit; its log: \(output)", timeout: timeout) { !process.isRunning }
        return process.terminationStatus
    }

    var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(at: log)
    }
}

/// The executor environment of the child processes in these tests.
func childExecutorSettings(_ extra: [String: String] = [:]) -> [String: String] {
    [
        "SWITCHYARD_JOB_LEASE_MS": "1000",
        "SWITCHYARD_QUEUE_POLL_INTERVAL_MS": "100",
        "SWITCHYARD_EXECUTOR_CONCURRENCY": "4",
    ].merging(extra) { $1 }
}

extension TestEnvironment {
    /// What a queue test that timed out was waiting on: the jobs by state, the unfinished ones (then the last
    /// finished) one by one, and this database's sessions with what each waits for.
    func queueDiagnosis() async -> String {
        do {
            return try await withOwnerConnection { connection in
                let states = try await connection.query(
                    "SELECT state || ' ' || count(*) FROM jobs GROUP BY state ORDER BY state",
                    logger: logger
                ).decode(String.self).collect()
                // The first 20 jobs not yet finished, then the last finished ones: what each is and when it is due.
                let jobs = try await connection.query(
                    """
                    SELECT kind || ' ' || state || ' attempt ' || attempts
                           || ' due in ' || round(extract(epoch FROM run_at - now())::numeric, 2) || ' s'
                           || coalesce(' lease ' || lease_owner || ' for ' || round(extract(epoch FROM lease_expires_at - now())::numeric, 2) || ' s', '')
                           || coalesce(' last error: ' || left(last_error, 120), '')
                      FROM (SELECT * FROM jobs ORDER BY finished_at IS NOT NULL, coalesce(finished_at, run_at) DESC LIMIT 20) AS listed
                    """,
                    logger: logger
                ).decode(String.self).collect()
                let sessions = try await connection.query(
                    """
                    SELECT 'pid ' || pid || ' ' || coalesce(state, '?') || coalesce(' waiting ' || wait_event_type || '/' || wait_event, '')
                           || coalesce(' for ' || round(extract(epoch FROM now() - state_change)::numeric, 1) || ' s', '')
                           || ': ' || left(regexp_replace(query, '\\s+', ' ', 'g'), 160)
                      FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()
                    """,
                    logger: logger
                ).decode(String.self).collect()
                return """
                    jobs: \(states.joined(separator: ", ")):
                    \(jobs.joined(separator: "\n"))
                    sessions:
                    \(sessions.joined(separator: "\n"))
                    """
            }
        } catch {
            return "(could not read the queue: \(error))"
        }
    }
}
