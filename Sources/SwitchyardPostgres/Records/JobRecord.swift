import Foundation
import PostgresNIO
import SwitchyardCore

/// A row of `jobs` as a tenant sees it.
public struct JobRecord: Sendable {
    public let id: UUID
    public let tenantID: TenantID
    public let kind: String
    /// The payload's JSON text.
    public let payload: String
    public let payloadVersion: Int
    public let integrationID: UUID?
    public let state: JobState
    public let priority: Int
    public let runAt: Date
    public let attempts: Int
    public let maxAttempts: Int
    public let lastError: String?
    public let uniqueKey: String?
    public let scheduleID: UUID?
    public let fireTime: Date?
    public let history: [JobAttempt]
    public let createdAt: Date
    public let startedAt: Date?
    public let finishedAt: Date?
    public let updatedAt: Date

    static let columns = """
        id, tenant_id, kind, payload::text, payload_version, integration_id, state, priority::int, run_at, attempts, max_attempts,
        last_error, unique_key, schedule_id, fire_time, history::text, created_at, started_at, finished_at, updated_at
        """
    init(row: PostgresRow) throws {
        let row = NamedRow(row, table: "jobs")
        id = try row("id")
        tenantID = TenantID(try row("tenant_id"))
        kind = try row("kind")
        payload = try row("payload")
        payloadVersion = try row("payload_version")
        integrationID = try row("integration_id")
        state = try row.value("state")
        priority = try row("priority")
        runAt = try row("run_at")
        attempts = try row("attempts")
        maxAttempts = try row("max_attempts")
        lastError = try row("last_error")
        uniqueKey = try row("unique_key")
        scheduleID = try row("schedule_id")
        fireTime = try row("fire_time")
        history = try row.json("history")
        createdAt = try row("created_at")
        startedAt = try row("started_at")
        finishedAt = try row("finished_at")
        updatedAt = try row("updated_at")
    }
}

/// One finished attempt of a job, as kept in `jobs.history`.
public struct JobAttempt: Sendable, Codable, Equatable {
    public let attempt: Int
    /// `succeeded`, `failed` (a retry is scheduled), `dead`, `released` (the executor stopped before it
    /// finished; the attempt does not count) or `lease_expired` (the executor vanished).
    public let outcome: String
    public let error: String?
    public let startedAt: Date?
    public let finishedAt: Date
    /// When the next attempt may start, for `failed`.
    public let retryAt: Date?
    /// What the handler recorded about the attempt: a delivery's response status, body and duration.
    public let detail: [String: JSONValue]?

    enum CodingKeys: String, CodingKey {
        case attempt, outcome, error, detail
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case retryAt = "retry_at"
    }

    // Stored with epoch seconds, which `jsonb_build_object` writes without a date format to agree on.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        attempt = try container.decode(Int.self, forKey: .attempt)
        outcome = try container.decode(String.self, forKey: .outcome)
        error = try container.decodeIfPresent(String.self, forKey: .error)
        startedAt = try container.decodeIfPresent(Double.self, forKey: .startedAt).map(Date.init(timeIntervalSince1970:))
        finishedAt = Date(timeIntervalSince1970: try container.decode(Double.self, forKey: .finishedAt))
        retryAt = try container.decodeIfPresent(Double.self, forKey: .retryAt).map(Date.init(timeIntervalSince1970:))
        detail = try container.decodeIfPresent([String: JSONValue].self, forKey: .detail)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(attempt, forKey: .attempt)
        try container.encode(outcome, forKey: .outcome)
        try container.encode(error, forKey: .error)
        try container.encode(startedAt?.timeIntervalSince1970, forKey: .startedAt)
        try container.encode(finishedAt.timeIntervalSince1970, forKey: .finishedAt)
        try container.encode(retryAt?.timeIntervalSince1970, forKey: .retryAt)
        try container.encodeIfPresent(detail, forKey: .detail)
    }

    /// The SQL that builds the history entry of the attempt a statement is finishing on row `j`.
    /// `detail` is a jsonb expression, left out of the entry when it is null.
    static func sql(outcome: String, error: String, retryAt: String, detail: String = "NULL::jsonb") -> String {
        """
        jsonb_build_array(jsonb_build_object(
            'attempt', j.attempts, 'outcome', \(outcome), 'error', \(error),
            'started_at', extract(epoch FROM j.started_at), 'finished_at', extract(epoch FROM now()),
            'retry_at', extract(epoch FROM \(retryAt)))
          || CASE WHEN \(detail) IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('detail', \(detail)) END)
        """
    }
}

