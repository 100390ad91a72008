import Foundation
import PostgresNIO
import SwitchyardCore

/// A job an executor has claimed: what its handler needs, and what finishing it needs.
public struct ClaimedJob: Sendable {
    public let id: UUID
    public let tenantID: TenantID
    public let kind: String
    public let payload: String
    public let payloadVersion: Int
    public let integrationID: UUID?
    /// This attempt's number, from 1.
    public let attempt: Int
    public let maxAttempts: Int
    /// When the job became due: enqueue-to-start latency is measured from here.
    public let dueAt: Date
    public let claimedAt: Date
}

/// How one attempt ended, as written back by `complete`.
public struct JobCompletion: Sendable {
    public enum Outcome: Sendable, Equatable {
        case succeeded
        /// Failed; run again after `delay`.
        case retry(after: Duration)
        /// Failed for good (permanent, or the last attempt): a dead letter.
        case dead
        /// Stopped at a safe point with work left (a long sync's next pages): queued again, due after `after`,
        /// without spending an attempt (history: `released`).
        case continued(after: Duration)
        /// Could not start now (its destination's circuit is open, its rate or concurrency limit is reached):
        /// queued again, due after `after`, without spending an attempt or writing history.
        case deferred(after: Duration)
    }

    public let tenantID: TenantID
    public let id: UUID
    public let attempt: Int
    public let outcome: Outcome
    public let error: String?
    /// What the handler recorded about the attempt (a delivery's response status and body), merged into its history entry.
    public let detail: [String: JSONValue]

    public init(job: ClaimedJob, outcome: Outcome, error: String?, detail: [String: JSONValue] = [:]) {
        tenantID = job.tenantID
        id = job.id
        attempt = job.attempt
        self.outcome = outcome
        self.detail = detail
        self.error = error.map(Self.storable(error:))
    }

    /// An attempt's error as a job keeps it. PostgreSQL text cannot hold NUL, and a provider's error text can: one such
    /// message would fail the whole batch it is written with, again and again.
    static func storable(error: String) -> String {
        String(error.replacingOccurrences(of: "\u{0}", with: "\u{FFFD}").prefix(2000))
    }

    /// An attempt's detail as the statements bind it: a JSON object, or empty for none.
    static func bound(detail: [String: JSONValue]) -> String {
        detail.isEmpty ? "" : String(decoding: JSONValue.object(detail).serialized(), as: UTF8.self)
    }
}

extension JobCompletion.Outcome {
    /// The state an attempt with this outcome is written with (`CompleteStatement.deferred` for a deferral, which
    /// the statement turns into `queued`), and how long after now the job is due again, in milliseconds.
    var written: (state: String, delayMilliseconds: Int64) {
        switch self {
        case .succeeded: (JobState.succeeded.rawValue, 0)
        case .retry(let delay): (JobState.failed.rawValue, max(0, delay.wholeMilliseconds))
        case .dead: (JobState.dead.rawValue, 0)
        case .continued(let delay): (JobState.queued.rawValue, max(0, delay.wholeMilliseconds))
        case .deferred(let delay): (CompleteStatement.deferred, max(0, delay.wholeMilliseconds))
        }
    }
}

/// The claim parameters of one executor.
public struct ClaimRequest: Sendable {
    /// Identifies the executor process in `lease_owner`.
    public var owner: String
    public var limit: Int
    /// Most jobs of one tenant running at once, across executors.
    public var tenantConcurrency: Int
    public var lease: Duration

    public init(owner: String, limit: Int, tenantConcurrency: Int, lease: Duration) {
        self.owner = owner
        self.limit = limit
        self.tenantConcurrency = tenantConcurrency
        self.lease = lease
    }
}

/// A schedule whose fire is due, locked by the transaction that fires it.
public struct DueSchedule: Sendable {
    public let schedule: JobScheduleRecord
    /// The database's clock, so that next fires do not depend on the scheduler host's.
    public let now: Date
}

