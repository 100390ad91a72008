import AsyncHTTPClient
import Foundation
import Logging
import ServiceLifecycle
import SwitchyardCore
import SwitchyardDevCluster
import SwitchyardJobs
import SwitchyardPostgres
import SwitchyardTestSupport
import Testing

@Suite("Job queue: enqueue, executor, retries, dead letters, leases (REQUIREMENTS RL-1..RL-4)")
struct JobQueueTests {
    static func registry(_ extra: (inout JobRegistry) -> Void = { _ in }) -> JobRegistry {
        var registry = JobRegistry.standard()
        registry.register(FlakyHandler())
        extra(&registry)
        return registry
    }

    @Test("a job enqueued in a transaction exists exactly when that transaction commits")
    func enqueueIsTransactional() async throws {
        let environment = try await TestEnvironment.make()
        let logger = environment.logger
        try await environment.withDatabase { database in
            let tenant = try await database.makeTenant("enqueue", logger: logger)
            struct Abort: Error {}
            await #expect(throws: Abort.self) {
                try await database.withTenant(tenant, logger: logger) { transaction in
                    try await transaction.enqueue(NewJob(NoopPayload(note: "rolled back")))
                    throw Abort()
                }
            }
            #expect(try await database.count(.queued, of: tenant, logger: logger) == 0)
            let id = try await database.enqueue(NewJob(NoopPayload(note: "kept")), for: tenant, logger: logger)
            let job = try await database.job(id, of: tenant, logger: logger)
            #expect(job.state == .queued && job.kind == "noop" && job.payloadVersion == 1 && job.attempts == 0)

            // A unique key returns the active job instead of a second one.
            let first = try await database.withTenant(tenant, logger: logger) { try await $0.enqueue(NewJob(NoopPayload(), uniqueKey: "sync-42")) }
            let second = try await database.withTenant(tenant, logger: logger) { try await $0.enqueue(NewJob(NoopPayload(), uniqueKey: "sync-42")) }
            #expect(first.created && !second.created && first.job.id == second.job.id)
        }
    }

    @Test("the executor runs queued jobs to success, in poll-only mode too")
    func runsJobs() async throws {
        let environment = try await TestEnvironment.make()
        let logger = environment.logger
        try await environment.withDatabase(maxConnections: 8) { database in
            let tenant = try await database.makeTenant("runs", logger: logger)
            for pollOnly in [false, true] {
                var settings = fastJobsSettings()
                settings.pollOnly = pollOnly
                try await database.withExecutor(registry: Self.registry(), settings: settings, logger: logger) {
                    // Enqueued while the executor idles: NOTIFY (or the poll) wakes it.
                    try await Task.sleep(for: .milliseconds(200))
                    _ = try await database.withTenant(tenant, logger: logger) {
                        try await $0.enqueue(batch: Array(repeating: try NewJob(NoopPayload()), count: 25))
                    }
                    try await eventually("25 jobs succeed (poll only: \(pollOnly))", diagnosis: { await environment.queueDiagnosis() }) {
                        try await database.count(.succeeded, of: tenant, logger: logger) == (pollOnly ? 50 : 25)
                    }
                }
            }
            let page = try await database.withTenant(tenant, logger: logger) {
                try await $0.jobs(JobFilter(states: [.succeeded]), page: PageRequest(limit: 1, cursor: nil))
            }
            let job = try #require(page.items.first)
            #expect(job.attempts == 1 && job.finishedAt != nil && job.history.map(\.outcome) == ["succeeded"])
        }
    }

    @Test("with claims overlapping, an executor never runs more jobs at once than its concurrency, and runs each job once")
    func overlappingClaims() async throws {
        let environment = try await TestEnvironment.make()
        let logger = environment.logger
        try await environment.withDatabase(maxConnections: 8) { database in
            let tenant = try await database.makeTenant("overlap", logger: logger)
            let tally = RunTally()
            var settings = fastJobsSettings()
            settings.executorConcurrency = 8
            // Small batches: a second claim goes out whenever one slot beyond the reserved ones is free.
            settings.claimBatch = 4
            settings.tenantConcurrency = 100
            // Runs once within its lease: a full run beside a profiled benchmark delayed a completion write past 5 s,
            // and the rescued job ran again, as it should (this test is about claims, not leases).
            settings.leaseMilliseconds = 60_000
            let registry = Self.registry { $0.register(TalliedHandler(tally: tally)) }
            _ = try await database.withTenant(tenant, logger: logger) {
                try await $0.enqueue(batch: Array(repeating: try NewJob(TalliedPayload()), count: 120))
            }
            try await database.withExecutor(registry: registry, settings: settings, logger: logger) {
                // Claims of four jobs at most: slow on a loaded machine, hence the long wait.
                try await eventually("120 jobs succeed", timeout: .seconds(180)) {
                    try await database.count(.succeeded, of: tenant, logger: logger) == 120
                }
            }
            let (runs, distinct, most) = tally.figures
            #expect(runs == 120)
            #expect(distinct == 120)
            #expect(most <= 8)
        }
    }

    @Test("a transient failure is retried after growing backoff ceilings and then succeeds")
    func transientFailuresRetry() async throws {
        let environment = try await TestEnvironment.make()
        let logger = environment.logger
        let settings = fastJobsSettings()
        let policy = JobRetryPolicy(settings)
        try await environment.withDatabase(maxConnections: 8) { database in
            let tenant = try await database.makeTenant("flaky", logger: logger)
            let id = try await database.enqueue(try NewJob(FlakyPayload(failures: 3)), for: tenant, logger: logger)
            try await database.withExecutor(registry: Self.registry(), settings: settings, logger: logger) {
                try await eventually("the flaky job succeeds") { try await database.job(id, of: tenant, logger: logger).state == .succeeded }
            }
            let job = try await database.job(id, of: tenant, logger: logger)
            #expect(job.attempts == 4)
            #expect(job.history.map(\.outcome) == ["failed", "failed", "failed", "succeeded"])
            #expect(job.lastError == "try again later")
            // Full jitter draws each delay below a ceiling that doubles per retry (RL-3); the next attempt waits for it.
            #expect(
                policy.ceiling(afterAttempt: 1) < policy.ceiling(afterAttempt: 2) && policy.ceiling(afterAttempt: 2) < policy.ceiling(afterAttempt: 3)
            )
            for (index, attempt) in job.history.dropLast().enumerated() {
                let retryAt = try #require(attempt.retryAt)
                let delay = retryAt.timeIntervalSince(attempt.finishedAt)
                #expect(
                    delay >= 0
                        && delay <= Double(policy.ceiling(afterAttempt: attempt.attempt).components.seconds) + Double(
                            policy.ceiling(afterAttempt: attempt.attempt).components.attoseconds
                        ) / 1e18 + 0.001
                )
                let next = try #require(job.history[index + 1].startedAt)
                #expect(next >= retryAt.addingTimeInterval(-0.001), "attempt \(attempt.attempt + 1) started before its retry time")
            }
        }
    }

    @Test("a handler's requested delay (Retry-After) is honoured over a shorter backoff")
    func retryAfterIsHonoured() async throws {
        let environment = try await TestEnvironment.make()
        let logger = environment.logger
        try await environment.withDatabase(maxConnections: 8) { database in
            let tenant = try await database.makeTenant("retry-after", logger: logger)
            let id = try await database.enqueue(try NewJob(FlakyPayload(failures: 1, retryAfterMilliseconds: 1_500)), for: tenant, logger: logger)
            try await database.withExecutor(registry: Self.registry(), logger: logger) {
                try await eventually("the job succeeds on its second attempt") {
                    try await database.job(id, of: tenant, logger: logger).state == .succeeded
                }
            }
            let history = try await database.job(id, of: tenant, logger: logger).history
            let retryAt = try #require(history.first?.retryAt)
            #expect(retryAt.timeIntervalSince(history[0].finishedAt) >= 1.499)
            #expect(try #require(history.last?.startedAt) >= retryAt.addingTimeInterval(-0.001))
        }
    }

    @Test("a job whose attempts run out becomes a dead letter with its last error")
    func attemptsRunOut() async throws {
        let environment = try await TestEnvironment.make()
        let logger = environment.logger
        try await environment.withDatabase(maxConnections: 8) { database in
            let tenant = try await database.makeTenant("exhausted", logger: logger)
            let id = try await database.enqueue(try NewJob(FlakyPayload(failures: 100), maxAttempts: 3), for: tenant, logger: logger)
            try await database.withExecutor(registry: Self.registry(), logger: logger) {
                try await eventually("the job is dead") { try await database.job(id, of: tenant, logger: logger).state == .dead }
            }
            let job = try await database.job(id, of: tenant, logger: logger)
            #expect(job.attempts == 3 && job.lastError == "try again later" && job.finishedAt != nil)
            #expect(job.history.map(\.outcome) == ["failed", "failed", "dead"])
        }
    }

    @Test("an error message holding NUL is written with its job's completion (as U+FFFD), not jamming the completions after it")
    func nulInErrorMessage() async throws {
        let environment = try await TestEnvironment.make()
        let logger = environment.logger
        try await environment.withDatabase(maxConnections: 8) { database in
            let tenant = try await database.makeTenant("nul-error", logger: logger)
            let poisoned = try await database.enqueue(try NewJob(FlakyPayload(failures: 1, nulInMessage: true)), for: tenant, logger: logger)
            let fine = try await database.enqueue(try NewJob(FlakyPayload(failures: 0)), for: tenant, logger: logger)
            try await database.withExecutor(registry: Self.registry(), logger: logger) {
                try await eventually("both jobs are finished") {
                    let states = [
                        try await database.job(poisoned, of: tenant, logger: logger).state,
                        try await database.job(fine, of: tenant, logger: logger).state,
                    ]
                    return states == [.dead, .succeeded]
                }
            }
            #expect(try await database.job(poisoned, of: tenant, logger: logger).lastError == "the provider said: a\u{FFFD}b")
        }
    }

    @Test("one tenant flooding the queue does not stop another tenant's jobs from running")
    func floodingTenantDoesNotStarveOthers() async throws {
        let environment = try await TestEnvironment.make()
        let logger = environment.logger
        let gate = Gate()
        var capped = fastJobsSettings()
        capped.executorConcurrency = 4
        capped.tenantConcurrency = 2
        let settings = capped
        try await environment.withDatabase(maxConnections: 8) { database in
            let flood = try await database.makeTenant("flood", logger: logger)
            let quiet = try await database.makeTenant("quiet", logger: logger)
            _ = try await database.withTenant(flood, logger: logger) {
                try await $0.enqueue(batch: Array(repeating: try NewJob(GatedPayload()), count: 300))
            }
            let registry = Self.registry { $0.register(GatedHandler(gate: gate)) }
            try await database.withExecutor(registry: registry, settings: settings, logger: logger) {
                try await eventually("the flooding tenant reaches its cap") { try await database.count(.running, of: flood, logger: logger) == 2 }
                let id = try await database.enqueue(try NewJob(NoopPayload()), for: quiet, logger: logger)
                try await eventually("the quiet tenant's job runs") { try await database.job(id, of: quiet, logger: logger).state == .succeeded }
                #expect(try await database.count(.running, of: flood, logger: logger) <= 2)
                #expect(try await database.count(.queued, of: flood, logger: logger) >= 298)
                gate.release()
            }
        }
    }

    @Test("an expired lease is rescued: the job runs again, or is dead-lettered when it was its last attempt")
    func leaseRescue() async throws {
        let environment = try await TestEnvironment.make()
        let logger = environment.logger
        try await environment.withDatabase(maxConnections: 8) { database in
            let tenant = try await database.makeTenant("rescue", logger: logger)
            let retried = try await database.enqueue(try NewJob(NoopPayload(), maxAttempts: 2), for: tenant, logger: logger)
            let last = try await database.enqueue(try NewJob(NoopPayload(), maxAttempts: 1), for: tenant, logger: logger)
            // An executor that vanished: it claimed both and never renews.
            let claimed = try await database.withQueue(logger: logger) {
                try await $0.claim(ClaimRequest(owner: "vanished", limit: 10, tenantConcurrency: 10, lease: .milliseconds(300)))
            }
            #expect(claimed.count == 2)
            try await Task.sleep(for: .milliseconds(400))
            let rescued = try await database.withQueue(logger: logger) { try await $0.rescueExpiredLeases() }
            #expect(rescued.count == 2)
            #expect(try await database.job(retried, of: tenant, logger: logger).state == .failed)
            let dead = try await database.job(last, of: tenant, logger: logger)
            #expect(dead.state == .dead && dead.lastError?.contains("lease expired") == true)
            // A completion from the vanished executor no longer counts.
            let written = try await database.withQueue(logger: logger) {
                try await $0.complete(claimed.map { JobCompletion(job: $0, outcome: .succeeded, error: nil) }, owner: "vanished")
            }
            #expect(written == 0)
            try await database.withExecutor(registry: Self.registry(), logger: logger) {
                try await eventually("the rescued job succeeds") { try await database.job(retried, of: tenant, logger: logger).state == .succeeded }
            }
            #expect(try await database.job(retried, of: tenant, logger: logger).history.map(\.outcome) == ["lease_expired", "succeeded"])
        }
    }

    @Test("an executor rescues other executors' expired leases and its abandoned jobs', never its other jobs")
    func executorSparesItsOwnLeases() async throws {
        let environment = try await TestEnvironment.make()
        let logger = environment.logger
        try await environment.withDatabase(maxConnections: 4) { database in
            let tenant = try await database.makeTenant("sparing", logger: logger)
            for _ in 0..<3 { _ = try await database.enqueue(try NewJob(NoopPayload()), for: tenant, logger: logger) }
            let mine = try await database.withQueue(logger: logger) {
                try await $0.claim(ClaimRequest(owner: "me", limit: 2, tenantConcurrency: 10, lease: .milliseconds(100)))
            }
            let theirs = try await database.withQueue(logger: logger) {
                try await $0.claim(ClaimRequest(owner: "them", limit: 1, tenantConcurrency: 10, lease: .milliseconds(100)))
            }
            #expect(mine.count == 2 && theirs.count == 1)
            try await Task.sleep(for: .milliseconds(200))
            // Its own jobs it runs (a claim slower than the lease may still be unrenewed): only the other's is rescued.
            let first = try await database.withQueue(logger: logger) { try await $0.rescueExpiredLeases(sparing: "me") }
            #expect(first.count == 1)
            #expect(try await database.job(theirs[0].id, of: tenant, logger: logger).state == .failed)
            #expect(try await database.job(mine[0].id, of: tenant, logger: logger).state == .running)
            // One it abandoned past its run timeout, it rescues.
            let abandoned = try await database.withQueue(logger: logger) {
                try await $0.rescueExpiredLeases(sparing: "me", except: [(mine[0].tenantID, mine[0].id)])
            }
            #expect(abandoned.count == 1)
            #expect(try await database.job(mine[0].id, of: tenant, logger: logger).state == .failed)
            #expect(try await database.job(mine[1].id, of: tenant, logger: logger).state == .running)
            // The scheduler spares none.
            #expect(try await database.withQueue(logger: logger) { try await $0.rescueExpiredLeases() }.count == 1)
        }
    }

    @Test("an executor killed with SIGKILL mid-job leaves a lease that expires; another executor completes the job (RL-2)")
    func killedExecutor() async throws {
        let environment = try await TestEnvironment.make()
        let logger = environment.logger
        try await environment.withDatabase(maxConnections: 8) { database in
            let tenant = try await database.makeTenant("killed", logger: logger)
            // Longer than any loaded machine takes from seeing the job run to the kill (with 2 s, the child sometimes
            // finished first); the executor that takes over runs the job at once instead.
            let id = try await database.enqueue(try NewJob(NoopPayload(sleepMilliseconds: 60_000)), for: tenant, logger: logger)
            let child = try SwitchyardProcess(["executor"], environment: environment, settings: childExecutorSettings())
            try await eventually("the child executor starts the job; its log: \(child.output)") {
                try await database.job(id, of: tenant, logger: logger).state == .running
            }
            child.signal(SIGKILL)
            _ = try await child.waitForExit()
            #expect(try await database.job(id, of: tenant, logger: logger).state == .running)
            try await database.withExecutor(registry: Self.registry { $0.register(InstantNoopHandler()) }, logger: logger) {
                try await eventually("another executor completes the job") {
                    try await database.job(id, of: tenant, logger: logger).state == .succeeded
                }
            }
            let job = try await database.job(id, of: tenant, logger: logger)
            #expect(job.attempts == 2, "the killed executor's log: \(child.output.suffix(4000))")
            #expect(job.history.map(\.outcome) == ["lease_expired", "succeeded"])
        }
    }

    @Test("SIGTERM lets running jobs finish and leaves the rest queued; a short timeout releases them instead; nothing is lost")
    func gracefulShutdown() async throws {
        let environment = try await TestEnvironment.make()
        let logger = environment.logger
        try await environment.withDatabase(maxConnections: 8) { database in
            let tenant = try await database.makeTenant("graceful", logger: logger)
            _ = try await database.withTenant(tenant, logger: logger) {
                try await $0.enqueue(batch: Array(repeating: try NewJob(NoopPayload(sleepMilliseconds: 1_000)), count: 12))
            }
            // Finishes within the timeout.
            let patient = try SwitchyardProcess(["executor"], environment: environment, settings: childExecutorSettings())
            try await eventually("jobs start; log: \(patient.output)") { try await database.count(.running, of: tenant, logger: logger) > 0 }
            patient.signal(SIGTERM)
            #expect(try await patient.waitForExit() == 0, "\(patient.output)")
            #expect(try await database.count(.running, of: tenant, logger: logger) == 0)
            let finished = try await database.count(.succeeded, of: tenant, logger: logger)
            #expect(finished > 0)
            #expect(finished + (try await database.count(.queued, of: tenant, logger: logger)) == 12)

            // Runs out of time: the unfinished jobs go back to the queue without spending an attempt. Jobs of their
            // own, long enough that they are still running when the signal comes (on a loaded machine the first
            // executor may have finished all twelve before it heard its signal), under a tenant of their own: the
            // first executor's leftovers are claimed first, and one-second jobs may finish before the signal is heard.
            let slow = try await database.makeTenant("graceful-slow", logger: logger)
            _ = try await database.withTenant(slow, logger: logger) {
                try await $0.enqueue(batch: Array(repeating: try NewJob(NoopPayload(sleepMilliseconds: 8_000)), count: 4))
            }
            let hasty = try SwitchyardProcess(
                ["executor"],
                environment: environment,
                settings: childExecutorSettings(["SWITCHYARD_EXECUTOR_SHUTDOWN_TIMEOUT_MS": "0"])
            )
            try await eventually("slow jobs start; log: \(hasty.output)") { try await database.count(.running, of: slow, logger: logger) > 0 }
            hasty.signal(SIGTERM)
            #expect(try await hasty.waitForExit() == 0, "\(hasty.output)")
            #expect(try await database.count(.running, of: tenant, logger: logger) == 0)
            #expect(try await database.count(.running, of: slow, logger: logger) == 0)
            let released = try await database.withTenant(slow, logger: logger) {
                try await $0.jobs(JobFilter(states: [.queued]), page: PageRequest(limit: 100, cursor: nil))
            }.items.filter { $0.history.contains { $0.outcome == "released" } }
            #expect(!released.isEmpty)
            #expect(released.allSatisfy { $0.attempts == 0 })

            try await database.withExecutor(registry: Self.registry(), logger: logger) {
                try await eventually("every job succeeds") {
                    let first = try await database.count(.succeeded, of: tenant, logger: logger)
                    let second = try await database.count(.succeeded, of: slow, logger: logger)
                    return first == 12 && second == 4
                }
            }
        }
    }
}