/// What enqueueing a job needs; the payload is a typed `JobPayload`.
public struct NewJob: Sendable {
    public var kind: String
    public var payloadJSON: String
    public var payloadVersion: Int
    public var integrationID: UUID?
    /// Lower runs first.
    public var priority: Int
    /// `nil`: now.
    public var runAt: Date?
    public var maxAttempts: Int
    /// While a job with this key (and kind) is queued, running or awaiting a retry, enqueueing another returns it instead.
    public var uniqueKey: String?

    public init<Payload: JobPayload>(
        _ payload: Payload,
        integrationID: UUID? = nil,
        priority: Int = 0,
        runAt: Date? = nil,
        maxAttempts: Int? = nil,
        uniqueKey: String? = nil
    ) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        self.init(
            kind: Payload.kind,
            payloadJSON: String(decoding: try encoder.encode(payload), as: UTF8.self),
            payloadVersion: Payload.version,
            integrationID: integrationID,
            priority: priority,
            runAt: runAt,
            maxAttempts: maxAttempts ?? Payload.maxAttempts,
            uniqueKey: uniqueKey
        )
    }

    /// A payload already in JSON form, checked by the caller (the API validates it against the kind's payload type).
    public init(
        kind: String,
        payloadJSON: String,
        payloadVersion: Int,
        integrationID: UUID? = nil,
        priority: Int = 0,
        runAt: Date? = nil,
        maxAttempts: Int = 10,
        uniqueKey: String? = nil
    ) {
        self.kind = kind
        self.payloadJSON = payloadJSON
        self.payloadVersion = payloadVersion
        self.integrationID = integrationID
        self.priority = priority
        self.runAt = runAt
        self.maxAttempts = maxAttempts
        self.uniqueKey = uniqueKey
    }
}

/// The result of `enqueue`: the new job, or the active job that already holds its unique key.
public struct Enqueued: Sendable {
    public let job: JobRecord
    public let created: Bool
}

/// Which jobs a list shows.
public struct JobFilter: Sendable {
    public var states: [JobState]
    public var kind: String?
    public var integrationID: UUID?
    /// Explicit ids (redrive of chosen dead letters).
    public var ids: [UUID]?

    public init(states: [JobState] = [], kind: String? = nil, integrationID: UUID? = nil, ids: [UUID]? = nil) {
        self.states = states
        self.kind = kind
        self.integrationID = integrationID
        self.ids = ids
    }
}

/// Why a job cannot do what was asked; a 409 for the API.
public struct JobStateConflict: Error, SwitchyardErrorConvertible {
    public let detail: String
    public var switchyardError: SwitchyardError { .init(.conflict, code: "job-state-conflict", detail: detail) }
}

/// The NOTIFY channel that wakes executors (`jobs_inserted` trigger; explicit after a redrive).
public let jobsNotificationChannel = "switchyard_jobs"

extension TenantTransaction {
    /// Enqueues a job in this transaction, so it exists exactly when the write that caused it commits (REQUIREMENTS RL-1).
    @discardableResult
    public func enqueue(_ new: NewJob) async throws -> Enqueued {
        let id = UUID.v7()
        let rows = try await query(
            """
            INSERT INTO jobs (tenant_id, id, kind, payload, payload_version, integration_id, priority, run_at, max_attempts, unique_key)
            VALUES (\(tenantID.rawValue), \(id), \(new.kind), \(new.payloadJSON)::jsonb, \(new.payloadVersion), \(new.integrationID), \(Int16(clamping: new.priority)), coalesce(\(new.runAt), now()), \(new.maxAttempts), \(new.uniqueKey))
            ON CONFLICT (tenant_id, kind, unique_key) WHERE unique_key IS NOT NULL AND state IN ('queued', 'running', 'failed') DO NOTHING
            RETURNING \(unescaped: JobRecord.columns)
            """
        ).collect()
        if let row = rows.first { return Enqueued(job: try JobRecord(row: row), created: true) }
        let existing = try await query(
            """
            SELECT \(unescaped: JobRecord.columns) FROM jobs
             WHERE tenant_id = \(tenantID.rawValue) AND kind = \(new.kind) AND unique_key = \(new.uniqueKey) AND state IN ('queued', 'running', 'failed')
            """
        ).collect()
        // The holder finished between the two statements: a rare race the caller resolves by enqueueing again.
        guard let row = existing.first else { throw JobStateConflict(detail: "A job with this unique key finished meanwhile; enqueue again.") }
        return Enqueued(job: try JobRecord(row: row), created: false)
    }