extension QueueTransaction {
    /// Claims up to `request.limit` due jobs with `FOR UPDATE SKIP LOCKED`, fairly across tenants.
    ///
    /// The recursive part lists the tenants with due work by skipping through `jobs_ready` one tenant
    /// at a time; each tenant then offers its next jobs up to its remaining concurrency; the batch takes
    /// every tenant's first job before anyone's second, so a tenant with a flood of jobs cannot keep
    /// another's from starting.
    ///
    /// The claim's commit does not wait for its WAL flush: a claim lost in a crash only leaves its jobs queued, to be
    /// claimed again (jobs run at least once, REQUIREMENTS RL-2), and the completion that follows it flushes it anyway.
    /// Waiting for the flush made the claim's round trip what capped how fast an executor took work.
    public func claim(_ request: ClaimRequest) async throws -> [ClaimedJob] {
        _ = try await query("SELECT set_config('synchronous_commit', 'off', true)").collect()
        return try await connection.guardedExecute(ClaimStatement(request: request), statements, logger: logger)
    }

    /// Finishes attempts in one statement. Only attempts still leased to `owner` change: one whose lease
    /// expired and was rescued meanwhile belongs to someone else now. Returns how many were written.
    @discardableResult
    public func complete(_ completions: [JobCompletion], owner: String) async throws -> Int {
        guard !completions.isEmpty else { return 0 }
        let written = completions.map(\.outcome.written)
        let statement = CompleteStatement(
            tenants: completions.map(\.tenantID.rawValue),
            ids: completions.map(\.id),
            attempts: completions.map { Int64($0.attempt) },
            states: written.map(\.state),
            errors: completions.map { $0.error ?? "" },
            delays: written.map(\.delayMilliseconds),
            details: completions.map { JobCompletion.bound(detail: $0.detail) },
            owner: owner
        )
        return try await connection.guardedExecute(statement, statements, logger: logger).count
    }

    /// Extends the leases of `jobs` that `owner` still holds (the heartbeat). Only the jobs the executor knows to be
    /// making progress are named: a job whose handler hangs, or whose completion was lost, must be let go, so that
    /// its lease lapses and another executor rescues it (REQUIREMENTS RL-8). Returns how many were extended.
    @discardableResult
    public func extendLeases(_ jobs: [(tenantID: TenantID, id: UUID)], owner: String, lease: Duration) async throws -> Int {
        guard !jobs.isEmpty else { return 0 }
        // SKIP LOCKED: a job whose row is locked is being finished by this executor's completion writer, whose batch
        // locks rows in its own order; waiting for it here could close a deadlock between the two statements.
        return try await query(
            """
            UPDATE jobs j SET lease_expires_at = now() + \(lease.wholeMilliseconds) * interval '1 millisecond'
             WHERE (j.tenant_id, j.id) IN (
                SELECT x.tenant_id, x.id FROM jobs x
                  JOIN unnest(\(jobs.map(\.tenantID.rawValue))::uuid[], \(jobs.map(\.id))::uuid[]) AS c(tenant_id, id)
                    ON x.tenant_id = c.tenant_id AND x.id = c.id
                 WHERE x.state = 'running' AND x.lease_owner = \(owner)
                   FOR UPDATE OF x SKIP LOCKED)
            RETURNING j.id
            """
        ).decode(UUID.self).collect().count
    }

    /// Gives jobs back to the queue unfinished (graceful shutdown ran out of time): the attempt does not count.
    @discardableResult
    public func release(_ jobs: [ClaimedJob], owner: String) async throws -> Int {
        guard !jobs.isEmpty else { return 0 }
        return try await query(
            """
            UPDATE jobs j
               SET state = 'queued', attempts = j.attempts - 1, run_at = now(), lease_owner = NULL, lease_expires_at = NULL, updated_at = now(),
                   history = j.history || \(unescaped: JobAttempt.sql(outcome: "'released'", error: "'the executor shut down before the job finished'", retryAt: "NULL::timestamptz"))
              FROM unnest(\(jobs.map(\.tenantID.rawValue))::uuid[], \(jobs.map(\.id))::uuid[]) AS c(tenant_id, id)
             WHERE j.tenant_id = c.tenant_id AND j.id = c.id AND j.state = 'running' AND j.lease_owner = \(owner)
            RETURNING j.id
            """
        ).decode(UUID.self).collect().count
    }

