import Foundation
import Logging
import ServiceLifecycle
import SwitchyardCore
import SwitchyardMetrics
import SwitchyardPostgres
import SwitchyardSyncs

/// How the scheduler ticks and what it keeps (from `JobsSettings`).
public struct SchedulerOptions: Sendable {
    public var tick: Duration
    public var retention: Duration
    public var deadRetention: Duration
    /// Recorded webhook events older than this are deleted.
    public var webhookRetention: Duration
    /// Synced records deleted longer ago than this leave the records store.
    public var syncDeletedRecordRetention: Duration
    /// Only the holder of a session advisory lock ticks; the others wait to take over. Firing is safe
    /// without it (schedules are locked row by row and a fire time is unique per schedule); it saves work.
    public var leaderLock: Bool = true
    /// How often queue depth is counted and finished jobs are pruned.
    public var housekeepingInterval: Duration = .seconds(15)

    public init(_ settings: JobsSettings) {
        tick = .milliseconds(settings.schedulerTickMilliseconds)
        retention = .seconds(settings.retentionHours * 3600)
        deadRetention = .seconds(settings.deadRetentionHours * 3600)
        webhookRetention = .seconds(settings.webhookRetentionHours * 3600)
        syncDeletedRecordRetention = .seconds(settings.syncDeletedRecordRetentionHours * 3600)
    }
}

/// `switchyard scheduler`: turns due schedule fires and due syncs into jobs (REQUIREMENTS RL-5) and runs the
/// queue's own periodic work: lease rescue (RL-2), retention pruning, the queue-depth metric and integration
/// health scoring (RL-7).
///
/// Platform periodic work that needs other subsystems (proactive OAuth token refresh, integration
/// health scoring) belongs in `periodicWork`, run by the leader on every tick.
public struct JobScheduler: Service {
    /// `hashtext`-free and fixed, like the migrator's.
    static let leaderLockKey: Int64 = 0x5357_5943_4844_0005
    /// How long housekeeping keeps sweeping a deleted tenant's rows: far longer than any transaction or job handler
    /// that overlapped its deletion can still write one.
    static let tombstoneLifetime = Duration.seconds(7 * 86_400)

    let database: Database
    let options: SchedulerOptions
    let metrics: JobMetrics?
    let deliveryMetrics: DeliveryMetrics?
    let logger: Logger
    let periodicWork: [@Sendable (Database, Logger) async throws -> Void]

    public init(
        database: Database,
        options: SchedulerOptions,
        metrics: JobMetrics?,
        deliveryMetrics: DeliveryMetrics? = nil,
        logger: Logger,
        periodicWork: [@Sendable (Database, Logger) async throws -> Void] = []
    ) {
        self.database = database
        self.options = options
        self.metrics = metrics
        self.deliveryMetrics = deliveryMetrics
        self.logger = logger
        self.periodicWork = periodicWork
    }

    public func run() async throws {
        logger.info("scheduler started", metadata: ["leader_lock": "\(options.leaderLock)"])
        await cancelWhenGracefulShutdown {
            guard options.leaderLock else {
                await lead(while: { true })
                return
            }
            while !Task.isCancelled {
                do {
                    let led = try await database.withSessionLock(Self.leaderLockKey, logger: logger) { lock async -> Bool in
                        logger.info("scheduler is the leader")
                        metrics?.setLeader(true)
                        defer { metrics?.setLeader(false) }
                        // Stop leading as soon as the lock's connection is gone, even in the middle of a tick.
                        await withTaskGroup(of: Void.self) { group in
                            group.addTask { await lead(while: { await lock.isHeld() }) }
                            group.addTask { await lock.waitUntilLost() }
                            await group.next()
                            group.cancelAll()
                        }
                        if !Task.isCancelled {
                            logger.warning("scheduler lost its leader lock (the database connection holding it is gone); standing by")
                        }
                        return true
                    }
                    if led == nil { logger.debug("another scheduler leads; standing by") }
                } catch {
                    logger.warning("scheduler leadership check failed", metadata: ["error": "\(loggableDescription(of: error))"])
                }
                guard (try? await Task.sleep(for: options.tick)) != nil else { break }
            }
        }
        logger.info("scheduler stopped")
    }

    /// Ticks until cancelled (graceful shutdown) or until `stillLeader` says the leadership is gone: it is asked
    /// before every tick, so two schedulers never both lead for longer than one tick (REQUIREMENTS RL-8).
    /// Housekeeping runs beside the ticks, not between them: a prune of a large backlog can take minutes, and
    /// schedules must fire on time meanwhile.
    private func lead(while stillLeader: () async -> Bool) async {
        await withDiscardingTaskGroup { group in
            group.addTask { await keepHouse() }
            await tickWhileLeading(stillLeader)
            group.cancelAll()
        }
    }

    private func tickWhileLeading(_ stillLeader: () async -> Bool) async {
        while !Task.isCancelled {
            guard await stillLeader() else { return }
            do {
                try await tick()
                for work in periodicWork { try await work(database, logger) }
            } catch {
                if Task.isCancelled { return }
                logger.warning("scheduler tick failed", metadata: ["error": "\(loggableDescription(of: error))"])
            }
            guard (try? await Task.sleep(for: options.tick)) != nil else { return }
        }
    }

    /// Housekeeping every `housekeepingInterval`, the first at once, until cancelled.
    private func keepHouse() async {
        while !Task.isCancelled {
            let started = ContinuousClock.now
            do {
                try await housekeeping()
            } catch {
                if Task.isCancelled { return }
                logger.warning("scheduler housekeeping failed", metadata: ["error": "\(loggableDescription(of: error))"])
            }
            guard (try? await Task.sleep(until: started + options.housekeepingInterval)) != nil else { return }
        }
    }

