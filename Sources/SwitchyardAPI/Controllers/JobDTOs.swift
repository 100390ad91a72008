import Foundation
import SwitchyardCore
import SwitchyardPostgres

/// A job as the API shows it, with its attempt history.
struct JobResponse: Encodable, Sendable {
    let record: JobRecord

    enum CodingKeys: String, CodingKey {
        case id, kind, payload, state, priority, attempts, history
        case payloadVersion = "payload_version"
        case integrationID = "integration_id"
        case runAt = "run_at"
        case maxAttempts = "max_attempts"
        case lastError = "last_error"
        case uniqueKey = "unique_key"
        case scheduleID = "schedule_id"
        case fireTime = "fire_time"
        case createdAt = "created_at"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case updatedAt = "updated_at"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(record.id.lowercasedString, forKey: .id)
        try container.encode(record.kind, forKey: .kind)
        try container.encode(try JSONText.decode(JSONValue.self, record.payload, column: "jobs.payload", row: record.id), forKey: .payload)
        try container.encode(record.payloadVersion, forKey: .payloadVersion)
        try container.encode(record.integrationID?.lowercasedString, forKey: .integrationID)
        try container.encode(record.state, forKey: .state)
        try container.encode(record.priority, forKey: .priority)
        try container.encode(record.runAt, forKey: .runAt)
        try container.encode(record.attempts, forKey: .attempts)
        try container.encode(record.maxAttempts, forKey: .maxAttempts)
        try container.encode(record.lastError, forKey: .lastError)
        try container.encode(record.uniqueKey, forKey: .uniqueKey)
        try container.encode(record.scheduleID?.lowercasedString, forKey: .scheduleID)
        try container.encode(record.fireTime, forKey: .fireTime)
        try container.encode(record.history.map(JobAttemptResponse.init), forKey: .history)
        try container.encode(record.createdAt, forKey: .createdAt)
        try container.encode(record.startedAt, forKey: .startedAt)
        try container.encode(record.finishedAt, forKey: .finishedAt)
        try container.encode(record.updatedAt, forKey: .updatedAt)
    }
}

struct JobAttemptResponse: Encodable, Sendable {
    let attempt: JobAttempt

    enum CodingKeys: String, CodingKey {
        case attempt, outcome, error
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case retryAt = "retry_at"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(attempt.attempt, forKey: .attempt)
        try container.encode(attempt.outcome, forKey: .outcome)
        try container.encode(attempt.error, forKey: .error)
        try container.encode(attempt.startedAt, forKey: .startedAt)
        try container.encode(attempt.finishedAt, forKey: .finishedAt)
        try container.encode(attempt.retryAt, forKey: .retryAt)
    }
}

/// The limits of the `jobs` and `job_schedules` CHECK constraints, with messages that name the field.
enum JobRules {
    static func validate(maxAttempts: Int?) throws(SwitchyardError) {
        if let maxAttempts, !(1...100).contains(maxAttempts) { throw .validation("max_attempts must be from 1 to 100.") }
    }

    static func validate(priority: Int?) throws(SwitchyardError) {
        if let priority, !(-1000...1000).contains(priority) { throw .validation("priority must be from -1000 to 1000 (lower runs first).") }
    }

    static func validate(uniqueKey: String?) throws(SwitchyardError) {
        if let uniqueKey, !(1...200).contains(uniqueKey.codePointCount) { throw .validation("unique_key must be 1 to 200 characters.") }
    }

    static func validate(name: String?) throws(SwitchyardError) {
        if let name, !(1...200).contains(name.codePointCount) { throw .validation("name must be 1 to 200 characters.") }
    }

    static func validate(jitterSeconds: Int?) throws(SwitchyardError) {
        if let jitterSeconds, !(0...86_400).contains(jitterSeconds) { throw .validation("jitter_seconds must be from 0 to 86400.") }
    }

    static func validate(intervalSeconds: Int?) throws(SwitchyardError) {
        if let intervalSeconds, !(1...31_622_400).contains(intervalSeconds) {
            throw .validation("interval_seconds must be from 1 to 31622400 (a year).")
        }
    }

    /// The fields schedule bodies share, each optional.
    static func validateSchedule(
        name: String?,
        payload: JSONValue?,
        intervalSeconds: Int?,
        jitterSeconds: Int?,
        maxAttempts: Int?
    ) throws(SwitchyardError) {
        try validate(name: name)
        try validate(payload: payload)
        try validate(intervalSeconds: intervalSeconds)
        try validate(jitterSeconds: jitterSeconds)
        try validate(maxAttempts: maxAttempts)
    }

    static func validate(payload: JSONValue?) throws(SwitchyardError) {
        if let payload, case .object = payload {} else if payload != nil { throw .validation("payload must be a JSON object.") }
    }
}

/// `POST /v1/jobs`: enqueue a job of a kind tenants may run.
struct JobCreateBody: StrictJSONBody {
    static let fields: Set<String>? = ["kind", "payload", "run_at", "priority", "max_attempts", "unique_key", "integration_id"]
    static let freeFormFields: Set<String> = ["payload"]
    let kind: String
    let payload: JSONValue?
    let runAt: Date?
    let priority: Int?
    let maxAttempts: Int?
    let uniqueKey: String?
    let integrationID: UUID?

    enum CodingKeys: String, CodingKey {
        case kind, payload, priority
        case runAt = "run_at"
        case maxAttempts = "max_attempts"
        case uniqueKey = "unique_key"
        case integrationID = "integration_id"
    }

