import Foundation
import Logging
import ServiceLifecycle
import SwitchyardCore
import SwitchyardMetrics
import SwitchyardPostgres
import Synchronization

/// `switchyard executor`: claims due jobs in batches and runs them on up to `concurrency` workers.
///
/// Claims use `FOR UPDATE SKIP LOCKED` (so any number of executors share the queue) and hold a lease
/// that a heartbeat renews; finished attempts are written back in batches by one writer. It wakes on
/// NOTIFY and polls as a fallback (or only polls, for PgBouncer). On graceful shutdown it stops
/// claiming, lets running jobs finish within the shutdown timeout and gives the rest back to the queue.
public struct JobExecutor: Service {
    let database: Database
    let registry: JobRegistry
    let options: ExecutorOptions
    let metrics: JobMetrics?
    /// Counts finished attempts by outcome in their tenants' usage.
    let usage: UsageMeter?
    let logger: Logger
    private let running = RunningJobs()

    public init(
        database: Database,
        registry: JobRegistry,
        options: ExecutorOptions,
        metrics: JobMetrics?,
        usage: UsageMeter? = nil,
        logger: Logger
    ) {
        self.database = database
        self.registry = registry
        self.options = options
        self.metrics = metrics
        self.usage = usage
        var logger = logger
        logger[metadataKey: "executor"] = "\(options.owner)"
        self.logger = logger
    }

    /// `nil` while the executor works; else why it is wedged, for `/readyz` (REQUIREMENTS RL-8).
    public func notReadyReason() -> String? {
        let stuck = running.stuckCount
        guard stuck > 0 else { return nil }
        return
            "\(stuck) job handler(s) ran past the run timeout (SWITCHYARD_JOB_RUN_TIMEOUT_MS) and have not returned; their jobs were left to other executors. Restart this executor."
    }

    public func run() async throws {
        let wake = WakeSignal()
        let completions = CompletionBuffer()
        logger.info("executor started", metadata: ["concurrency": "\(options.concurrency)", "poll_only": "\(options.pollOnly)"])
        await withTaskGroup(of: Void.self) { maintenance in
            if !options.pollOnly {
                maintenance.addTask { await listen(wake) }
            }
            maintenance.addTask { await renewLeases(running, completions, wake) }
            await withTaskGroup(of: Void.self) { core in
                core.addTask { await writeCompletions(completions, wake) }
                await withGracefulShutdownHandler {
                    await claimAndRun(running, wake, completions)
                } onGracefulShutdown: {
                    running.stop()
                    wake.signal()
                }
                completions.finish()
            }
            maintenance.cancelAll()
        }
        logger.info("executor stopped")
    }

    // MARK: Claiming and running

    /// Claims in flight at once. A claim's round trip (its statement locks, updates and returns a batch) caps how fast an
    /// executor takes work while it waits for one claim at a time. A second claim, sent once half a batch of further
    /// slots is free, overlapped it (`SKIP LOCKED` keeps them from taking the same jobs; each reserves its slots) and
    /// helped `bench fanout`, but overlapping claims come back short while due jobs remain, and a short answer waits
    /// out the poll interval: `bench workflow`'s no-op phase, on a table full of the runs' finished jobs, fell from 11k
    /// to 3k jobs/s. One until a short answer can tell an empty queue from a contended one.
    static let claimsInFlight = 1

