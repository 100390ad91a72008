import Foundation
import PostgresNIO
import SwitchyardCore

/// How the first attempt of one of a fan-out's deliveries ended, as its delivery job is written.
public struct FirstDeliveryAttempt: Sendable {
    public let delivery: DestinationFanOutPayload.Delivery
    /// `succeeded`, `retry` (written `failed`, due after the delay), `dead`, or `deferred` (nothing was sent: written
    /// `queued` with no attempt spent and no history, due after the delay).
    public let outcome: JobCompletion.Outcome
    /// The attempt's error, kept as the job's `last_error`; nil on success.
    public let error: String?
    public let startedAt: Date
    public let finishedAt: Date
    /// What the attempt recorded (status, the answer's first bytes, duration, `webhook-id`).
    public let detail: [String: JSONValue]

    public init(
        delivery: DestinationFanOutPayload.Delivery,
        outcome: JobCompletion.Outcome,
        error: String?,
        startedAt: Date,
        finishedAt: Date,
        detail: [String: JSONValue]
    ) {
        self.delivery = delivery
        self.outcome = outcome
        self.error = error.map(JobCompletion.storable(error:))
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.detail = detail
    }
}

extension TenantTransaction {
    /// Writes a fan-out's first attempts, each in the state the executor would have left its delivery in after that
    /// attempt: the delivered ones as rows of `delivered_first_attempts` (migration 0042), the others as their delivery
    /// jobs (waiting for their retry, or dead letters) with the same history entry, one statement for each kind.
    /// Deliveries already written (a fan-out that runs again) and deliveries whose destination was deleted meanwhile
    /// are skipped. Returns how many were written.
    @discardableResult
    public func recordFirstAttempts(_ attempts: [FirstDeliveryAttempt], of fanOut: DestinationFanOutPayload) async throws -> Int {
        let delivered = attempts.filter { $0.outcome == .succeeded }
        let others = attempts.filter { $0.outcome != .succeeded }
        var written = 0
        if !delivered.isEmpty {
            try await lockDeliveryWrites(of: fanOut)
            let statement = RecordDeliveredFirstAttemptsStatement(
                tenant: tenantID.rawValue,
                event: fanOut.eventID,
                ids: delivered.map(\.delivery.id),
                destinations: delivered.map(\.delivery.destinationID),
                started: delivered.map { $0.startedAt.timeIntervalSince1970 },
                finished: delivered.map { $0.finishedAt.timeIntervalSince1970 },
                details: delivered.map { JobCompletion.bound(detail: $0.detail) }
            )
            written += try await connection.guardedExecute(statement, statements, logger: logger).count
        }
        if !others.isEmpty {
            let states = others.map(\.outcome.written)
            let statement = RecordFirstAttemptsStatement(
                tenant: tenantID.rawValue,
                event: fanOut.eventID,
                body: fanOut.body,
                ids: others.map(\.delivery.id),
                destinations: others.map(\.delivery.destinationID),
                states: states.map(\.state),
                delays: states.map(\.delayMilliseconds),
                errors: others.map { $0.error ?? "" },
                started: others.map { $0.startedAt.timeIntervalSince1970 },
                finished: others.map { $0.finishedAt.timeIntervalSince1970 },
                details: others.map { JobCompletion.bound(detail: $0.detail) }
            )
            written += try await connection.guardedExecute(statement, statements, logger: logger).count
        }
        return written
    }

    /// Queues every delivery of a fan-out not written yet as a delivery job of its own, due now: what a fan-out does
    /// when it runs again after an attempt that may have sent some deliveries and recorded none. A receiver may then
    /// hear an event twice, with the same `webhook-id`, which is what the id is for. Returns how many were queued.
    @discardableResult
    public func queueDeliveries(of fanOut: DestinationFanOutPayload) async throws -> Int {
        guard !fanOut.deliveries.isEmpty else { return 0 }
        try await lockDeliveryWrites(of: fanOut)
        return try await query(
            """
            INSERT INTO jobs (tenant_id, id, kind, payload, max_attempts, destination_id, event_id)
            SELECT d.tenant_id, a.id, \(DestinationDeliveryPayload.kind),
                   jsonb_build_object('destination_id', a.destination_id, 'event_id', \(fanOut.eventID), 'body', \(fanOut.body)),
                   \(DestinationDeliveryPayload.maxAttempts), a.destination_id, \(fanOut.eventID)
              FROM unnest(\(fanOut.deliveries.map(\.id))::uuid[], \(fanOut.deliveries.map(\.destinationID))::uuid[]) AS a(id, destination_id)
              JOIN destinations d ON d.tenant_id = \(tenantID.rawValue) AND d.id = a.destination_id
             WHERE NOT EXISTS (SELECT 1 FROM delivered_first_attempts w WHERE w.tenant_id = d.tenant_id AND w.id = a.id)
            ON CONFLICT (tenant_id, id) DO NOTHING
            RETURNING 1
            """
        ).collect().count
    }
}

extension TenantTransaction {
    /// The advisory lock class of a fan-out's delivery writes (two-key locks do not share the key space of the
    /// one-key locks used elsewhere).
    static let fanOutLockClass: Int32 = 0x4641_4E4F  // "FANO"

