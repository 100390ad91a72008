import Foundation
import Logging
import PostgresNIO
import SwitchyardCore
import SwitchyardJobs
import SwitchyardMetrics
import SwitchyardPostgres
import SwitchyardTestSupport
import Testing

@Suite("Scheduler: fires, leadership and housekeeping (REQUIREMENTS RL-5)")
struct JobSchedulerTests {
    /// One transaction per schedule: a transaction holding its id for long holds back every sync change feed in
    /// the cluster, other suites' included (`SyncRecordStore`).
    static func makeSchedules(_ database: Database, tenant: TenantID, count: Int, dueAt: Date, logger: Logger) async throws -> [UUID] {
        var ids: [UUID] = []
        for index in 0..<count {
            let schedule = NewJobSchedule(
                name: "every-hour-\(index)-\(UUID().uuidString.prefix(6))",
                kind: "noop",
                payloadJSON: "{}",
                payloadVersion: 1,
                integrationID: nil,
                intervalSeconds: 3600,
                cron: nil,
                jitterSeconds: 0,
                maxAttempts: 3,
                paused: false,
                nextFireAt: dueAt
            )
            ids.append(try await database.withTenant(tenant, logger: logger) { try await $0.createSchedule(schedule).id })
        }
        return ids
    }

    /// Fires per schedule: (schedule id, fire time) of every job a schedule made.
    static func fires(_ database: Database, tenant: TenantID, logger: Logger) async throws -> [(UUID, Date)] {
        try await database.withTenant(tenant, logger: logger) {
            try await $0.jobs(JobFilter(), page: PageRequest(limit: 1000, cursor: nil))
        }.items.compactMap { job in job.scheduleID.flatMap { id in job.fireTime.map { (id, $0) } } }
    }