    /// Returns jobs whose executor stopped renewing their lease to the queue (REQUIREMENTS RL-2), or to the
    /// dead letters when that was their last attempt. Returns the kinds rescued, one entry per job.
    ///
    /// An executor passes itself as `sparing`, with the jobs it abandoned past their run timeout: it rescues other
    /// executors' jobs and those, never the others of its own, which it is running or writing back and renews in the
    /// same heartbeat but may not have renewed yet (one claimed just as the heartbeat listed its jobs, by a claim that
    /// took longer than the lease on a loaded machine). The scheduler spares none.
    public func rescueExpiredLeases(
        limit: Int = 1000,
        sparing owner: String? = nil,
        except abandoned: [(tenantID: TenantID, id: UUID)] = []
    ) async throws -> [(kind: String, dead: Bool)] {
        let error = "'lease expired: the executor stopped without finishing the job'"
        return try await query(
            """
            UPDATE jobs j
               SET state = CASE WHEN j.attempts >= j.max_attempts THEN 'dead' ELSE 'failed' END,
                   run_at = now(), last_error = \(unescaped: error), lease_owner = NULL, lease_expires_at = NULL, updated_at = now(),
                   finished_at = CASE WHEN j.attempts >= j.max_attempts THEN now() END,
                   history = j.history || \(unescaped: JobAttempt.sql(outcome: "'lease_expired'", error: error, retryAt: "now()"))
             WHERE (j.tenant_id, j.id) IN (
                SELECT tenant_id, id FROM jobs
                 WHERE state = 'running' AND lease_expires_at < now()
                   AND (lease_owner IS DISTINCT FROM \(owner)
                        OR (tenant_id, id) IN (SELECT * FROM unnest(\(abandoned.map(\.tenantID.rawValue))::uuid[], \(abandoned.map(\.id))::uuid[])))
                 LIMIT \(limit) FOR UPDATE SKIP LOCKED)
            RETURNING j.kind, j.state = 'dead'
            """
        ).decode((String, Bool).self).collect().map { (kind: $0.0, dead: $0.1) }
    }

    /// Deletes up to `limit` succeeded and cancelled jobs finished before `retention`, and dead letters before `deadRetention`.
    public func pruneFinishedJobs(retention: Duration, deadRetention: Duration, limit: Int = 5000) async throws -> Int {
        try await query(
            """
            DELETE FROM jobs WHERE (tenant_id, id) IN (
                SELECT tenant_id, id FROM jobs
                 WHERE state IN ('succeeded', 'cancelled', 'dead')
                   AND finished_at < now() - least(\(retention.wholeMilliseconds), \(deadRetention.wholeMilliseconds)) * interval '1 millisecond'
                   AND finished_at < now() - (CASE WHEN state = 'dead' THEN \(deadRetention.wholeMilliseconds) ELSE \(retention.wholeMilliseconds) END) * interval '1 millisecond'
                 LIMIT \(limit))
            RETURNING id
            """
        ).decode(UUID.self).collect().count
    }

    /// Deletes the rows without a key to their tenant (jobs, audit events, delivered first attempts) written for deleted
    /// tenants after their deletion (by a transaction that overlapped it), then the tombstones older than `keep`;
    /// returns how many rows it deleted (migrations 0044 and 0045).
    public func sweepDeletedTenants(keep: Duration) async throws -> Int {
        let swept =
            try await query("SELECT app_sweep_deleted_tenants(\(keep.wholeMilliseconds) * interval '1 millisecond')")
            .decode(Int64.self).collect().first ?? 0
        return Int(swept)
    }

    /// Deletes up to `limit` deliveries delivered at their first attempt (migration 0042) that finished before
    /// `retention`: the succeeded jobs' retention, which they would have had as jobs.
    public func pruneDeliveredFirstAttempts(retention: Duration, limit: Int = 5000) async throws -> Int {
        try await query(
            """
            DELETE FROM delivered_first_attempts WHERE (tenant_id, id) IN (
                SELECT tenant_id, id FROM delivered_first_attempts
                 WHERE finished_at < now() - \(retention.wholeMilliseconds) * interval '1 millisecond'
                 LIMIT \(limit))
            RETURNING id
            """
        ).decode(UUID.self).collect().count
    }