@Suite("Executor process metrics")
struct ExecutorMetricsTests {
    @Test("an executor process serves its job metrics on --metrics-port, every family with help text")
    func executorMetrics() async throws {
        let environment = try await TestEnvironment.make()
        let logger = environment.logger
        try await environment.withDatabase { database in
            let tenant = try await database.makeTenant("metrics", logger: logger)
            let id = try await database.enqueue(try NewJob(NoopPayload()), for: tenant, logger: logger)
            // A port the kernel just handed out and released: a random one could be a client socket's ephemeral port.
            let port = try LocalPostgresCluster.freeLoopbackPort()
            let child = try SwitchyardProcess(["executor", "--metrics-port", "\(port)"], environment: environment, settings: childExecutorSettings())
            try await eventually("the job succeeds; log: \(child.output)") {
                try await database.job(id, of: tenant, logger: logger).state == .succeeded
            }
            var text = ""
            try await eventually("metrics are served; log: \(child.output)") {
                guard
                    let response = try? await HTTPClient.shared.execute(
                        HTTPClientRequest(url: "http://127.0.0.1:\(port)/metrics"),
                        timeout: .seconds(5)
                    ),
                    response.status == .ok
                else { return false }
                text = String(buffer: try await response.body.collect(upTo: 1 << 20))
                // The attempt is counted once its outcome is handled, which may be just after the job's row says
                // succeeded: wait for the sample, not only its family.
                return try MetricsTests.Exposition(parsing: text).samples.contains {
                    $0.name == "switchyard_job_attempts_total" && $0.labels == ["kind": "noop", "outcome": "succeeded"] && $0.value >= 1
                }
            }
            let exposition = try MetricsTests.Exposition(parsing: text)
            for family in exposition.type.keys { #expect(!(exposition.help[family] ?? "").isEmpty, "\(family) has no help text") }
            #expect(
                exposition.samples.contains {
                    $0.name == "switchyard_job_attempts_total" && $0.labels == ["kind": "noop", "outcome": "succeeded"] && $0.value == 1
                }
            )
            #expect(exposition.samples.contains { $0.name == "switchyard_job_start_latency_seconds_count" && $0.labels["kind"] == "noop" })
            child.signal(SIGTERM)
            #expect(try await child.waitForExit() == 0)
        }
    }
}