    private func claimAndRun(_ running: RunningJobs, _ wake: WakeSignal, _ completions: CompletionBuffer) async {
        // Workers free up one by one; claiming at each would take one job per statement. Below half a
        // batch of free slots, the next claim waits out a short cool-down so that it takes a batch.
        let batchThreshold = max(1, min(options.claimBatch, options.concurrency) / 2)
        let coolDown = Duration.milliseconds(2)
        var lastClaim = ContinuousClock.now - coolDown
        let claims = ClaimPipeline()
        await withDiscardingTaskGroup { workers in
            await withDiscardingTaskGroup { claimers in
                while !running.isStopping && !Task.isCancelled {
                    for job in claims.takeArrived() {
                        workers.addTask { await execute(job, running, wake, completions) }
                    }
                    let state = claims.state
                    if let retryAt = state.retryAt {
                        // The database is unreachable or restarting (REQUIREMENTS RL-6): back off and try again.
                        claims.clearRetry()
                        await wake.wait(timeout: max(.zero, retryAt - ContinuousClock.now))
                        continue
                    }
                    if state.drained {
                        // A claim found fewer due jobs than it asked for: wait for a NOTIFY or the poll (or for the
                        // other claim's answer), as after any short claim.
                        if state.inFlight == 0 { claims.clearDrained() }
                        await wake.wait(timeout: options.pollInterval)
                        continue
                    }
                    // With a claim in flight, the next waits for half a batch of free slots beyond the ones reserved.
                    let wanted = state.inFlight == 0 ? 1 : max(1, batchThreshold / 2)
                    if state.inFlight >= Self.claimsInFlight
                        || running.markWaitingIfFull(capacity: options.concurrency - state.reserved - wanted + 1)
                    {
                        await wake.wait(timeout: options.pollInterval)
                        continue
                    }
                    let free = options.concurrency - running.count - state.reserved
                    guard free >= wanted else { continue }
                    if state.inFlight == 0 && free < batchThreshold && ContinuousClock.now - lastClaim < coolDown {
                        try? await Task.sleep(until: lastClaim + coolDown)
                        continue
                    }
                    lastClaim = ContinuousClock.now
                    let limit = min(free, options.claimBatch)
                    claims.begin(reserving: limit)
                    claimers.addTask {
                        await claim(limit: limit, running, claims)
                        wake.signal()
                    }
                }
            }
            // Jobs claimed as claiming stopped run like the others (the drain waits for them within the shutdown
            // timeout); when cancelled, they are released with the rest.
            for job in claims.takeArrived() where !Task.isCancelled {
                workers.addTask { await execute(job, running, wake, completions) }
            }
            await drain(running, wake, workers: &workers)
        }
    }

    /// One claim of up to `limit` jobs: they count as running here before the claim loop hears of them, so that the
    /// heartbeat renews their leases and a shutdown releases them.
    private func claim(limit: Int, _ running: RunningJobs, _ claims: ClaimPipeline) async {
        do {
            let claimed = try await database.withQueue(logger: logger) { queue in
                try await queue.claim(
                    ClaimRequest(owner: options.owner, limit: limit, tenantConcurrency: options.tenantConcurrency, lease: options.lease)
                )
            }
            running.began(claimed)
            logger.trace("claimed jobs", metadata: ["count": "\(claimed.count)", "limit": "\(limit)"])
            claims.arrived(claimed, reserved: limit)
        } catch {
            logger.warning("claiming jobs failed", metadata: ["error": "\(loggableDescription(of: error))"])
            claims.failed(reserved: limit)
        }
    }

    /// After claiming stopped: waits for running jobs up to the shutdown timeout, then gives the
    /// unfinished ones back to the queue and cancels their handlers.
    private func drain(_ running: RunningJobs, _ wake: WakeSignal, workers: inout DiscardingTaskGroup) async {
        let deadline = ContinuousClock.now + options.shutdownTimeout
        // Cancelled (not a graceful shutdown): the handlers are cancelled with us; nothing to wait for.
        while running.markWaitingIfFull(capacity: 1) && ContinuousClock.now < deadline && !Task.isCancelled {
            await wake.wait(timeout: min(.milliseconds(100), deadline - ContinuousClock.now))
        }
        let unfinished = running.releaseAll()
        guard !unfinished.isEmpty else { return }
        do {
            let released = try await database.withQueue(logger: logger) { try await $0.release(unfinished, owner: options.owner) }
            logger.notice("released unfinished jobs to the queue", metadata: ["count": "\(released)"])
            for job in unfinished { metrics?.recordAttempt(kind: job.kind, outcome: "released", duration: .zero) }
        } catch {
            logger.error("could not release unfinished jobs; their leases will expire", metadata: ["error": "\(loggableDescription(of: error))"])
        }
        workers.cancelAll()
    }