    /// Fires every due schedule (in batches, each in one transaction), starts due syncs' runs and rescues expired
    /// leases.
    public func tick() async throws {
        while true {
            let fired = try await database.withQueue(logger: logger) { queue in
                let due = try await queue.dueSchedules(limit: 100)
                let created = try await queue.fire(due.map(plannedFire))
                metrics?.recordFires(created)
                return due.count
            }
            if fired < 100 { break }
        }
        try await SyncScheduling.fireDue(database: database, logger: logger)
        let rescued = try await database.withQueue(logger: logger) { try await $0.rescueExpiredLeases() }
        if !rescued.isEmpty {
            logger.notice("rescued jobs with expired leases", metadata: ["count": "\(rescued.count)"])
            for job in rescued { metrics?.recordLeaseRescue(kind: job.kind) }
        }
    }

    /// When a due schedule's job runs and when the schedule fires next.
    private func plannedFire(_ due: DueSchedule) -> ScheduleFire {
        let schedule = due.schedule
        let next: Date
        do {
            let rule = try ScheduleRule(intervalSeconds: schedule.intervalSeconds, cron: schedule.cron)
            // A rule that never fires again (`0 0 30 2 *`) is looked at again in a day.
            next = rule.nextFire(after: schedule.nextFireAt, now: due.now) ?? due.now.addingTimeInterval(86_400)
        } catch {
            logger.error("schedule has an unreadable rule; retrying in a day", metadata: ["schedule_id": "\(schedule.id.lowercasedString)"])
            next = due.now.addingTimeInterval(86_400)
        }
        let jitter = schedule.jitterSeconds > 0 ? TimeInterval.random(in: 0...TimeInterval(schedule.jitterSeconds)) : 0
        return ScheduleFire(due: due, runAt: schedule.nextFireAt.addingTimeInterval(jitter), nextFireAt: next)
    }

    /// Counts the queue for the depth metric (and the disabled destinations), prunes finished jobs, webhook events and deleted sync records past their
    /// retention, the rows written for deleted tenants after their deletion, expired Idempotency-Keys and rate limit buckets that are full again, and
    /// scores integrations' health.
    public func housekeeping() async throws {
        let depth = try await database.withQueue(logger: logger) { try await $0.queueDepth() }
        metrics?.setQueueDepth(depth.map { (kind: $0.kind, state: $0.state.rawValue, count: $0.count) })
        metrics?.setOldestRunningJobAge(try await database.withQueue(logger: logger) { try await $0.oldestRunningJobAge() })
        metrics?.setOldestDueJobAge(try await database.withQueue(logger: logger) { try await $0.oldestDueJobAge() })
        if let deliveryMetrics {
            deliveryMetrics.setDisabledDestinations(try await database.withQueue(logger: logger) { try await $0.disabledDestinations() })
        }
        let pruned = try await prune { try await $0.pruneFinishedJobs(retention: options.retention, deadRetention: options.deadRetention) }
        if pruned > 0 { logger.info("pruned finished jobs", metadata: ["count": "\(pruned)"]) }
        let prunedDeliveries = try await prune { try await $0.pruneDeliveredFirstAttempts(retention: options.retention) }
        if prunedDeliveries > 0 { logger.info("pruned deliveries delivered at their first attempt", metadata: ["count": "\(prunedDeliveries)"]) }
        let prunedEvents = try await prune { try await $0.pruneWebhookEvents(olderThan: options.webhookRetention) }
        if prunedEvents > 0 { logger.info("pruned webhook events past their retention", metadata: ["count": "\(prunedEvents)"]) }
        let prunedRecords = try await prune { try await $0.pruneDeletedSyncRecords(olderThan: options.syncDeletedRecordRetention) }
        if prunedRecords > 0 { logger.info("pruned deleted sync records past their retention", metadata: ["count": "\(prunedRecords)"]) }
        let swept = try await database.withQueue(logger: logger) { try await $0.sweepDeletedTenants(keep: Self.tombstoneLifetime) }
        if swept > 0 { logger.notice("deleted rows written for deleted tenants after their deletion", metadata: ["count": "\(swept)"]) }
        let prunedKeys = try await prune { try await $0.pruneExpiredIdempotencyKeys() }
        if prunedKeys > 0 { logger.info("pruned expired idempotency keys", metadata: ["count": "\(prunedKeys)"]) }
        // Rate limit buckets that are full again mean the same as none (migration 0033): quietly, they come and go.
        while try await database.withRateLimiter(logger: logger, { try await $0.pruneFullBuckets() }) >= 5000 {}
        // So do provider quotas whose window and block have ended (migration 0037).
        while try await database.withRateLimiter(logger: logger, { try await $0.pruneEndedProviderQuotas() }) >= 5000 {}
        let changed = try await IntegrationHealthScoring(database: database, metrics: metrics).run(logger: logger)
        if changed > 0 { logger.info("integration health changed", metadata: ["count": "\(changed)"]) }
    }

    /// Runs `batch`, a delete of at most 5,000 rows in a transaction of its own, until it deletes fewer; returns how
    /// many it deleted in all.
    private func prune(_ batch: (QueueTransaction) async throws -> Int) async throws -> Int {
        var total = 0
        while true {
            let deleted = try await database.withQueue(logger: logger) { try await batch($0) }
            total += deleted
            if deleted < 5000 { return total }
        }
    }

}
