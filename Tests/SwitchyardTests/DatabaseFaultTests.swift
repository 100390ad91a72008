import AsyncHTTPClient
import Foundation
import Logging
import PostgresNIO
import SwitchyardAPIContract
import SwitchyardCore
import SwitchyardDevCluster
import SwitchyardJobs
import SwitchyardPostgres
import SwitchyardTestSupport
import SwitchyardVault
import Synchronization
import Testing

/// PostgreSQL crashed (`pg_ctl stop -m immediate`) and restarted on the same port under load, with the platform
/// running as separate OS processes, the way production runs it (REQUIREMENTS RL-6, RL-8, RL-9).
///
/// `SWITCHYARD_FAULT_CRASHES` sets how many crashes the ingest test injects (3 by default; the soak runs 50).
@Suite("Database faults", .serialized)
struct DatabaseFaultTests {
    static let crashes = Int(ProcessInfo.processInfo.environment["SWITCHYARD_FAULT_CRASHES"] ?? "") ?? 3
    /// A provider's patience: GitHub abandons a delivery after 10 s.
    static let providerTimeout = Duration.seconds(10)
    /// As long as the outage the issue reported (PostgreSQL stopped for 8 s).
    static let longOutage = Duration.seconds(8)

    @Test("PostgreSQL crashes repeatedly under ingest: every acknowledged delivery is stored, and none waits past a provider's timeout")
    func ingestSurvivesCrashes() async throws {
        try await FaultCluster.with("ingest") { fault in
            let port = try LocalPostgresCluster.freeLoopbackPort()
            let serve = try SwitchyardProcess(
                ["serve"],
                environment: fault.environment,
                settings: [
                    "SWITCHYARD_ADMIN_KEY": TestEnvironment.adminKey, "SWITCHYARD_HTTP_PORT": "\(port)", "SWITCHYARD_DATABASE_MAX_CONNECTIONS": "10",
                ]
            )
            let client = HTTPClient.forLoad()
            do {
                let http = LoopbackHTTP(client: client, port: port)
                try await http.waitUntilReady()
                let (_, key) = try await client.makeTenant(port: port, slug: "faults")
                let secret = "fault-injection-secret"
                let sourceID = try await http.createdID(
                    "/v1/webhook-sources",
                    key: key,
                    body: #"{"name":"gh","scheme":{"type":"github"},"secret":"\#(secret)"}"#
                )

                let ledger = DeliveryLedger()
                let report = try await withThrowingTaskGroup(of: Void.self) { senders -> CrashReport in
                    for sender in 0..<20 {
                        senders.addTask {
                            var sequence = 0
                            while !ledger.isStopped {
                                sequence += 1
                                let id = "delivery-\(sender)-\(sequence)"
                                let body = #"{"action":"opened","number":\#(sequence),"sender":\#(sender)}"#
                                let started = ContinuousClock.now
                                let answer = try? await http.send(
                                    .POST,
                                    "/webhooks/\(sourceID)",
                                    headers: [
                                        ("Content-Type", "application/json"), ("X-GitHub-Delivery", id), ("X-GitHub-Event", "issues"),
                                        ("X-Hub-Signature-256", "sha256=" + WebhookFixture.hmacHex(secret, body)),
                                    ],
                                    body: body,
                                    timeout: .seconds(20)
                                )
                                ledger.record(id: id, answer: answer, elapsed: ContinuousClock.now - started)
                                if answer?.status != 200 { try await Task.sleep(for: .milliseconds(20)) }
                            }
                        }
                    }
                    var report = CrashReport()
                    for crash in 0..<Self.crashes {
                        // Each crash lands on a server under way: at least 50 more deliveries acknowledged since the last.
                        let target = ledger.acknowledgedCount + 50
                        try await eventually("deliveries are acknowledged before crash \(crash + 1)") { ledger.acknowledgedCount >= target }
                        let ackedBefore = ledger.acknowledgedCount
                        await fault.crash()
                        // While it is down: readiness says so at once.
                        let probe = try? await http.send(.GET, "/readyz", timeout: .seconds(3))
                        report.readinessWhileDown.append(probe.map { ($0.status, $0.elapsed) })
                        // Once, a long outage: deliveries keep getting prompt 503s, and the pool finds the server again.
                        let refusedBefore = ledger.refusedCount
                        try await Task.sleep(for: crash == 1 ? Self.longOutage : .milliseconds(300))
                        if crash == 1 { report.refusedDuringLongOutage = ledger.refusedCount - refusedBefore }
                        let restarted = ContinuousClock.now
                        try await fault.restart()
                        report.readyAfterRestart.append(try await http.waitUntilReady())
                        while ledger.acknowledgedCount == ackedBefore, ContinuousClock.now - restarted < .seconds(30) {
                            try await Task.sleep(for: .milliseconds(10))
                        }
                        report.firstAckAfterRestart.append(ContinuousClock.now - restarted)
                    }
                    try await Task.sleep(for: .milliseconds(500))
                    ledger.stop()
                    try await senders.waitForAll()
                    return report
                }

                let stored = Set(try await fault.ownerQuery("SELECT event_id FROM webhook_events", as: String.self))
                let acknowledged = ledger.acknowledged
                let lost = acknowledged.subtracting(stored)
                print(
                    """
                    fault report (ingest): crashes=\(Self.crashes) acknowledged=\(acknowledged.count) stored=\(stored.count) lost=\(lost.count) \
                    refused=\(ledger.refusedCount) refused_in_8s_outage=\(report.refusedDuringLongOutage) unanswered=\(ledger.unansweredCount) slowest=\(ledger.slowest.milliseconds)ms \
                    readyz_while_down=\(report.readinessWhileDown.map { $0.map { "\($0.0)/\($0.1.milliseconds)ms" } ?? "none" }) \
                    ready_after_restart_ms=\(report.readyAfterRestart.map(\.milliseconds)) first_ack_after_restart_ms=\(report.firstAckAfterRestart.map(\.milliseconds))
                    """
                )
                #expect(lost.isEmpty, "acknowledged but not stored: \(lost.sorted().prefix(20))")
                #expect(ledger.unansweredCount == 0, "deliveries with no answer within 20 s")
                if Self.crashes > 1 { #expect(report.refusedDuringLongOutage > 0, "no delivery was refused during the long outage") }
                #expect(ledger.slowest < Self.providerTimeout, "a delivery waited \(ledger.slowest) for its answer")
                for probe in report.readinessWhileDown {
                    #expect(probe?.0 == 503, "/readyz while the database is down answered \(probe.map { "\($0.0)" } ?? "nothing")")
                }
                #expect(serve.process.isRunning)
            } catch {
                try? await client.shutdown()
                throw error
            }
            try await client.shutdown()
            serve.signal(SIGTERM)
            #expect(try await serve.waitForExit() == 0)
        }
    }

    @Test("PostgreSQL crashes under executor load: no job stays running, processing resumes, readiness recovers, SIGTERM exits")
    func executorsSurviveCrashes() async throws {
        try await FaultCluster.with("executors") { fault in
            let logger = fault.logger
            let jobs = 1_500
            let tenant = try await fault.environment.withDatabase { database in
                let tenant = try await database.makeTenant("busy", logger: logger)
                try await database.withTenant(tenant, logger: logger) {
                    _ = try await $0.enqueue(batch: Array(repeating: try NewJob(NoopPayload(sleepMilliseconds: 100)), count: jobs))
                }
                return tenant
            }
            let ports = [try LocalPostgresCluster.freeLoopbackPort(), try LocalPostgresCluster.freeLoopbackPort()]
            let executors = try ports.map { port in
                try SwitchyardProcess(
                    ["executor", "--metrics-port", "\(port)"],
                    environment: fault.environment,
                    settings: childExecutorSettings([
                        "SWITCHYARD_EXECUTOR_CONCURRENCY": "10", "SWITCHYARD_EXECUTOR_TENANT_CONCURRENCY": "20", "SWITCHYARD_JOB_LEASE_MS": "2000",
                        "SWITCHYARD_DATABASE_CALL_TIMEOUT_MS": "5000", "SWITCHYARD_JOB_RUN_TIMEOUT_MS": "10000",
                    ])
                )
            }
            let client = HTTPClient.forLoad()
            do {
                let probes = ports.map { LoopbackHTTP(client: client, port: $0) }
                for probe in probes { try await probe.waitUntilReady() }
                let succeeded: @Sendable () async throws -> Int = {
                    try await fault.ownerQuery("SELECT count(*)::int FROM jobs WHERE state = 'succeeded'", as: Int.self).first ?? 0
                }
                var resumed: [Duration] = []
                for round in 1...2 {
                    try await eventually("jobs are under way (round \(round))") { (try? await succeeded()) ?? 0 >= 150 * round }
                    await fault.crash()
                    try await Task.sleep(for: .milliseconds(500))
                    let restarted = ContinuousClock.now
                    try await fault.restart()
                    let before = try await succeeded()
                    try await eventually("a job finishes after restart \(round)", timeout: .seconds(30)) { (try? await succeeded()) ?? 0 > before }
                    resumed.append(ContinuousClock.now - restarted)
                }
                // Nothing wedges: every job ends, none is left running under a lease that a stuck executor renews.
                try await eventually("every job succeeds", timeout: .seconds(90)) { (try? await succeeded()) == jobs }
                let running = try await fault.ownerQuery("SELECT count(*)::int FROM jobs WHERE state = 'running'", as: Int.self).first
                #expect(running == 0)
                for probe in probes {
                    try await probe.waitUntilReady(timeout: .seconds(15))
                    #expect(await probe.metric("switchyard_executor_jobs_stuck") == 0)
                }
                print("fault report (executors): jobs=\(jobs) first_finished_job_after_restart_ms=\(resumed.map(\.milliseconds))")
                _ = tenant
            } catch {
                try? await client.shutdown()
                throw error
            }
            try await client.shutdown()
            for executor in executors { executor.signal(SIGTERM) }
            for executor in executors {
                #expect(try await executor.waitForExit(timeout: .seconds(30)) == 0, "log: \(executor.output.suffix(2000))")
            }
        }
    }

    @Test("two schedulers across a PostgreSQL restart: the lock dies with its connection and exactly one leads again within a few ticks")
    func oneSchedulerLeadsAfterRestart() async throws {
        try await FaultCluster.with("schedulers") { fault in
            let ports = [try LocalPostgresCluster.freeLoopbackPort(), try LocalPostgresCluster.freeLoopbackPort()]
            let schedulers = try ports.map { port in
                try SwitchyardProcess(
                    ["scheduler", "--metrics-port", "\(port)"],
                    environment: fault.environment,
                    settings: [
                        "SWITCHYARD_SCHEDULER_TICK_MS": "100"
                    ]
                )
            }
            let client = HTTPClient.forLoad()
            do {
                let probes = ports.map { LoopbackHTTP(client: client, port: $0) }
                let leaders: @Sendable () async -> [Double?] = {
                    var values: [Double?] = []
                    for probe in probes { values.append(await probe.metric("switchyard_scheduler_leader")) }
                    return values
                }
                try await eventually("one scheduler leads") { await leaders().compactMap { $0 }.reduce(0, +) == 1 }
                for round in 1...2 {
                    await fault.crash()
                    try await Task.sleep(for: .milliseconds(500))
                    try await fault.restart()
                    try await eventually("exactly one scheduler leads after restart \(round)", timeout: .seconds(15)) {
                        let values = await leaders()
                        return values.allSatisfy { $0 != nil } && values.compactMap { $0 }.reduce(0, +) == 1
                    }
                    // And it stays that way: the one that lost does not come back as a second leader.
                    for _ in 0..<10 {
                        try await Task.sleep(for: .milliseconds(100))
                        let count = await leaders().compactMap { $0 }.reduce(0, +)
                        #expect(count <= 1, "two schedulers lead after restart \(round)")
                    }
                }
            } catch {
                for scheduler in schedulers { print("scheduler log:\n\(scheduler.output.suffix(4000))") }
                try? await client.shutdown()
                throw error
            }
            try await client.shutdown()
            for scheduler in schedulers { scheduler.signal(SIGTERM) }
            for scheduler in schedulers { #expect(try await scheduler.waitForExit() == 0) }
        }
    }
}

/// What the senders were told, delivery by delivery.
final class DeliveryLedger: Sendable {
    private struct State {
        var acknowledged = Set<String>()
        var refused = 0
        var unanswered = 0
        var slowest = Duration.zero
        var stopped = false
    }

    private let state = Mutex(State())

    func record(id: String, answer: LoopbackHTTP.Answer?, elapsed: Duration) {
        state.withLock { state in
            state.slowest = max(state.slowest, elapsed)
            guard let answer else {
                state.unanswered += 1
                return
            }
            // 200 `recorded` (or `duplicate`) is the promise that the event is stored.
            if answer.status == 200 { state.acknowledged.insert(id) } else { state.refused += 1 }
        }
    }

    /// The senders finish the delivery under way and send no more.
    func stop() { state.withLock { $0.stopped = true } }
    var isStopped: Bool { state.withLock { $0.stopped } }

    var acknowledged: Set<String> { state.withLock { $0.acknowledged } }
    var acknowledgedCount: Int { state.withLock { $0.acknowledged.count } }
    var refusedCount: Int { state.withLock { $0.refused } }
    var unansweredCount: Int { state.withLock { $0.unanswered } }
    var slowest: Duration { state.withLock { $0.slowest } }
}

struct CrashReport {
    var refusedDuringLongOutage = 0
    var readinessWhileDown: [(Int, Duration)?] = []
    var readyAfterRestart: [Duration] = []
    var firstAckAfterRestart: [Duration] = []
}