    /// Makes a fan-out's two writes of its deliveries wait for each other until commit: a first attempt's write of
    /// the delivered ones (late, when it outlived its lease) and a later run's queueing of the rest. Each skips the
    /// deliveries the other wrote, which it can see only once that write committed; at the same moment, without this,
    /// both would write a delivery, once as a row and once as a job. In this transaction, before its write: in READ
    /// COMMITTED, each statement after the lock sees what the other committed.
    fileprivate func lockDeliveryWrites(of fanOut: DestinationFanOutPayload) async throws {
        _ = try await query("SELECT pg_advisory_xact_lock(\(Self.fanOutLockClass), hashtext(\(fanOut.eventID.lowercasedString)))").collect()
    }
}

/// The write of the delivered first attempts, prepared once per connection like `RecordFirstAttemptsStatement`.
struct RecordDeliveredFirstAttemptsStatement: PostgresPreparedStatement {
    static let name = "switchyard_record_delivered_first_attempts_v1"
    static let sql = """
        INSERT INTO delivered_first_attempts (tenant_id, id, destination_id, event_id, started_at, finished_at, detail)
        SELECT d.tenant_id, a.id, a.destination_id, $2::uuid, to_timestamp(a.started), to_timestamp(a.finished),
               CASE WHEN a.detail = '' THEN '{}'::jsonb ELSE a.detail::jsonb END
          FROM unnest($3::uuid[], $4::uuid[], $5::float8[], $6::float8[], $7::text[]) AS a(id, destination_id, started, finished, detail)
          JOIN destinations d ON d.tenant_id = $1::uuid AND d.id = a.destination_id
         -- A delivery is this row or a job, never both: an attempt that outlived its lease writes after the next
         -- attempt queued its deliveries as jobs.
         WHERE NOT EXISTS (SELECT 1 FROM jobs w WHERE w.tenant_id = d.tenant_id AND w.id = a.id)
        ON CONFLICT (tenant_id, id) DO NOTHING
        RETURNING 1
        """

    let tenant: UUID
    let event: UUID
    let ids: [UUID]
    let destinations: [UUID]
    let started: [Double]
    let finished: [Double]
    /// Each attempt's detail as a JSON object, or empty.
    let details: [String]

    func makeBindings() throws -> PostgresBindings {
        try bindings(tenant, event, ids, destinations, started, finished, details)
    }

    func decodeRow(_ row: PostgresRow) throws -> Int {
        try row.decode(Int.self)
    }
}

/// The write of `recordFirstAttempts`, prepared once per connection: every fan-out runs it, and planning it anew cost
/// about as much as executing it for fifty deliveries.
struct RecordFirstAttemptsStatement: PostgresPreparedStatement {
    static let name = "switchyard_record_first_attempts_v1"
    static let sql = """
        INSERT INTO jobs (tenant_id, id, kind, payload, max_attempts, destination_id, event_id, state, run_at, attempts,
                          last_error, history, started_at, finished_at)
        SELECT d.tenant_id, a.id, '\(DestinationDeliveryPayload.kind)',
               jsonb_build_object('destination_id', a.destination_id, 'event_id', $2::uuid, 'body', $3::text),
               \(DestinationDeliveryPayload.maxAttempts), a.destination_id, $2::uuid, CASE WHEN a.state = 'deferred' THEN 'queued' ELSE a.state END,
               now() + a.delay_ms * interval '1 millisecond',
               CASE WHEN a.state IN ('queued', 'deferred') THEN 0 ELSE 1 END,
               CASE WHEN a.state IN ('queued', 'deferred') THEN NULL ELSE nullif(a.error, '') END,
               CASE WHEN a.state IN ('queued', 'deferred') THEN '[]'::jsonb ELSE jsonb_build_array(
                   jsonb_build_object('attempt', 1, 'outcome', a.state, 'error', nullif(a.error, ''),
                                      'started_at', a.started, 'finished_at', a.finished,
                                      'retry_at', CASE WHEN a.state = 'failed' THEN extract(epoch FROM now() + a.delay_ms * interval '1 millisecond') END)
                   || CASE WHEN a.detail = '' THEN '{}'::jsonb ELSE jsonb_build_object('detail', a.detail::jsonb) END) END,
               CASE WHEN a.state IN ('queued', 'deferred') THEN NULL ELSE to_timestamp(a.started) END,
               CASE WHEN a.state IN ('succeeded', 'dead') THEN to_timestamp(a.finished) END
          FROM unnest($4::uuid[], $5::uuid[], $6::text[], $7::int8[], $8::text[], $9::float8[], $10::float8[], $11::text[])
               AS a(id, destination_id, state, delay_ms, error, started, finished, detail)
          JOIN destinations d ON d.tenant_id = $1::uuid AND d.id = a.destination_id
        ON CONFLICT (tenant_id, id) DO NOTHING
        RETURNING 1
        """

    let tenant: UUID
    let event: UUID
    let body: String
    let ids: [UUID]
    let destinations: [UUID]
    let states: [String]
    let delays: [Int64]
    let errors: [String]
    let started: [Double]
    let finished: [Double]
    /// Each attempt's detail as a JSON object, or empty.
    let details: [String]

    func makeBindings() throws -> PostgresBindings {
        try bindings(tenant, event, body, ids, destinations, states, delays, errors, started, finished, details)
    }

    func decodeRow(_ row: PostgresRow) throws -> Int {
        try row.decode(Int.self)
    }
}
