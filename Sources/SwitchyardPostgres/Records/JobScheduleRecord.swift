import Foundation
import PostgresNIO
import SwitchyardCore

/// A row of `job_schedules`: a tenant's recurring job.
public struct JobScheduleRecord: Sendable {
    public let id: UUID
    public let tenantID: TenantID
    public let name: String
    public let kind: String
    public let payload: String
    public let payloadVersion: Int
    public let integrationID: UUID?
    public let intervalSeconds: Int?
    public let cron: String?
    public let jitterSeconds: Int
    public let maxAttempts: Int
    public let paused: Bool
    public let nextFireAt: Date
    public let lastFiredAt: Date?
    public let createdAt: Date
    public let updatedAt: Date

    static let columns = """
        id, tenant_id, name, kind, payload::text, payload_version, integration_id, interval_seconds, cron, jitter_seconds,
        max_attempts, paused, next_fire_at, last_fired_at, created_at, updated_at
        """
    init(row: PostgresRow) throws {
        let row = NamedRow(row, table: "job_schedules")
        id = try row("id")
        tenantID = TenantID(try row("tenant_id"))
        name = try row("name")
        kind = try row("kind")
        payload = try row("payload")
        payloadVersion = try row("payload_version")
        integrationID = try row("integration_id")
        intervalSeconds = try row("interval_seconds")
        cron = try row("cron")
        jitterSeconds = try row("jitter_seconds")
        maxAttempts = try row("max_attempts")
        paused = try row("paused")
        nextFireAt = try row("next_fire_at")
        lastFiredAt = try row("last_fired_at")
        createdAt = try row("created_at")
        updatedAt = try row("updated_at")
    }
}

/// What creating a schedule needs. Exactly one of `intervalSeconds` and `cron`; `nextFireAt` is
/// computed by the caller from the rule.
public struct NewJobSchedule: Sendable {
    public var name: String
    public var kind: String
    public var payloadJSON: String
    public var payloadVersion: Int
    public var integrationID: UUID?
    public var intervalSeconds: Int?
    public var cron: String?
    public var jitterSeconds: Int
    public var maxAttempts: Int
    public var paused: Bool
    public var nextFireAt: Date

    public init(
        name: String,
        kind: String,
        payloadJSON: String,
        payloadVersion: Int,
        integrationID: UUID?,
        intervalSeconds: Int?,
        cron: String?,
        jitterSeconds: Int,
        maxAttempts: Int,
        paused: Bool,
        nextFireAt: Date
    ) {
        self.name = name
        self.kind = kind
        self.payloadJSON = payloadJSON
        self.payloadVersion = payloadVersion
        self.integrationID = integrationID
        self.intervalSeconds = intervalSeconds
        self.cron = cron
        self.jitterSeconds = jitterSeconds
        self.maxAttempts = maxAttempts
        self.paused = paused
        self.nextFireAt = nextFireAt
    }
}

/// Changes to a schedule; `nil` leaves a field as it is. A new rule comes with its `nextFireAt`.
public struct JobScheduleUpdate: Sendable {
    public var name: String?
    public var payloadJSON: String?
    public var payloadVersion: Int?
    public var rule: (intervalSeconds: Int?, cron: String?, nextFireAt: Date)?
    public var jitterSeconds: Int?
    public var maxAttempts: Int?

    public init() {}
}

extension TenantTransaction {
    public func createSchedule(_ new: NewJobSchedule) async throws -> JobScheduleRecord {
        do {
            return try await query(
                """
                INSERT INTO job_schedules (tenant_id, id, name, kind, payload, payload_version, integration_id, interval_seconds, cron,
                                           jitter_seconds, max_attempts, paused, next_fire_at)
                VALUES (\(tenantID.rawValue), \(UUID.v7()), \(new.name), \(new.kind), \(new.payloadJSON)::jsonb, \(new.payloadVersion), \(new.integrationID), \(new.intervalSeconds), \(new.cron), \(new.jitterSeconds), \(new.maxAttempts), \(new.paused), \(new.nextFireAt))
                RETURNING \(unescaped: JobScheduleRecord.columns)
                """
            ).collect().map(JobScheduleRecord.init(row:))[0]
        } catch let error as PSQLError where error.isUniqueViolation {
            throw SwitchyardError.conflict("A schedule named '\(new.name)' exists already.")
        }
    }

    public func schedule(_ id: UUID) async throws -> JobScheduleRecord? {
        try await query(
            "SELECT \(unescaped: JobScheduleRecord.columns) FROM job_schedules WHERE tenant_id = \(tenantID.rawValue) AND id = \(id)"
        ).collect().first.map(JobScheduleRecord.init(row:))
    }

    public func schedules(_ page: PageRequest) async throws -> Page<JobScheduleRecord> {
        let rows = try await query(
            """
            SELECT \(unescaped: JobScheduleRecord.columns) FROM job_schedules
             WHERE tenant_id = \(tenantID.rawValue) AND (\(page.cursor?.lastID)::uuid IS NULL OR id > \(page.cursor?.lastID)) ORDER BY id LIMIT \(page.limit + 1)
            """
        ).collect()
        return Page(fetched: try rows.map(JobScheduleRecord.init(row:)), limit: page.limit, id: \.id)
    }

    public func updateSchedule(_ id: UUID, _ update: JobScheduleUpdate) async throws -> JobScheduleRecord? {
        let changesRule = update.rule != nil
        do {
            return try await query(
                """
                UPDATE job_schedules
                   SET name = coalesce(\(update.name), name), payload = coalesce(\(update.payloadJSON)::jsonb, payload), payload_version = coalesce(\(update.payloadVersion), payload_version),
                       interval_seconds = CASE WHEN \(changesRule) THEN \(update.rule?.intervalSeconds) ELSE interval_seconds END,
                       cron = CASE WHEN \(changesRule) THEN \(update.rule?.cron) ELSE cron END,
                       next_fire_at = CASE WHEN \(changesRule) AND NOT paused THEN \(update.rule?.nextFireAt) ELSE next_fire_at END,
                       jitter_seconds = coalesce(\(update.jitterSeconds), jitter_seconds), max_attempts = coalesce(\(update.maxAttempts), max_attempts), updated_at = now()
                 WHERE tenant_id = \(tenantID.rawValue) AND id = \(id)
                RETURNING \(unescaped: JobScheduleRecord.columns)
                """
            ).collect().first.map(JobScheduleRecord.init(row:))
        } catch let error as PSQLError where error.isUniqueViolation {
            throw SwitchyardError.conflict("A schedule named '\(update.name ?? "")' exists already.")
        }
    }

    /// Pauses, or resumes with the next fire the rule gives from now (missed fires are not made up).
    public func setSchedulePaused(_ id: UUID, paused: Bool, nextFireAt: Date?) async throws -> JobScheduleRecord? {
        try await query(
            """
            UPDATE job_schedules SET paused = \(paused), next_fire_at = coalesce(\(nextFireAt), next_fire_at), updated_at = now()
             WHERE tenant_id = \(tenantID.rawValue) AND id = \(id)
            RETURNING \(unescaped: JobScheduleRecord.columns)
            """
        ).collect().first.map(JobScheduleRecord.init(row:))
    }

    /// Deletes the schedule; jobs it already fired stay. Returns whether it existed.
    public func deleteSchedule(_ id: UUID) async throws -> Bool {
        try await query("DELETE FROM job_schedules WHERE tenant_id = \(tenantID.rawValue) AND id = \(id) RETURNING id")
            .decode(UUID.self).collect().isEmpty == false
    }
}