    func validate() throws(SwitchyardError) {
        try JobRules.validate(payload: payload)
        try JobRules.validate(priority: priority)
        try JobRules.validate(maxAttempts: maxAttempts)
        try JobRules.validate(uniqueKey: uniqueKey)
    }
}

/// `POST /v1/dead-letters/redrive`: which dead letters to run again.
struct RedriveBody: StrictJSONBody {
    static let fields: Set<String>? = ["ids", "kind", "integration_id", "limit"]
    let ids: [UUID]?
    let kind: String?
    let integrationID: UUID?
    let limit: Int?

    enum CodingKeys: String, CodingKey {
        case ids, kind, limit
        case integrationID = "integration_id"
    }

    func validate() throws(SwitchyardError) {
        if let ids, !(1...1000).contains(ids.count) { throw .validation("ids must list 1 to 1000 job ids.") }
        if let limit, !(1...10_000).contains(limit) { throw .validation("limit must be from 1 to 10000.") }
    }
}

struct RedriveResponse: Encodable, Sendable {
    let jobs: [JobRecord]

    enum CodingKeys: String, CodingKey {
        case redriven, ids
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(jobs.count, forKey: .redriven)
        try container.encode(jobs.map(\.id.lowercasedString), forKey: .ids)
    }
}

/// A schedule as the API shows it.
struct ScheduleResponse: Encodable, Sendable {
    let record: JobScheduleRecord

    enum CodingKeys: String, CodingKey {
        case id, name, kind, payload, cron, paused
        case integrationID = "integration_id"
        case intervalSeconds = "interval_seconds"
        case jitterSeconds = "jitter_seconds"
        case maxAttempts = "max_attempts"
        case nextFireAt = "next_fire_at"
        case lastFiredAt = "last_fired_at"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(record.id.lowercasedString, forKey: .id)
        try container.encode(record.name, forKey: .name)
        try container.encode(record.kind, forKey: .kind)
        try container.encode(try JSONText.decode(JSONValue.self, record.payload, column: "job_schedules.payload", row: record.id), forKey: .payload)
        try container.encode(record.integrationID?.lowercasedString, forKey: .integrationID)
        try container.encode(record.intervalSeconds, forKey: .intervalSeconds)
        try container.encode(record.cron, forKey: .cron)
        try container.encode(record.jitterSeconds, forKey: .jitterSeconds)
        try container.encode(record.maxAttempts, forKey: .maxAttempts)
        try container.encode(record.paused, forKey: .paused)
        try container.encode(record.nextFireAt, forKey: .nextFireAt)
        try container.encode(record.lastFiredAt, forKey: .lastFiredAt)
        try container.encode(record.createdAt, forKey: .createdAt)
        try container.encode(record.updatedAt, forKey: .updatedAt)
    }
}

/// `POST /v1/schedules`.
struct ScheduleCreateBody: StrictJSONBody {
    static let fields: Set<String>? = [
        "name", "kind", "payload", "interval_seconds", "cron", "jitter_seconds", "max_attempts", "paused", "integration_id",
    ]
    static let freeFormFields: Set<String> = ["payload"]
    let name: String
    let kind: String
    let payload: JSONValue?
    let intervalSeconds: Int?
    let cron: String?
    let jitterSeconds: Int?
    let maxAttempts: Int?
    let paused: Bool?
    let integrationID: UUID?

    enum CodingKeys: String, CodingKey {
        case name, kind, payload, cron, paused
        case intervalSeconds = "interval_seconds"
        case jitterSeconds = "jitter_seconds"
        case maxAttempts = "max_attempts"
        case integrationID = "integration_id"
    }

    func validate() throws(SwitchyardError) {
        try JobRules.validateSchedule(
            name: name,
            payload: payload,
            intervalSeconds: intervalSeconds,
            jitterSeconds: jitterSeconds,
            maxAttempts: maxAttempts
        )
        guard (intervalSeconds == nil) != (cron == nil) else { throw .validation("Send exactly one of interval_seconds and cron.") }
    }
}

/// `PATCH /v1/schedules/{id}`: the kind stays; everything else may change.
struct ScheduleUpdateBody: StrictJSONBody {
    static let fields: Set<String>? = ["name", "payload", "interval_seconds", "cron", "jitter_seconds", "max_attempts"]
    static let freeFormFields: Set<String> = ["payload"]
    let name: String?
    let payload: JSONValue?
    let intervalSeconds: Int?
    let cron: String?
    let jitterSeconds: Int?
    let maxAttempts: Int?

    enum CodingKeys: String, CodingKey {
        case name, payload, cron
        case intervalSeconds = "interval_seconds"
        case jitterSeconds = "jitter_seconds"
        case maxAttempts = "max_attempts"
    }

    func validate() throws(SwitchyardError) {
        guard name != nil || payload != nil || intervalSeconds != nil || cron != nil || jitterSeconds != nil || maxAttempts != nil else {
            throw .validation("Send at least one of: \((Self.fields ?? []).sorted().joined(separator: ", ")).")
        }
        guard intervalSeconds == nil || cron == nil else { throw .validation("Send at most one of interval_seconds and cron.") }
        try JobRules.validateSchedule(
            name: name,
            payload: payload,
            intervalSeconds: intervalSeconds,
            jitterSeconds: jitterSeconds,
            maxAttempts: maxAttempts
        )
    }
}