    private func execute(_ job: ClaimedJob, _ running: RunningJobs, _ wake: WakeSignal, _ completions: CompletionBuffer) async {
        var jobLogger = logger
        // One change of the handler's metadata, not three: some handlers re-render their metadata at every change.
        jobLogger.handler.metadata.merge(
            ["job_id": "\(job.id.lowercasedString)", "kind": "\(job.kind)", "tenant_id": "\(job.tenantID)"],
            uniquingKeysWith: { _, job in job }
        )
        metrics?.recordStartLatency(kind: job.kind, latency: .seconds(job.claimedAt.timeIntervalSince(job.dueAt)))
        let context = JobContext(
            jobID: job.id,
            tenantID: job.tenantID,
            integrationID: job.integrationID,
            attempt: job.attempt,
            maxAttempts: job.maxAttempts,
            deadline: ContinuousClock.now + options.runTimeout,
            logger: jobLogger
        )
        let started = ContinuousClock.now
        var failure: JobFailure?
        var continuation: JobContinues?
        var deferral: JobDeferred?
        if let entry = registry.entry(for: job.kind) {
            do {
                try await entry.run(job, context)
            } catch let continues as JobContinues {
                continuation = continues
            } catch let deferred as JobDeferred {
                deferral = deferred
            } catch {
                failure = JobFailure.classify(error)
            }
        } else {
            // An executor of an older build meets a newer kind: leave it for one that knows it.
            failure = .transient("no handler for job kind '\(job.kind)' in executor \(options.owner)")
        }
        let duration = ContinuousClock.now - started
        let (wasRunning, claimerWaits) = running.finished(job)
        if claimerWaits { wake.signal() }
        // Released at shutdown meanwhile: the job is someone else's now.
        guard wasRunning else { return }
        // Cancelled with the process (not a graceful drain): the handler's error says nothing about the job,
        // and the lease brings it back.
        if failure != nil && Task.isCancelled { return }
        let outcome: JobCompletion.Outcome =
            if let failure {
                options.retry.outcome(attempt: job.attempt, maxAttempts: job.maxAttempts, failure: failure)
            } else if let continuation {
                .continued(after: continuation.after)
            } else if let deferral {
                .deferred(after: deferral.after)
            } else {
                .succeeded
            }
        if let failure {
            jobLogger.warning("job attempt failed", metadata: ["attempt": "\(job.attempt)", "outcome": "\(outcome)", "error": "\(failure.message)"])
        }
        completions.append(
            JobCompletion(job: job, outcome: outcome, error: failure?.message ?? continuation?.progress, detail: context.attemptDetail.values)
        )
        let label =
            switch outcome {
            case .succeeded: "succeeded"
            case .retry: "retry"
            case .dead: "dead"
            case .continued: "continued"
            case .deferred: "deferred"
            }
        metrics?.recordAttempt(kind: job.kind, outcome: label, duration: duration)
        usage?.record(.jobs, tenant: job.tenantID, dimension: label)
    }

    // MARK: Completions, leases, wake-ups

    /// The single writer of finished attempts: whatever accumulated while the previous write ran goes
    /// in the next statement, so the batch grows with the load.
    private func writeCompletions(_ buffer: CompletionBuffer, _ wake: WakeSignal) async {
        while true {
            let (batch, finished) = buffer.take(limit: 1000)
            if batch.isEmpty {
                if finished { return }
                await buffer.signal.wait(timeout: .seconds(1))
                continue
            }
            var failures = 0
            while true {
                do {
                    let written = try await database.withQueue(logger: logger) { try await $0.complete(batch, owner: options.owner) }
                    buffer.written()
                    logger.trace("wrote finished jobs", metadata: ["count": "\(written)"])
                    // Finished jobs no longer count against their tenants' concurrency: there may be more to claim.
                    wake.signal()
                    if written < batch.count {
                        logger.notice("some finished jobs had lost their lease and were not written", metadata: ["lost": "\(batch.count - written)"])
                    }
                    break
                } catch {
                    failures += 1
                    logger.warning(
                        "writing finished jobs failed",
                        metadata: ["error": "\(loggableDescription(of: error))", "jobs": "\(batch.count)"]
                    )
                    // While running, keep trying until the database is back (RL-6); the heartbeat keeps these jobs'
                    // leases meanwhile, so nobody runs them twice. Shutting down, give up after a lease's worth: the
                    // leases then expire and the jobs are rescued.
                    if buffer.isFinished && Duration.milliseconds(100 << min(failures, 6)) * failures >= options.lease {
                        buffer.written()
                        break
                    }
                    guard (try? await Task.sleep(for: .milliseconds(min(5_000, 100 << min(failures, 6))))) != nil else { return }
                }
            }
        }
    }

