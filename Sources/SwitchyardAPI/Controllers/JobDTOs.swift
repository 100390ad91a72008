import Foundation
import OpenAPIRuntime
import SwitchyardAPIContract
import SwitchyardCore
import SwitchyardPostgres

extension Components.Schemas.Job {
    /// A job as the API shows it, with its attempt history.
    init(_ record: JobRecord) throws {
        self.init(
            id: record.id.lowercasedString,
            kind: record.kind,
            payload: try JSONText.decode(OpenAPIObjectContainer.self, record.payload, column: "jobs.payload", row: record.id),
            payloadVersion: record.payloadVersion,
            integrationId: record.integrationID?.lowercasedString,
            state: .init(record.state),
            priority: record.priority,
            runAt: record.runAt,
            attempts: record.attempts,
            maxAttempts: record.maxAttempts,
            lastError: record.lastError,
            uniqueKey: record.uniqueKey,
            scheduleId: record.scheduleID?.lowercasedString,
            fireTime: record.fireTime,
            history: try record.history.map { try Components.Schemas.JobAttempt($0, job: record.id) },
            createdAt: record.createdAt,
            startedAt: record.startedAt,
            finishedAt: record.finishedAt,
            updatedAt: record.updatedAt
        )
    }
}

extension Components.Schemas.JobAttempt {
    init(_ attempt: JobAttempt, job: UUID) throws {
        guard let outcome = OutcomePayload(rawValue: attempt.outcome) else {
            throw SwitchyardError.internal("jobs.history of row \(job.lowercasedString) has the unknown outcome '\(attempt.outcome)'")
        }
        self.init(
            attempt: attempt.attempt,
            outcome: outcome,
            error: attempt.error,
            startedAt: attempt.startedAt,
            finishedAt: attempt.finishedAt,
            retryAt: attempt.retryAt
        )
    }
}

extension Components.Schemas.JobState {
    init(_ state: JobState) {
        switch state {
        case .queued: self = .queued
        case .running: self = .running
        case .succeeded: self = .succeeded
        case .failed: self = .failed
        case .dead: self = .dead
        case .cancelled: self = .cancelled
        }
    }
}

extension Components.Schemas.JobList {
    init(_ page: Page<JobRecord>) throws {
        self.init(data: try page.items.map(Components.Schemas.Job.init), nextCursor: page.nextCursor?.token)
    }
}

extension Components.Schemas.RedriveResult {
    init(_ jobs: [JobRecord]) {
        self.init(redriven: jobs.count, ids: jobs.map(\.id.lowercasedString))
    }
}

extension Components.Schemas.Schedule {
    /// A schedule as the API shows it.
    init(_ record: JobScheduleRecord) throws {
        self.init(
            id: record.id.lowercasedString,
            name: record.name,
            kind: record.kind,
            payload: try JSONText.decode(OpenAPIObjectContainer.self, record.payload, column: "job_schedules.payload", row: record.id),
            integrationId: record.integrationID?.lowercasedString,
            intervalSeconds: record.intervalSeconds,
            cron: record.cron,
            jitterSeconds: record.jitterSeconds,
            maxAttempts: record.maxAttempts,
            paused: record.paused,
            nextFireAt: record.nextFireAt,
            lastFiredAt: record.lastFiredAt,
            createdAt: record.createdAt,
            updatedAt: record.updatedAt
        )
    }
}

extension Components.Schemas.ScheduleList {
    init(_ page: Page<JobScheduleRecord>) throws {
        self.init(data: try page.items.map(Components.Schemas.Schedule.init), nextCursor: page.nextCursor?.token)
    }
}

extension OpenAPIObjectContainer {
    /// The object as JSON, for handing a tenant's payload to the job kind that checks it.
    var data: Data {
        get throws { try JSONEncoder().encode(self) }
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

    /// The fields schedule bodies share, each optional. (`payload` is a JSON object by its type: `StrictJSONBody`
    /// refuses any other JSON in a free-form field.)
    static func validateSchedule(
        name: String?,
        intervalSeconds: Int?,
        jitterSeconds: Int?,
        maxAttempts: Int?
    ) throws(SwitchyardError) {
        try validate(name: name)
        try validate(intervalSeconds: intervalSeconds)
        try validate(jitterSeconds: jitterSeconds)
        try validate(maxAttempts: maxAttempts)
    }
}

/// `POST /v1/jobs`: enqueue a job of a kind tenants may run.
extension Components.Schemas.JobCreate: StrictJSONBody {
    static let freeFormFields: Set<String> = ["payload"]

    func validate() throws(SwitchyardError) {
        _ = try integrationID
        try JobRules.validate(priority: priority)
        try JobRules.validate(maxAttempts: maxAttempts)
        try JobRules.validate(uniqueKey: uniqueKey)
    }

    var integrationID: UUID? {
        get throws(SwitchyardError) { try UUIDField.parse(ifPresent: integrationId, field: "integration_id") }
    }
}

/// `POST /v1/dead-letters/redrive`: which dead letters to run again.
extension Components.Schemas.RedriveRequest: StrictJSONBody {
    func validate() throws(SwitchyardError) {
        _ = try jobIDs
        _ = try integrationID
        if let ids, !(1...1000).contains(ids.count) { throw .validation("ids must list 1 to 1000 job ids.") }
        if let limit, !(1...10_000).contains(limit) { throw .validation("limit must be from 1 to 10000.") }
    }

    var jobIDs: [UUID]? {
        get throws(SwitchyardError) {
            guard let ids else { return nil }
            var parsed: [UUID] = []
            for (index, id) in ids.enumerated() { parsed.append(try UUIDField.parse(id, field: "ids[\(index)]")) }
            return parsed
        }
    }

    var integrationID: UUID? {
        get throws(SwitchyardError) { try UUIDField.parse(ifPresent: integrationId, field: "integration_id") }
    }
}

/// `POST /v1/schedules`.
extension Components.Schemas.ScheduleCreate: StrictJSONBody {
    static let freeFormFields: Set<String> = ["payload"]

    func validate() throws(SwitchyardError) {
        _ = try integrationID
        try JobRules.validateSchedule(
            name: name,
            intervalSeconds: intervalSeconds,
            jitterSeconds: jitterSeconds,
            maxAttempts: maxAttempts
        )
        guard (intervalSeconds == nil) != (cron == nil) else { throw .validation("Send exactly one of interval_seconds and cron.") }
    }

    var integrationID: UUID? {
        get throws(SwitchyardError) { try UUIDField.parse(ifPresent: integrationId, field: "integration_id") }
    }
}

/// `PATCH /v1/schedules/{id}`: the kind stays; everything else may change.
extension Components.Schemas.ScheduleUpdate: StrictJSONBody {
    static let freeFormFields: Set<String> = ["payload"]

    func validate() throws(SwitchyardError) {
        guard name != nil || payload != nil || intervalSeconds != nil || cron != nil || jitterSeconds != nil || maxAttempts != nil else {
            throw .validation("Send at least one of: cron, interval_seconds, jitter_seconds, max_attempts, name, payload.")
        }
        guard intervalSeconds == nil || cron == nil else { throw .validation("Send at most one of interval_seconds and cron.") }
        try JobRules.validateSchedule(
            name: name,
            intervalSeconds: intervalSeconds,
            jitterSeconds: jitterSeconds,
            maxAttempts: maxAttempts
        )
    }
}