    /// Jobs that are not finished (and dead letters), counted by kind and state.
    public func queueDepth() async throws -> [(kind: String, state: JobState, count: Int)] {
        try await query(
            "SELECT kind, state, count(*)::int FROM jobs WHERE state IN ('queued', 'running', 'failed', 'dead') GROUP BY kind, state" as PostgresQuery
        ).decode((String, String, Int).self).collect().compactMap { row in
            JobState(rawValue: row.1).map { (kind: row.0, state: $0, count: row.2) }
        }
    }

    /// How long the oldest job in state `running` has been running (zero when none is): a figure far past the lease
    /// means jobs that no executor is finishing.
    public func oldestRunningJobAge() async throws -> Duration {
        let milliseconds =
            try await query(
                "SELECT coalesce((extract(epoch FROM now() - min(started_at)) * 1000)::bigint, 0) FROM jobs WHERE state = 'running'" as PostgresQuery
            ).decode(Int64.self).collect().first ?? 0
        return .milliseconds(milliseconds)
    }

    /// How long the job that has been due the longest (queued, or failed with its retry time passed) has waited (zero when
    /// none is due): the queue's lag, whether or not any executor is claiming.
    public func oldestDueJobAge() async throws -> Duration {
        let milliseconds =
            try await query(
                "SELECT coalesce((extract(epoch FROM now() - min(run_at)) * 1000)::bigint, 0) FROM jobs WHERE state IN ('queued', 'failed') AND run_at <= now()"
                    as PostgresQuery
            ).decode(Int64.self).collect().first ?? 0
        return .milliseconds(milliseconds)
    }

    /// Locks up to `limit` unpaused schedules whose next fire is due; other schedulers skip them.
    public func dueSchedules(limit: Int) async throws -> [DueSchedule] {
        try await query(
            """
            SELECT \(unescaped: JobScheduleRecord.columns), now() AS database_now FROM job_schedules
             WHERE NOT paused AND next_fire_at <= now() ORDER BY next_fire_at LIMIT \(limit) FOR UPDATE SKIP LOCKED
            """
        ).collect().map { row in
            DueSchedule(schedule: try JobScheduleRecord(row: row), now: try NamedRow(row, table: "job_schedules")("database_now"))
        }
    }

    /// Turns the due fires of locked schedules into jobs (at most one per schedule and fire time, whoever else tries)
    /// and moves each schedule to its next fire, in one statement whatever the count: the schedules stay locked, and a
    /// transaction holding its id, for one round trip. Returns how many jobs this call created.
    @discardableResult
    public func fire(_ fires: [ScheduleFire]) async throws -> Int {
        guard !fires.isEmpty else { return 0 }
        return try await query(
            """
            WITH fire AS (
                SELECT * FROM unnest(\(fires.map(\.due.schedule.tenantID.rawValue))::uuid[], \(fires.map(\.due.schedule.id))::uuid[],
                                     \(fires.map { _ in UUID.v7() })::uuid[], \(fires.map(\.due.schedule.nextFireAt))::timestamptz[],
                                     \(fires.map(\.runAt))::timestamptz[], \(fires.map(\.nextFireAt))::timestamptz[])
                       AS f(tenant_id, schedule_id, job_id, fire_time, run_at, next_fire_at)
            ),
            moved AS (
                UPDATE job_schedules s SET next_fire_at = f.next_fire_at, last_fired_at = f.fire_time, updated_at = now()
                  FROM fire f WHERE s.tenant_id = f.tenant_id AND s.id = f.schedule_id
            )
            INSERT INTO jobs (tenant_id, id, kind, payload, payload_version, integration_id, run_at, max_attempts, schedule_id, fire_time)
            SELECT s.tenant_id, f.job_id, s.kind, s.payload, s.payload_version, s.integration_id, f.run_at, s.max_attempts, s.id, f.fire_time
              FROM fire f JOIN job_schedules s ON s.tenant_id = f.tenant_id AND s.id = f.schedule_id
            ON CONFLICT (tenant_id, schedule_id, fire_time) WHERE schedule_id IS NOT NULL DO NOTHING
            RETURNING id
            """
        ).decode(UUID.self).collect().count
    }
}

