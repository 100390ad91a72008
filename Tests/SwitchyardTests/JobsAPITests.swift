import Foundation
import HTTPTypes
import HummingbirdTesting
import OpenAPIRuntime
import SwitchyardAPIClient
import SwitchyardAPIContract
import SwitchyardCore
import SwitchyardJobs
import SwitchyardPostgres
import SwitchyardTestSupport
import Testing

/// Through the generated client, except where a test sends what the document refuses (unknown fields, not JSON) or
/// must see the raw text.
@Suite("Jobs, dead letters and schedules API")
struct JobsAPITests {
    /// 2099-01-01T00:00:00Z
    static let later = Date(timeIntervalSince1970: 4_070_908_800)

    @Test("a job is enqueued, listed with filters, shown, cancelled and retried; bad input gets problem answers")
    func jobsLifecycle() async throws {
        try await TestEnvironment.make().withApp { (client: any TestClientProtocol) async throws in
            let tenant = try await client.makeTenant(slug: "jobs")
            let api = client.api(key: tenant.key)
            let job = try await api.createJob(
                body: .json(
                    .init(kind: "noop", payload: try OpenAPIObjectContainer(unvalidatedValue: ["note": "hello"]), runAt: Self.later, priority: 5)
                )
            ).created.body.json
            #expect(job.state == .queued && job.kind == "noop" && job.priority == 5)
            #expect(job.payload.value["note"] as? String == "hello")

            // The same unique key answers with the active job.
            let keyed = try await api.createJob(body: .json(.init(kind: "noop", runAt: Self.later, uniqueKey: "k1"))).created.body.json
            let again = try await api.createJob(body: .json(.init(kind: "noop", runAt: Self.later, uniqueKey: "k1"))).ok.body.json
            #expect(keyed.id == again.id)

            #expect(try await api.listJobs().ok.body.json.data.count == 2)
            #expect(try await api.listJobs(query: .init(state: "queued,running", kind: "noop")).ok.body.json.data.count == 2)
            #expect(try await api.listJobs(query: .init(state: "dead")).ok.body.json.data.isEmpty)
            let paged = try await api.listJobs(query: .init(limit: 1)).ok.body.json
            let cursor = try #require(paged.nextCursor)
            let second = try await api.listJobs(query: .init(limit: 1, cursor: cursor)).ok.body.json.data
            let first = try #require(paged.data.first).id
            #expect(second.count == 1 && second[0].id != first)

            let shown = try await api.getJob(path: .init(jobId: job.id)).ok.body.json
            #expect(shown.history.isEmpty)

            let cancelled = try await api.cancelJob(path: .init(jobId: job.id)).ok.body.json
            #expect(cancelled.state == .cancelled)
            _ = try await api.cancelJob(path: .init(jobId: job.id)).conflict
            let retried = try await api.retryJob(path: .init(jobId: job.id)).ok.body.json
            #expect(retried.state == .queued)
            _ = try await api.retryJob(path: .init(jobId: job.id)).conflict

            _ = try await api.createJob(body: .json(.init(kind: "oauth.refresh"))).unprocessableContent
            let wrongPayload = try OpenAPIObjectContainer(unvalidatedValue: ["sleep_ms": "long"])
            _ = try await api.createJob(body: .json(.init(kind: "noop", payload: wrongPayload))).unprocessableContent
            // Fields the document does not have, and a body that is not JSON, go raw.
            let unknown = try await client.request(.post, "/v1/jobs", key: tenant.key, json: #"{"kind":"noop","state":"succeeded"}"#)
            #expect(try TypedBody.problem(unknown, .unprocessableContent).detail?.contains("state") == true)
            _ = try await api.createJob(body: .json(.init(kind: "noop", maxAttempts: 0))).unprocessableContent
            _ = try await api.createJob(body: .json(.init(kind: "noop", integrationId: UUID().uuidString))).unprocessableContent
            _ = try TypedBody.problem(try await client.request(.post, "/v1/jobs", key: tenant.key, json: "not json"), .badRequest)
            _ = try await api.listJobs(query: .init(state: "sleeping")).badRequest
            _ = try await api.getJob(path: .init(jobId: UUID().uuidString)).notFound
            _ = try await api.cancelJob(path: .init(jobId: UUID().uuidString)).notFound

            let reader = client.api(key: try await IntegrationsAPITests.key(client, tenant: tenant.id, scopes: [.read]))
            _ = try await reader.cancelJob(path: .init(jobId: job.id)).forbidden
            _ = try await reader.getJob(path: .init(jobId: job.id)).ok
        }
    }

    @Test("a permanent failure dead-letters the job with its error; redrive by filter runs it again")
    func deadLettersAndRedrive() async throws {
        let environment = try await TestEnvironment.make()
        let logger = environment.logger
        let failure = FailureSwitch()
        var registry = JobRegistry.standard()
        registry.register(SwitchedHandler(failure: failure))
        let jobs = registry
        try await environment.withApp { (client: any TestClientProtocol) async throws in
            let made = try await client.makeTenant(slug: "dead-letters")
            let api = client.api(key: made.key)
            let tenant = TenantID(try #require(UUID(uuidString: made.id)))
            try await environment.withDatabase(maxConnections: 8) { database in
                let ids = [
                    try await database.enqueue(try NewJob(SwitchedPayload()), for: tenant, logger: logger),
                    try await database.enqueue(try NewJob(SwitchedPayload()), for: tenant, logger: logger),
                ]
                try await database.withExecutor(registry: jobs, logger: logger) {
                    try await eventually("both jobs are dead") { try await database.count(.dead, of: tenant, logger: logger) == 2 }
                }
                let dead = try await api.listDeadLetters(query: .init(kind: "test.switched")).ok.body.json.data
                #expect(Set(dead.map(\.id)) == Set(ids.map(\.lowercasedString)))
                let shown = try await api.getJob(path: .init(jobId: ids[0].lowercasedString)).ok.body.json
                #expect(shown.lastError == "the destination rejected the payload")
                #expect(
                    shown.history.count == 1 && shown.history[0].outcome == .dead
                        && shown.history[0].error == "the destination rejected the payload"
                )
                #expect(shown.attempts == 1)  // permanent: no retries

                failure.fix()
                let one = try await api.redriveDeadLetters(body: .json(.init(ids: [ids[0].lowercasedString]))).ok.body.json
                #expect(one.redriven == 1)
                let rest = try await api.redriveDeadLetters(body: .json(.init(kind: "test.switched"))).ok.body.json
                #expect(rest.redriven == 1)
                let unknown = try await client.request(.post, "/v1/dead-letters/redrive", key: made.key, json: #"{"kinds":"x"}"#)
                #expect(try TypedBody.problem(unknown, .unprocessableContent).detail?.contains("kinds") == true)
                try await database.withExecutor(registry: jobs, logger: logger) {
                    try await eventually("both redriven jobs succeed") { try await database.count(.succeeded, of: tenant, logger: logger) == 2 }
                }
                #expect(try await api.listDeadLetters().ok.body.json.data.isEmpty)
                let redriven = try await database.job(ids[0], of: tenant, logger: logger)
                #expect(redriven.history.map(\.outcome) == ["dead", "succeeded"])
            }
        }
    }

    @Test("schedules are created, listed, updated, paused, resumed and deleted; invalid rules are refused")
    func schedules() async throws {
        try await TestEnvironment.make().withApp { (client: any TestClientProtocol) async throws in
            let tenant = try await client.makeTenant(slug: "schedules")
            let api = client.api(key: tenant.key)
            let schedule = try await api.createSchedule(
                body: .json(.init(name: "nightly", kind: "noop", cron: "0  3 * * *", jitterSeconds: 30))
            ).created.body.json
            #expect(schedule.cron == "0 3 * * *" && schedule.paused == false)
            _ = try await api.createSchedule(body: .json(.init(name: "nightly", kind: "noop", intervalSeconds: 60))).conflict
            let refused: [Components.Schemas.ScheduleCreate] = [
                .init(name: "x", kind: "noop", cron: "61 * * * *"), .init(name: "x", kind: "noop"),
                .init(name: "x", kind: "noop", intervalSeconds: 5, cron: "* * * * *"), .init(name: "x", kind: "nope", intervalSeconds: 5),
                .init(name: "x", kind: "noop", intervalSeconds: 0),
            ]
            for bad in refused {
                _ = try await api.createSchedule(body: .json(bad)).unprocessableContent
            }
            // A field the document does not have goes raw.
            let unknown = try await client.request(
                .post,
                "/v1/schedules",
                key: tenant.key,
                json: #"{"name":"x","kind":"noop","interval_seconds":5,"next_fire_at":"2030-01-01T00:00:00Z"}"#
            )
            #expect(try TypedBody.problem(unknown, .unprocessableContent).detail?.contains("next_fire_at") == true)
            #expect(try await api.listSchedules().ok.body.json.data.count == 1)

            // Raw, to see that `cron` is present as null: the generated type reads a missing key as nil too.
            let updated = try await client.request(
                .patch,
                "/v1/schedules/\(schedule.id)",
                key: tenant.key,
                json: #"{"interval_seconds":600,"payload":{"note":"n"}}"#
            )
            let body = try TypedBody.decode(Components.Schemas.Schedule.self, updated)
            #expect(updated.status == .ok && body.intervalSeconds == 600 && body.cron == nil, "\(updated.text)")
            #expect(updated.text.contains(#""cron":null"#), "\(updated.text)")
            #expect(body.payload.value["note"] as? String == "n")
            let empty = try await api.updateSchedule(path: .init(scheduleId: schedule.id), body: .json(.init())).unprocessableContent.body
                .applicationProblemJson
            #expect(empty.detail?.contains("at least one of") == true)

            #expect(try await api.pauseSchedule(path: .init(scheduleId: schedule.id)).ok.body.json.paused == true)
            #expect(try await api.resumeSchedule(path: .init(scheduleId: schedule.id)).ok.body.json.paused == false)
            _ = try await api.deleteSchedule(path: .init(scheduleId: schedule.id)).noContent
            _ = try await api.getSchedule(path: .init(scheduleId: schedule.id)).notFound
            _ = try await api.deleteSchedule(path: .init(scheduleId: schedule.id)).notFound
        }
    }
}
