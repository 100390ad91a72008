import Foundation
import HTTPTypes
import HummingbirdTesting
import SwitchyardCore
import SwitchyardJobs
import SwitchyardPostgres
import SwitchyardTestSupport
import Testing

@Suite("Jobs, dead letters and schedules API")
struct JobsAPITests {
    static let later = "2099-01-01T00:00:00Z"

    static func items(_ response: TestResponse) throws -> [[String: Any]] {
        try #require(try response.jsonObject()["data"] as? [[String: Any]], "\(response.text)")
    }

    @Test("a job is enqueued, listed with filters, shown, cancelled and retried; bad input gets problem answers")
    func jobsLifecycle() async throws {
        try await TestEnvironment.make().withApp { (client: any TestClientProtocol) async throws in
            let tenant = try await client.makeTenant(slug: "jobs")
            let created = try await client.request(
                .post,
                "/v1/jobs",
                key: tenant.key,
                json: #"{"kind":"noop","payload":{"note":"hello"},"run_at":"\#(Self.later)","priority":5}"#
            )
            #expect(created.status == .created, "\(created.text)")
            let job = try created.jsonObject()
            let id = try #require(job["id"] as? String)
            #expect(job["state"] as? String == "queued" && job["kind"] as? String == "noop" && job["priority"] as? Int == 5)
            #expect((job["payload"] as? [String: Any])?["note"] as? String == "hello")

            // The same unique key answers with the active job.
            let keyed = try await client.request(
                .post,
                "/v1/jobs",
                key: tenant.key,
                json: #"{"kind":"noop","unique_key":"k1","run_at":"\#(Self.later)"}"#
            )
            let again = try await client.request(
                .post,
                "/v1/jobs",
                key: tenant.key,
                json: #"{"kind":"noop","unique_key":"k1","run_at":"\#(Self.later)"}"#
            )
            #expect(keyed.status == .created && again.status == .ok)
            #expect(try keyed.jsonObject()["id"] as? String == (try again.jsonObject()["id"] as? String))

            #expect(try Self.items(try await client.request(.get, "/v1/jobs", key: tenant.key)).count == 2)
            #expect(try Self.items(try await client.request(.get, "/v1/jobs?state=queued,running&kind=noop", key: tenant.key)).count == 2)
            #expect(try Self.items(try await client.request(.get, "/v1/jobs?state=dead", key: tenant.key)).isEmpty)
            let paged = try await client.request(.get, "/v1/jobs?limit=1", key: tenant.key)
            let cursor = try #require(try paged.jsonObject()["next_cursor"] as? String)
            let second = try Self.items(try await client.request(.get, "/v1/jobs?limit=1&cursor=\(cursor)", key: tenant.key))
            let first = try Self.items(paged)[0]["id"] as? String
            #expect(second.count == 1 && second[0]["id"] as? String != first)

            let shown = try await client.request(.get, "/v1/jobs/\(id)", key: tenant.key)
            let history = try shown.jsonObject()["history"] as? [Any]
            #expect(shown.status == .ok && history?.isEmpty == true)

            let cancelled = try await client.request(.post, "/v1/jobs/\(id)/cancel", key: tenant.key)
            #expect(try cancelled.jsonObject()["state"] as? String == "cancelled")
            #expect(try await client.request(.post, "/v1/jobs/\(id)/cancel", key: tenant.key).status == .conflict)
            let retried = try await client.request(.post, "/v1/jobs/\(id)/retry", key: tenant.key)
            #expect(try retried.jsonObject()["state"] as? String == "queued", "\(retried.text)")
            #expect(try await client.request(.post, "/v1/jobs/\(id)/retry", key: tenant.key).status == .conflict)

            #expect(try await client.request(.post, "/v1/jobs", key: tenant.key, json: #"{"kind":"oauth.refresh"}"#).status == .unprocessableContent)
            #expect(
                try await client.request(.post, "/v1/jobs", key: tenant.key, json: #"{"kind":"noop","payload":{"sleep_ms":"long"}}"#).status
                    == .unprocessableContent
            )
            #expect(
                try await client.request(.post, "/v1/jobs", key: tenant.key, json: #"{"kind":"noop","state":"succeeded"}"#).status
                    == .unprocessableContent
            )
            #expect(
                try await client.request(.post, "/v1/jobs", key: tenant.key, json: #"{"kind":"noop","max_attempts":0}"#).status
                    == .unprocessableContent
            )
            #expect(
                try await client.request(.post, "/v1/jobs", key: tenant.key, json: #"{"kind":"noop","integration_id":"\#(UUID().uuidString)"}"#)
                    .status == .unprocessableContent
            )
            #expect(try await client.request(.post, "/v1/jobs", key: tenant.key, json: "not json").status == .badRequest)
            #expect(try await client.request(.get, "/v1/jobs?state=sleeping", key: tenant.key).status == .badRequest)
            #expect(try await client.request(.get, "/v1/jobs/\(UUID().uuidString)", key: tenant.key).status == .notFound)
            #expect(try await client.request(.post, "/v1/jobs/\(UUID().uuidString)/cancel", key: tenant.key).status == .notFound)

            let reader = try await IntegrationsAPITests.key(client, tenant: tenant.id, scopes: [.read])
            #expect(try await client.request(.post, "/v1/jobs/\(id)/cancel", key: reader).status == .forbidden)
            #expect(try await client.request(.get, "/v1/jobs/\(id)", key: reader).status == .ok)
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
            let tenant = TenantID(try #require(UUID(uuidString: made.id)))
            try await environment.withDatabase(maxConnections: 8) { database in
                let ids = [
                    try await database.enqueue(try NewJob(SwitchedPayload()), for: tenant, logger: logger),
                    try await database.enqueue(try NewJob(SwitchedPayload()), for: tenant, logger: logger),
                ]
                try await database.withExecutor(registry: jobs, logger: logger) {
                    try await eventually("both jobs are dead") { try await database.count(.dead, of: tenant, logger: logger) == 2 }
                }
                let dead = try Self.items(try await client.request(.get, "/v1/dead-letters?kind=test.switched", key: made.key))
                #expect(Set(dead.compactMap { $0["id"] as? String }) == Set(ids.map(\.lowercasedString)))
                let shown = try await client.request(.get, "/v1/jobs/\(ids[0].lowercasedString)", key: made.key).jsonObject()
                #expect(shown["last_error"] as? String == "the destination rejected the payload")
                let history = try #require(shown["history"] as? [[String: Any]])
                #expect(
                    history.count == 1 && history[0]["outcome"] as? String == "dead"
                        && history[0]["error"] as? String == "the destination rejected the payload"
                )
                #expect(shown["attempts"] as? Int == 1)  // permanent: no retries

                failure.fix()
                let one = try await client.request(
                    .post,
                    "/v1/dead-letters/redrive",
                    key: made.key,
                    json: #"{"ids":["\#(ids[0].lowercasedString)"]}"#
                )
                #expect(try one.jsonObject()["redriven"] as? Int == 1, "\(one.text)")
                let rest = try await client.request(.post, "/v1/dead-letters/redrive", key: made.key, json: #"{"kind":"test.switched"}"#)
                #expect(try rest.jsonObject()["redriven"] as? Int == 1, "\(rest.text)")
                #expect(
                    try await client.request(.post, "/v1/dead-letters/redrive", key: made.key, json: #"{"kinds":"x"}"#).status
                        == .unprocessableContent
                )
                try await database.withExecutor(registry: jobs, logger: logger) {
                    try await eventually("both redriven jobs succeed") { try await database.count(.succeeded, of: tenant, logger: logger) == 2 }
                }
                #expect(try Self.items(try await client.request(.get, "/v1/dead-letters", key: made.key)).isEmpty)
                let redriven = try await database.job(ids[0], of: tenant, logger: logger)
                #expect(redriven.history.map(\.outcome) == ["dead", "succeeded"])
            }
        }
    }

    @Test("schedules are created, listed, updated, paused, resumed and deleted; invalid rules are refused")
    func schedules() async throws {
        try await TestEnvironment.make().withApp { (client: any TestClientProtocol) async throws in
            let tenant = try await client.makeTenant(slug: "schedules")
            let created = try await client.request(
                .post,
                "/v1/schedules",
                key: tenant.key,
                json: #"{"name":"nightly","kind":"noop","cron":"0  3 * * *","jitter_seconds":30}"#
            )
            #expect(created.status == .created, "\(created.text)")
            let schedule = try created.jsonObject()
            let id = try #require(schedule["id"] as? String)
            #expect(schedule["cron"] as? String == "0 3 * * *" && schedule["paused"] as? Bool == false && schedule["next_fire_at"] is String)
            #expect(
                try await client.request(.post, "/v1/schedules", key: tenant.key, json: #"{"name":"nightly","kind":"noop","interval_seconds":60}"#)
                    .status == .conflict
            )
            for bad in [
                #"{"name":"x","kind":"noop","cron":"61 * * * *"}"#, #"{"name":"x","kind":"noop"}"#,
                #"{"name":"x","kind":"noop","cron":"* * * * *","interval_seconds":5}"#, #"{"name":"x","kind":"nope","interval_seconds":5}"#,
                #"{"name":"x","kind":"noop","interval_seconds":0}"#,
                #"{"name":"x","kind":"noop","interval_seconds":5,"next_fire_at":"2030-01-01T00:00:00Z"}"#,
            ] {
                #expect(try await client.request(.post, "/v1/schedules", key: tenant.key, json: bad).status == .unprocessableContent, "\(bad)")
            }
            #expect(try Self.items(try await client.request(.get, "/v1/schedules", key: tenant.key)).count == 1)

            let updated = try await client.request(
                .patch,
                "/v1/schedules/\(id)",
                key: tenant.key,
                json: #"{"interval_seconds":600,"payload":{"note":"n"}}"#
            )
            let body = try updated.jsonObject()
            #expect(body["interval_seconds"] as? Int == 600 && body["cron"] is NSNull, "\(updated.text)")
            #expect((body["payload"] as? [String: Any])?["note"] as? String == "n")
            #expect(try await client.request(.patch, "/v1/schedules/\(id)", key: tenant.key, json: "{}").status == .unprocessableContent)

            #expect(try await client.request(.post, "/v1/schedules/\(id)/pause", key: tenant.key).jsonObject()["paused"] as? Bool == true)
            #expect(try await client.request(.post, "/v1/schedules/\(id)/resume", key: tenant.key).jsonObject()["paused"] as? Bool == false)
            #expect(try await client.request(.delete, "/v1/schedules/\(id)", key: tenant.key).status == .noContent)
            #expect(try await client.request(.get, "/v1/schedules/\(id)", key: tenant.key).status == .notFound)
            #expect(try await client.request(.delete, "/v1/schedules/\(id)", key: tenant.key).status == .notFound)
        }
    }
}