/// One due fire of a schedule, as the scheduler decided it: when its job runs (the fire time plus jitter) and when
/// the schedule fires next.
public struct ScheduleFire: Sendable {
    public let due: DueSchedule
    public let runAt: Date
    public let nextFireAt: Date

    public init(due: DueSchedule, runAt: Date, nextFireAt: Date) {
        self.due = due
        self.runAt = runAt
        self.nextFireAt = nextFireAt
    }
}

/// The claim, prepared once per connection: it runs at every wake-up of every executor, and planning
/// its CTEs costs more than executing them (unnamed behind a pooler that cannot pass that: `StatementPreparation`).
struct ClaimStatement: PostgresPreparedStatement {
    static let name = "switchyard_claim_jobs_v2"
    static let sql = """
        WITH RECURSIVE ready(tenant_id, depth) AS (
            (SELECT tenant_id, 1 FROM jobs WHERE state IN ('queued', 'failed') AND run_at <= now() ORDER BY tenant_id LIMIT 1)
          UNION ALL
            SELECT (SELECT j.tenant_id FROM jobs j
                     WHERE j.state IN ('queued', 'failed') AND j.run_at <= now() AND j.tenant_id > r.tenant_id
                     ORDER BY j.tenant_id LIMIT 1), r.depth + 1
              FROM ready r WHERE r.tenant_id IS NOT NULL AND r.depth < 1000
        ),
        candidates AS (
            SELECT c.tenant_id, c.id, c.priority, c.run_at,
                   row_number() OVER (PARTITION BY c.tenant_id ORDER BY c.priority, c.run_at) AS rank
              FROM ready r
             CROSS JOIN LATERAL (
                SELECT j.tenant_id, j.id, j.priority, j.run_at FROM jobs j
                 WHERE j.tenant_id = r.tenant_id AND j.state IN ('queued', 'failed') AND j.run_at <= now()
                   AND (j.ordering_key IS NULL OR NOT EXISTS (
                        SELECT 1 FROM jobs h
                         WHERE h.tenant_id = j.tenant_id AND h.ordering_key = j.ordering_key AND h.ordering_seq < j.ordering_seq
                           AND h.state IN ('queued', 'running', 'failed')))
                 ORDER BY j.priority, j.run_at
                 LIMIT least($2::int8, greatest(0, $3::int8
                       - (SELECT count(*) FROM jobs x WHERE x.tenant_id = r.tenant_id AND x.state = 'running')))
                 FOR UPDATE SKIP LOCKED
             ) c
             WHERE r.tenant_id IS NOT NULL
        ),
        chosen AS (
            SELECT tenant_id, id, run_at FROM candidates ORDER BY rank, priority, run_at LIMIT $2::int8
        )
        UPDATE jobs j
           SET state = 'running', attempts = j.attempts + 1, lease_owner = $1::text,
               lease_expires_at = now() + $4::int8 * interval '1 millisecond',
               started_at = now(), updated_at = now()
          FROM chosen
         WHERE j.tenant_id = chosen.tenant_id AND j.id = chosen.id
        RETURNING j.id, j.tenant_id, j.kind, j.payload::text AS payload, j.payload_version, j.integration_id, j.attempts, j.max_attempts,
                  chosen.run_at, now() AS claimed_at
        """

    let request: ClaimRequest

    func makeBindings() throws -> PostgresBindings {
        try bindings(request.owner, Int64(request.limit), Int64(request.tenantConcurrency), request.lease.wholeMilliseconds)
    }

    func decodeRow(_ row: PostgresRow) throws -> ClaimedJob {
        let row = NamedRow(row, table: "jobs")
        return ClaimedJob(
            id: try row("id"),
            tenantID: TenantID(try row("tenant_id")),
            kind: try row("kind"),
            payload: try row("payload"),
            payloadVersion: try row("payload_version"),
            integrationID: try row("integration_id"),
            attempt: try row("attempts"),
            maxAttempts: try row("max_attempts"),
            dueAt: try row("run_at"),
            claimedAt: try row("claimed_at")
        )
    }
}