@Suite("Retry policy and schedule rules")
struct JobRulesTests {
    @Test("backoff ceilings double up to the maximum; a requested delay is a floor; permanent failures and the last attempt are dead")
    func retryPolicy() {
        let policy = JobRetryPolicy(base: .seconds(1), max: .seconds(10))
        #expect((1...6).map { policy.ceiling(afterAttempt: $0) } == [.seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(10), .seconds(10)])
        #expect(policy.outcome(attempt: 3, maxAttempts: 5, failure: .transient("x"), unitRandom: 0.5) == .retry(after: .seconds(2)))
        #expect(
            policy.outcome(attempt: 1, maxAttempts: 5, failure: .transient("x", retryAfter: .seconds(30)), unitRandom: 0.5)
                == .retry(after: .seconds(30))
        )
        #expect(policy.outcome(attempt: 5, maxAttempts: 5, failure: .transient("x"), unitRandom: 0.5) == .dead)
        #expect(policy.outcome(attempt: 1, maxAttempts: 5, failure: .permanent("x"), unitRandom: 0.5) == .dead)
    }

    @Test("cron expressions find their next fire in UTC; bad ones are rejected with the field named")
    func cron() throws {
        let formatter = ISO8601DateFormatter()
        let start = try #require(formatter.date(from: "2026-01-31T23:59:30Z"))
        func next(_ expression: String, after date: Date) throws -> String? {
            try CronExpression(expression).next(after: date).map(formatter.string(from:))
        }
        #expect(try next("* * * * *", after: start) == "2026-02-01T00:00:00Z")
        #expect(try next("*/15 * * * *", after: start) == "2026-02-01T00:00:00Z")
        #expect(try next("30 9 * * 1-5", after: start) == "2026-02-02T09:30:00Z")  // Monday
        #expect(try next("0 0 1 * *", after: start) == "2026-02-01T00:00:00Z")
        #expect(try next("0 12 29 2 *", after: start) == "2028-02-29T12:00:00Z")
        #expect(try next("0 0 13 * 5", after: start) == "2026-02-06T00:00:00Z")  // day 13 OR Friday
        #expect(try next("0 0 30 2 *", after: start) == nil)
        #expect(try next("5,10 0 * * 7", after: start) == "2026-02-01T00:05:00Z")  // Sunday as 7
        for bad in ["* * * *", "60 * * * *", "* 24 * * *", "*/0 * * * *", "a * * * *", "1-70 * * * *"] {
            #expect(throws: CronExpression.ParseError.self, "\(bad)") { try CronExpression(bad) }
        }
    }

    @Test("an interval rule keeps its phase and fires a missed schedule once, not once per missed fire")
    func intervals() {
        let rule = ScheduleRule.interval(seconds: 60)
        let fire = Date(timeIntervalSince1970: 1_000_000)
        #expect(rule.nextFire(after: fire, now: fire.addingTimeInterval(1)) == fire.addingTimeInterval(60))
        #expect(rule.nextFire(after: fire, now: fire.addingTimeInterval(3_601)) == fire.addingTimeInterval(3_660))
    }
}

/// Runs no-op jobs at once, whatever sleep they ask for.
struct InstantNoopHandler: JobHandler {
    func run(_ payload: NoopPayload, context: JobContext) async throws {}
}