    /// The heartbeat, every third of the lease: abandons handlers past the run timeout, renews the leases of the
    /// jobs still making progress (running within their timeout, or finished and waiting to be written), and
    /// once per lease period rescues expired leases: other executors', and those of the handlers it abandoned.
    private func renewLeases(_ running: RunningJobs, _ completions: CompletionBuffer, _ wake: WakeSignal) async {
        let interval = options.lease / 3
        var beats = 0
        var nextBeat = ContinuousClock.now + interval
        while !Task.isCancelled {
            guard (try? await Task.sleep(until: nextBeat)) != nil else { return }
            // On a schedule, not a sleep after each beat's round trips: a slow database must not stretch the period
            // towards the lease. A beat that overran its period starts the next at once.
            nextBeat = max(nextBeat + interval, ContinuousClock.now)
            beats += 1
            let abandoned = running.abandonOverdue(runTimeout: options.runTimeout)
            for job in abandoned {
                // Its slot is freed; its lease will lapse and another executor retries it. If the handler ever
                // returns, what it reports is dropped.
                logger.error(
                    "job handler ran past its run timeout; abandoning the job to another executor",
                    metadata: [
                        "job_id": "\(job.id.lowercasedString)", "kind": "\(job.kind)", "tenant_id": "\(job.tenantID)",
                        "run_timeout": "\(options.runTimeout)",
                    ]
                )
                metrics?.recordAttempt(kind: job.kind, outcome: "abandoned", duration: options.runTimeout)
            }
            if !abandoned.isEmpty { wake.signal() }
            metrics?.setRunning(running.count, stuck: running.stuckCount, oldestAge: running.oldestAge())
            do {
                let renewable = running.progressing() + completions.pendingJobs()
                _ = try await database.withQueue(logger: logger) { try await $0.extendLeases(renewable, owner: options.owner, lease: options.lease) }
                if beats % 3 == 0 {
                    let abandoned = running.abandoned()
                    let rescued = try await database.withQueue(logger: logger) {
                        try await $0.rescueExpiredLeases(sparing: options.owner, except: abandoned)
                    }
                    if !rescued.isEmpty {
                        logger.notice("rescued jobs with expired leases", metadata: ["count": "\(rescued.count)"])
                        for job in rescued { metrics?.recordLeaseRescue(kind: job.kind) }
                        wake.signal()
                    }
                }
            } catch {
                logger.warning("renewing leases failed", metadata: ["error": "\(loggableDescription(of: error))"])
            }
        }
    }

    /// Wakes the claim loop on each NOTIFY from the `jobs_inserted` trigger; reconnects after failures.
    private func listen(_ wake: WakeSignal) async {
        while !Task.isCancelled {
            do {
                try await database.listen(channel: jobsNotificationChannel, logger: logger) { wake.signal() }
            } catch {
                if Task.isCancelled { return }
                logger.warning("listening for new jobs failed; polling until it reconnects", metadata: ["error": "\(loggableDescription(of: error))"])
            }
            guard (try? await Task.sleep(for: .seconds(1))) != nil else { return }
        }
    }
}

/// The jobs whose handlers are running in this process, those abandoned past their run timeout, and whether
/// claiming has stopped.
final class RunningJobs: Sendable {
    private struct Running {
        let job: ClaimedJob
        let started: ContinuousClock.Instant
    }

    /// One attempt of a job: an abandoned attempt may still be stuck here while the job's next one runs.
    private struct Attempt: Hashable {
        let id: UUID
        let number: Int

        init(_ job: ClaimedJob) {
            id = job.id
            number = job.attempt
        }
    }

    private struct State {
        var jobs: [Attempt: Running] = [:]
        /// Handlers that ran past the run timeout and have not returned: the executor is wedged while any remain.
        var stuck: [Attempt: ClaimedJob] = [:]
        var stopping = false
        /// The claim loop (or the shutdown drain) waits for fewer than `waitingBelow` jobs to be running.
        var waiting = false
        var waitingBelow = 0
    }

    private let state = Mutex(State())

    var count: Int { state.withLock { $0.jobs.count } }
    var stuckCount: Int { state.withLock { $0.stuck.count } }
    var isStopping: Bool { state.withLock { $0.stopping } }

    func stop() { state.withLock { $0.stopping = true } }

    func began(_ jobs: [ClaimedJob]) {
        let now = ContinuousClock.now
        state.withLock { state in
            for job in jobs { state.jobs[Attempt(job)] = Running(job: job, started: now) }
        }
    }

    /// Whether `capacity` jobs or more are running; if so, the `finished` that brings them below it asks for a
    /// wake-up. One signal per wait, rather than one per finished job.
    func markWaitingIfFull(capacity: Int) -> Bool {
        state.withLock { state in
            state.waiting = state.jobs.count >= capacity
            state.waitingBelow = capacity
            return state.waiting
        }
    }

    /// Whether the job was still this process's to complete (not released at shutdown, not abandoned), and
    /// whether someone waits for a job to finish.
    func finished(_ job: ClaimedJob) -> (wasRunning: Bool, wake: Bool) {
        state.withLock { state in
            let wasRunning = state.jobs.removeValue(forKey: Attempt(job)) != nil
            state.stuck.removeValue(forKey: Attempt(job))
            guard state.waiting, state.jobs.count < state.waitingBelow else { return (wasRunning, false) }
            state.waiting = false
            return (wasRunning, true)
        }
    }