/// The batched completion, prepared like the claim. Only attempts still leased to the owner change.
struct CompleteStatement: PostgresPreparedStatement {
    static let name = "switchyard_complete_jobs_v3"
    /// The state a deferred attempt is written with: back to `queued`, the attempt given back, nothing recorded.
    static let deferred = "deferred"
    static let retryAt = "CASE WHEN c.state IN ('failed', 'queued', 'deferred') THEN now() + c.delay_ms * interval '1 millisecond' END"
    /// A continued job goes back to `queued` with its attempt given back, recorded as `released`.
    static let outcome = "CASE WHEN c.state = 'queued' THEN 'released' ELSE c.state END"
    static let sql = """
        UPDATE jobs j
           SET state = CASE WHEN c.state = 'deferred' THEN 'queued' ELSE c.state END,
               attempts = j.attempts - CASE WHEN c.state IN ('queued', 'deferred') THEN 1 ELSE 0 END,
               run_at = coalesce(\(retryAt), j.run_at),
               last_error = CASE WHEN c.state IN ('queued', 'deferred') THEN j.last_error ELSE coalesce(nullif(c.error, ''), j.last_error) END,
               finished_at = CASE WHEN c.state IN ('succeeded', 'dead') THEN now() END,
               lease_owner = NULL, lease_expires_at = NULL, updated_at = now(),
               history = CASE WHEN c.state = 'deferred' THEN j.history
                         ELSE j.history || \(JobAttempt.sql(outcome: outcome, error: "nullif(c.error, '')", retryAt: retryAt, detail: "nullif(c.detail, '')::jsonb")) END
          FROM unnest($1::uuid[], $2::uuid[], $3::int8[], $4::text[], $5::text[], $6::int8[], $7::text[])
               AS c(tenant_id, id, attempt, state, error, delay_ms, detail)
         WHERE j.tenant_id = c.tenant_id AND j.id = c.id AND j.attempts = c.attempt AND j.state = 'running' AND j.lease_owner = $8::text
        RETURNING j.id
        """

    let tenants: [UUID]
    let ids: [UUID]
    let attempts: [Int64]
    let states: [String]
    let errors: [String]
    let delays: [Int64]
    /// Each completion's detail as a JSON object, or empty.
    let details: [String]
    let owner: String

    func makeBindings() throws -> PostgresBindings {
        try bindings(tenants, ids, attempts, states, errors, delays, details, owner)
    }

    func decodeRow(_ row: PostgresRow) throws -> UUID {
        try row.decode(UUID.self)
    }
}

/// The recent job attempts of one integration, for health scoring.
public struct IntegrationOutcomes: Sendable {
    public let tenantID: TenantID
    public let integrationID: UUID
    /// Newest first; true for a success.
    public let outcomes: [Bool]
    public let lastError: String?
}

extension QueueTransaction {
    /// Per integration with jobs, the outcomes of up to `limit` attempts that finished within `window`.
    public func recentIntegrationOutcomes(window: Duration, limit: Int = 50) async throws -> [IntegrationOutcomes] {
        try await query(
            """
            SELECT tenant_id, integration_id,
                   (array_agg(outcome = 'succeeded' ORDER BY finished DESC))[1:\(limit)],
                   (array_agg(error ORDER BY finished DESC) FILTER (WHERE outcome <> 'succeeded'))[1]
              FROM (SELECT j.tenant_id, j.integration_id, h->>'outcome' AS outcome, h->>'error' AS error, (h->>'finished_at')::float8 AS finished
                      FROM jobs j CROSS JOIN LATERAL jsonb_array_elements(j.history) h
                     WHERE j.integration_id IS NOT NULL
                       AND j.updated_at > now() - \(window.wholeMilliseconds) * interval '1 millisecond'
                       AND h->>'outcome' IN ('succeeded', 'failed', 'dead', 'lease_expired')) attempts
             WHERE finished > extract(epoch FROM now()) - \(window.wholeMilliseconds) / 1000.0
             GROUP BY tenant_id, integration_id
            """
        ).decode((UUID, UUID, [Bool], String?).self).collect().map {
            IntegrationOutcomes(tenantID: TenantID($0.0), integrationID: $0.1, outcomes: $0.2, lastError: $0.3)
        }
    }
}