    public func job(_ id: UUID) async throws -> JobRecord? {
        try await query(
            "SELECT \(unescaped: JobRecord.columns) FROM jobs WHERE tenant_id = \(tenantID.rawValue) AND id = \(id)"
        ).collect().first.map(JobRecord.init(row:))
    }

    /// The tenant's jobs, newest first.
    public func jobs(_ filter: JobFilter, page: PageRequest) async throws -> Page<JobRecord> {
        let rows = try await query(
            """
            SELECT \(unescaped: JobRecord.columns) FROM jobs
             WHERE tenant_id = \(tenantID.rawValue)
               AND (\(page.cursor?.lastID)::uuid IS NULL OR id < \(page.cursor?.lastID))
               AND (cardinality(\(filter.states.map(\.rawValue))::text[]) = 0 OR state = ANY (\(filter.states.map(\.rawValue))))
               AND (\(filter.kind)::text IS NULL OR kind = \(filter.kind))
               AND (\(filter.integrationID)::uuid IS NULL OR integration_id = \(filter.integrationID))
             ORDER BY id DESC LIMIT \(page.limit + 1)
            """
        ).collect()
        return Page(fetched: try rows.map(JobRecord.init(row:)), limit: page.limit, id: \.id)
    }

    /// Cancels a job that has not started (queued, or waiting for a retry). `nil` when there is no such job.
    public func cancelJob(_ id: UUID) async throws -> JobRecord? {
        let rows = try await query(
            """
            UPDATE jobs SET state = 'cancelled', finished_at = now(), updated_at = now()
             WHERE tenant_id = \(tenantID.rawValue) AND id = \(id) AND state IN ('queued', 'failed')
            RETURNING \(unescaped: JobRecord.columns)
            """
        ).collect()
        if let row = rows.first { return try JobRecord(row: row) }
        guard let existing = try await job(id) else { return nil }
        throw JobStateConflict(detail: "The job is \(existing.state.rawValue); only queued jobs and jobs waiting for a retry can be cancelled.")
    }

    /// Runs a dead, cancelled or failed job again now. A dead or cancelled job gets its full attempts back.
    public func retryJob(_ id: UUID) async throws -> JobRecord? {
        let rows = try await requeue(JobFilter(states: [.dead, .cancelled, .failed], ids: [id]), limit: 1)
        if let row = rows.first { return row }
        guard let existing = try await job(id) else { return nil }
        throw JobStateConflict(detail: "The job is \(existing.state.rawValue); only dead, cancelled and failed jobs can be retried.")
    }

    /// Puts dead letters matching `filter` back in the queue with their attempts reset; returns them.
    public func redriveDeadJobs(_ filter: JobFilter, limit: Int) async throws -> [JobRecord] {
        var filter = filter
        filter.states = [.dead]
        return try await requeue(filter, limit: limit)
    }