    @Test("two schedulers ticking at once fire each due schedule exactly once, even without the leader lock")
    func twoSchedulersFireOnce() async throws {
        let environment = try await TestEnvironment.make()
        let logger = environment.logger
        var options = SchedulerOptions(fastJobsSettings())
        options.leaderLock = false
        let unlocked = options
        try await environment.withDatabase(maxConnections: 6) { first in
            try await environment.withDatabase(maxConnections: 6) { second in
                let tenant = try await first.makeTenant("schedules", logger: logger)
                let due = Date().addingTimeInterval(-1)
                let ids = try await Self.makeSchedules(first, tenant: tenant, count: 150, dueAt: due, logger: logger)
                let a = JobScheduler(database: first, options: unlocked, metrics: nil, logger: logger)
                let b = JobScheduler(database: second, options: unlocked, metrics: nil, logger: logger)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for _ in 0..<3 {
                        group.addTask { try await a.tick() }
                        group.addTask { try await b.tick() }
                    }
                    try await group.waitForAll()
                }
                let fires = try await Self.fires(first, tenant: tenant, logger: logger)
                #expect(fires.count == ids.count)
                #expect(Set(fires.map(\.0)) == Set(ids))
                #expect(fires.allSatisfy { abs($0.1.timeIntervalSince(due)) < 0.001 })
                let schedule = try #require(try await first.withTenant(tenant, logger: logger) { try await $0.schedule(ids[0]) })
                #expect(abs(schedule.nextFireAt.timeIntervalSince(due.addingTimeInterval(3600))) < 0.001)
                #expect(schedule.lastFiredAt != nil)
            }
        }
    }

    @Test("with the leader lock one scheduler leads; when it stops, the other takes over and no fire is lost")
    func leaderTakeover() async throws {
        let environment = try await TestEnvironment.make()
        let logger = environment.logger
        let options = SchedulerOptions(fastJobsSettings())
        try await environment.withDatabase(maxConnections: 6) { first in
            try await environment.withDatabase(maxConnections: 6) { second in
                let tenant = try await first.makeTenant("leader", logger: logger)
                let metricsA = MetricsRegistry(version: "test")
                let metricsB = MetricsRegistry(version: "test")
                let a = JobScheduler(database: first, options: options, metrics: metricsA.jobs, logger: logger)
                let b = JobScheduler(database: second, options: options, metrics: metricsB.jobs, logger: logger)
                let isLeader: @Sendable (MetricsRegistry) -> Bool = {
                    String(decoding: $0.render(), as: UTF8.self).split(separator: "\n").contains("switchyard_scheduler_leader 1.0")
                }
                let before = try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await a.run() }
                    try await eventually("A leads") { isLeader(metricsA) }
                    group.addTask { try await b.run() }
                    let before = try await Self.makeSchedules(first, tenant: tenant, count: 3, dueAt: Date(), logger: logger)
                    try await eventually("the leader fires", diagnosis: { await environment.queueDiagnosis() }) {
                        try await Self.fires(first, tenant: tenant, logger: logger).count == 3
                    }
                    #expect(!isLeader(metricsB))
                    // The leader goes away: its lock goes with it.
                    group.cancelAll()
                    try? await group.waitForAll()
                    return before
                }
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await b.run() }
                    let after = try await Self.makeSchedules(first, tenant: tenant, count: 3, dueAt: Date(), logger: logger)
                    try await eventually("B takes over and fires", diagnosis: { await environment.queueDiagnosis() }) {
                        try await Self.fires(first, tenant: tenant, logger: logger).count == 6
                    }
                    #expect(isLeader(metricsB))
                    let fired = try await Self.fires(first, tenant: tenant, logger: logger).map(\.0)
                    #expect(Set(fired) == Set(before + after) && fired.count == 6)
                    group.cancelAll()
                }
            }
        }
    }

    @Test("schedules fire on time while the leader's housekeeping waits on a lock")
    func firesWhileHousekeepingWaits() async throws {
        var configured = try await TestEnvironment.make()
        // Housekeeping waits for the lock until the test ends, not until the statement timeout gives up for it.
        configured.configuration.database.statementTimeoutMilliseconds = 300_000
        let environment = configured
        let logger = environment.logger
        try await environment.withDatabase(maxConnections: 6) { database in
            let tenant = try await database.makeTenant("housekeeping", logger: logger)
            try await environment.withOwnerConnection { blocker in
                // Housekeeping's sweep of deleted tenants' rows cannot read its table until this transaction ends.
                _ = try await blocker.query("BEGIN", logger: logger)
                _ = try await blocker.query("LOCK TABLE deleted_tenants IN ACCESS EXCLUSIVE MODE", logger: logger)
                let scheduler = JobScheduler(database: database, options: SchedulerOptions(fastJobsSettings()), metrics: nil, logger: logger)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await scheduler.run() }
                    let sweepWaits: @Sendable () async throws -> Bool = {
                        try await environment.withOwnerConnection { connection in
                            try await connection.query(
                                """
                                SELECT count(*)::int FROM pg_stat_activity
                                 WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%app_sweep_deleted_tenants%'
                                """,
                                logger: logger
                            ).decode(Int.self).collect().first == 1
                        }
                    }
                    try await eventually("housekeeping waits on the lock", diagnosis: { await environment.queueDiagnosis() }, sweepWaits)
                    let ids = try await Self.makeSchedules(database, tenant: tenant, count: 3, dueAt: Date(), logger: logger)
                    try await eventually("the schedules fire", diagnosis: { await environment.queueDiagnosis() }) {
                        Set(try await Self.fires(database, tenant: tenant, logger: logger).map(\.0)) == Set(ids)
                    }
                    #expect(try await sweepWaits(), "housekeeping still waits")
                    _ = try await blocker.query("ROLLBACK", logger: logger)
                    group.cancelAll()
                }
            }
        }
    }

    @Test("scheduler processes: the leader killed with SIGKILL, the standby fires what comes due, each fire once")
    func killedLeaderProcess() async throws {
        let environment = try await TestEnvironment.make()
        let logger = environment.logger
        let settings = ["SWITCHYARD_SCHEDULER_TICK_MS": "100"]
        try await environment.withDatabase(maxConnections: 4) { database in
            let tenant = try await database.makeTenant("scheduler-processes", logger: logger)
            let leader = try SwitchyardProcess(["scheduler"], environment: environment, settings: settings)
            let first = try await Self.makeSchedules(database, tenant: tenant, count: 5, dueAt: Date(), logger: logger)
            try await eventually("the first scheduler fires; log: \(leader.output)") {
                try await Self.fires(database, tenant: tenant, logger: logger).count == 5
            }
            let standby = try SwitchyardProcess(["scheduler"], environment: environment, settings: settings)
            try await Task.sleep(for: .milliseconds(500))
            leader.signal(SIGKILL)
            _ = try await leader.waitForExit()
            let second = try await Self.makeSchedules(database, tenant: tenant, count: 5, dueAt: Date(), logger: logger)
            try await eventually("the standby takes over and fires; log: \(standby.output)") {
                try await Self.fires(database, tenant: tenant, logger: logger).count == 10
            }
            try await Task.sleep(for: .milliseconds(300))
            let fired = try await Self.fires(database, tenant: tenant, logger: logger).map(\.0)
            #expect(fired.count == 10 && Set(fired) == Set(first + second))
            standby.signal(SIGTERM)
            #expect(try await standby.waitForExit() == 0)
        }
    }

    @Test("housekeeping counts the queue for the depth metric and prunes finished jobs past their retention")
    func housekeeping() async throws {
        let environment = try await TestEnvironment.make()
        let logger = environment.logger
        try await environment.withDatabase(maxConnections: 6) { database in
            let tenant = try await database.makeTenant("housekeeping", logger: logger)
            let old = try await database.enqueue(try NewJob(NoopPayload()), for: tenant, logger: logger)
            let fresh = try await database.enqueue(try NewJob(NoopPayload()), for: tenant, logger: logger)
            _ = try await database.enqueue(try NewJob(NoopPayload()), for: tenant, logger: logger)
            for id in [old, fresh] { _ = try await database.withTenant(tenant, logger: logger) { try await $0.cancelJob(id) } }
            _ = try await environment.withOwnerConnection { connection in
                try await connection.query("UPDATE jobs SET finished_at = now() - interval '2 days' WHERE id = \(old)", logger: logger)
            }
            let metrics = MetricsRegistry(version: "test")
            let scheduler = JobScheduler(database: database, options: SchedulerOptions(fastJobsSettings()), metrics: metrics.jobs, logger: logger)
            try await scheduler.housekeeping()
            let text = String(decoding: metrics.render(), as: UTF8.self)
            #expect(text.contains(#"switchyard_jobs{kind="noop",state="queued"} 1"#), "\(text)")
            #expect(try await database.withTenant(tenant, logger: logger) { try await $0.job(old) } == nil)
            #expect(try await database.withTenant(tenant, logger: logger) { try await $0.job(fresh) } != nil)
        }
    }

    @Test("housekeeping deletes expired Idempotency-Keys, the tenants' and the operator's, and keeps the others")
    func expiredIdempotencyKeys() async throws {
        let environment = try await TestEnvironment.make()
        let logger = environment.logger
        try await environment.withDatabase(maxConnections: 6) { database in
            let tenant = try await database.makeTenant("idempotency-prune", logger: logger)
            for (key, owner) in [("expired", Optional(tenant)), ("live", tenant), ("expired", nil), ("live", nil)] {
                #expect(try await database.claimIdempotencyKey(key, requestHash: [1], tenant: owner, logger: logger) == .proceed)
            }
            _ = try await environment.withOwnerConnection { connection in
                try await connection.query(
                    "SELECT set_config('app.operator', 'on', false), set_config('app.tenant_id', \(tenant.description), false)",
                    logger: logger
                )
                try await connection.query(
                    "UPDATE idempotency_keys SET expires_at = now() - interval '1 minute' WHERE idempotency_key = 'expired'",
                    logger: logger
                )
                try await connection.query(
                    "UPDATE platform_idempotency_keys SET expires_at = now() - interval '1 minute' WHERE idempotency_key = 'expired'",
                    logger: logger
                )
            }
            let scheduler = JobScheduler(database: database, options: SchedulerOptions(fastJobsSettings()), metrics: nil, logger: logger)
            try await scheduler.housekeeping()
            let left = try await environment.withOwnerConnection { connection in
                try await connection.query(
                    "SELECT set_config('app.operator', 'on', false), set_config('app.tenant_id', \(tenant.description), false)",
                    logger: logger
                )
                return try await connection.query(
                    "SELECT 'tenant ' || idempotency_key FROM idempotency_keys UNION ALL SELECT 'platform ' || idempotency_key FROM platform_idempotency_keys",
                    logger: logger
                ).decode(String.self).collect().sorted()
            }
            #expect(left == ["platform live", "tenant live"])
        }
    }

    @Test("housekeeping reports how long the oldest due job has waited, with no executor running; jobs not yet due do not count")
    func oldestDueJobAge() async throws {
        let environment = try await TestEnvironment.make()
        let logger = environment.logger
        try await environment.withDatabase(maxConnections: 6) { database in
            let tenant = try await database.makeTenant("lag", logger: logger)
            let metrics = MetricsRegistry(version: "test")
            let scheduler = JobScheduler(database: database, options: SchedulerOptions(fastJobsSettings()), metrics: metrics.jobs, logger: logger)
            let age: @Sendable () throws -> Double? = {
                try MetricsTests.Exposition(parsing: String(decoding: metrics.render(), as: UTF8.self)).samples
                    .first { $0.name == "switchyard_queue_oldest_due_job_age_seconds" }?.value
            }
            try await scheduler.housekeeping()
            #expect(try age() == 0)

            let waiting = try await database.enqueue(try NewJob(NoopPayload()), for: tenant, logger: logger)
            let retrying = try await database.enqueue(try NewJob(NoopPayload()), for: tenant, logger: logger)
            let later = try await database.enqueue(try NewJob(NoopPayload()), for: tenant, logger: logger)
            _ = try await environment.withOwnerConnection { connection in
                try await connection.query("UPDATE jobs SET run_at = now() - interval '10 minutes' WHERE id = \(waiting)", logger: logger)
                // Failed, its retry due 5 minutes ago; and one not due for an hour.
                try await connection.query(
                    "UPDATE jobs SET state = 'failed', run_at = now() - interval '5 minutes' WHERE id = \(retrying)",
                    logger: logger
                )
                try await connection.query("UPDATE jobs SET run_at = now() + interval '1 hour' WHERE id = \(later)", logger: logger)
            }
            try await scheduler.housekeeping()
            let waited = try #require(try age())
            #expect(waited >= 600 && waited < 660, "\(waited)")

            _ = try await database.withTenant(tenant, logger: logger) { try await $0.cancelJob(waiting) }
            try await scheduler.housekeeping()
            let retried = try #require(try age())
            #expect(retried >= 300 && retried < 360, "\(retried)")

            _ = try await database.withTenant(tenant, logger: logger) { try await $0.cancelJob(retrying) }
            try await scheduler.housekeeping()
            #expect(try age() == 0, "a job due in an hour is no lag")
        }
    }
}