    /// The jobs whose handlers run within their timeout: the only ones whose leases the heartbeat renews.
    func progressing() -> [(tenantID: TenantID, id: UUID)] {
        state.withLock { $0.jobs.values.map { ($0.job.tenantID, $0.job.id) } }
    }

    /// The jobs whose handlers were abandoned and have not returned: the only ones of its own an executor rescues.
    func abandoned() -> [(tenantID: TenantID, id: UUID)] {
        state.withLock { $0.stuck.values.map { ($0.tenantID, $0.id) } }
    }

    /// Moves handlers running longer than `runTimeout` out of the running set (freeing their slots, letting their
    /// leases lapse) into the stuck set; returns them.
    func abandonOverdue(runTimeout: Duration) -> [ClaimedJob] {
        let now = ContinuousClock.now
        return state.withLock { state in
            let overdue = state.jobs.values.filter { now - $0.started > runTimeout }.map(\.job)
            for job in overdue {
                state.jobs.removeValue(forKey: Attempt(job))
                state.stuck[Attempt(job)] = job
            }
            return overdue
        }
    }

    /// How long the longest-running handler has run.
    func oldestAge() -> Duration {
        let now = ContinuousClock.now
        return state.withLock { $0.jobs.values.map { now - $0.started }.max() ?? .zero }
    }

    func releaseAll() -> [ClaimedJob] {
        state.withLock { state in
            defer { state.jobs.removeAll() }
            return state.jobs.values.map(\.job)
        }
    }
}

/// The claims in flight: the slots they reserved, the jobs they brought that no worker runs yet, and what the last
/// answer said (the queue ran short; the database failed and the next claim waits).
final class ClaimPipeline: Sendable {
    struct State {
        var inFlight = 0
        var reserved = 0
        var drained = false
        var failures = 0
        var retryAt: ContinuousClock.Instant?
    }

    private struct Inner {
        var state = State()
        var arrived: [ClaimedJob] = []
    }

    private let inner = Mutex(Inner())

    var state: State { inner.withLock { $0.state } }

    func begin(reserving slots: Int) {
        inner.withLock { inner in
            inner.state.inFlight += 1
            inner.state.reserved += slots
        }
    }

    func arrived(_ jobs: [ClaimedJob], reserved slots: Int) {
        inner.withLock { inner in
            inner.state.inFlight -= 1
            inner.state.reserved -= slots
            inner.state.failures = 0
            if jobs.count < slots { inner.state.drained = true }
            inner.arrived += jobs
        }
    }

    func failed(reserved slots: Int) {
        inner.withLock { inner in
            inner.state.inFlight -= 1
            inner.state.reserved -= slots
            inner.state.failures += 1
            inner.state.retryAt = ContinuousClock.now + .milliseconds(min(5_000, 100 << min(inner.state.failures, 6)))
        }
    }

    func takeArrived() -> [ClaimedJob] {
        inner.withLock { inner in
            defer { inner.arrived = [] }
            return inner.arrived
        }
    }

    func clearDrained() { inner.withLock { $0.state.drained = false } }

    func clearRetry() { inner.withLock { $0.state.retryAt = nil } }
}

/// Finished attempts waiting for the writer, and the batch it is writing.
final class CompletionBuffer: Sendable {
    private struct State {
        var items: [JobCompletion] = []
        var writing: [JobCompletion] = []
        var finished = false
    }

    private let state = Mutex(State())
    let signal = WakeSignal()

    func append(_ completion: JobCompletion) {
        state.withLock { $0.items.append(completion) }
        signal.signal()
    }

    /// Whether the executor is shutting down (no more completions will come).
    var isFinished: Bool { state.withLock { $0.finished } }

    /// No more appends will come: the writer returns once it has written what is left.
    func finish() {
        state.withLock { $0.finished = true }
        signal.signal()
    }

    /// The next batch to write; it counts as pending until `written()`.
    func take(limit: Int) -> (batch: [JobCompletion], finished: Bool) {
        state.withLock { state in
            let batch = Array(state.items.prefix(limit))
            state.items.removeFirst(batch.count)
            state.writing = batch
            return (batch, state.finished)
        }
    }

    func written() {
        state.withLock { $0.writing = [] }
    }

    /// The jobs finished here whose outcome is not yet in the database: their leases must hold until it is.
    func pendingJobs() -> [(tenantID: TenantID, id: UUID)] {
        state.withLock { ($0.writing + $0.items).map { ($0.tenantID, $0.id) } }
    }
}