    private func requeue(_ filter: JobFilter, limit: Int) async throws -> [JobRecord] {
        do {
            let rows = try await query(
                """
                UPDATE jobs
                   SET state = 'queued', run_at = now(), finished_at = NULL, updated_at = now(),
                       attempts = CASE WHEN state = 'failed' THEN attempts ELSE 0 END
                 WHERE (tenant_id, id) IN (
                    SELECT tenant_id, id FROM jobs
                     WHERE tenant_id = \(tenantID.rawValue) AND state = ANY (\(filter.states.map(\.rawValue))::text[])
                       AND (\(filter.ids)::uuid[] IS NULL OR id = ANY (\(filter.ids)))
                       AND (\(filter.kind)::text IS NULL OR kind = \(filter.kind))
                       AND (\(filter.integrationID)::uuid IS NULL OR integration_id = \(filter.integrationID))
                     ORDER BY id LIMIT \(limit) FOR UPDATE)
                RETURNING \(unescaped: JobRecord.columns)
                """
            ).collect()
            if !rows.isEmpty { try await query("SELECT pg_notify(\(jobsNotificationChannel), '')") }
            return try rows.map(JobRecord.init(row:))
        } catch let error as PSQLError where error.isUniqueViolation {
            throw JobStateConflict(detail: "Another job with the same unique key is active; wait for it to finish.")
        }
    }
}

extension TenantTransaction {
    /// Stands for NULL in the array binds below (postgres-nio arrays have no NULL elements), as `distantPast` does for "now".
    private static let noIntegration = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))

    /// Enqueues many jobs with one statement (no unique keys: use `enqueue` for those). Returns how many.
    @discardableResult
    public func enqueue(batch jobs: [NewJob]) async throws -> Int {
        guard !jobs.isEmpty else { return 0 }
        precondition(jobs.allSatisfy { $0.uniqueKey == nil }, "enqueue(batch:) takes jobs without unique keys")
        return try await query(
            """
            INSERT INTO jobs (tenant_id, id, kind, payload, payload_version, priority, run_at, max_attempts, integration_id)
            SELECT \(tenantID.rawValue), j.id, j.kind, j.payload::jsonb, j.version, j.priority, coalesce(nullif(j.run_at, \(Date.distantPast)), now()), j.max_attempts,
                   nullif(j.integration_id, \(Self.noIntegration))
              FROM unnest(\(jobs.map { _ in UUID.v7() })::uuid[], \(jobs.map(\.kind))::text[], \(jobs.map(\.payloadJSON))::text[], \(jobs.map { Int64($0.payloadVersion) })::int8[], \(jobs.map { Int16(clamping: $0.priority) })::int2[], \(jobs.map { $0.runAt ?? .distantPast })::timestamptz[], \(jobs.map { Int64($0.maxAttempts) })::int8[], \(jobs.map { $0.integrationID ?? Self.noIntegration })::uuid[])
                   AS j(id, kind, payload, version, priority, run_at, max_attempts, integration_id)
            RETURNING id
            """
        ).decode(UUID.self).collect().count
    }
}

// For the queue benchmark (SwitchyardBenchmarks) and the tests: `package`, not part of what the module exposes.
extension TenantTransaction {
    /// Whether any of the tenant's jobs is queued, running or waiting for a retry; stops at the first it finds.
    package func hasActiveJobs() async throws -> Bool {
        try await query("SELECT EXISTS (SELECT 1 FROM jobs WHERE tenant_id = \(tenantID.rawValue) AND state IN ('queued', 'running', 'failed'))")
            .decode(Bool.self).collect().first ?? false
    }

    /// How many of the tenant's jobs are in `state`.
    package func countJobs(state: JobState) async throws -> Int {
        try await query("SELECT count(*)::int FROM jobs WHERE tenant_id = \(tenantID.rawValue) AND state = \(state.rawValue)")
            .decode(Int.self).collect().first ?? 0
    }
}

// For `bench executors` (SwitchyardBenchmarks): `package`, not part of what the module exposes.
extension QueueTransaction {
    /// How many jobs of each of `tenants` have succeeded.
    package func succeededJobs(of tenants: [TenantID]) async throws -> [TenantID: Int] {
        let rows = try await query(
            "SELECT tenant_id, count(*)::int FROM jobs WHERE tenant_id = ANY(\(tenants.map(\.rawValue))) AND state = 'succeeded' GROUP BY tenant_id"
        ).decode((UUID, Int).self).collect()
        return Dictionary(uniqueKeysWithValues: rows.map { (TenantID($0.0), $0.1) })
    }

    /// The process id of this connection's PostgreSQL backend (its parent is the server's postmaster).
    package func backendProcessID() async throws -> Int32 {
        try await query("SELECT pg_backend_pid()").decode(Int32.self).collect().first ?? 0
    }
}
