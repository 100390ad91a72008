import Foundation
import HTTPTypes
import PostgresNIO
import SwitchyardCore
import SwitchyardDestinations
import SwitchyardJobs
import SwitchyardPostgres
import SwitchyardSyncs
import SwitchyardTestSupport
import SwitchyardWorkflows
import Synchronization
import Testing

/// Serialized: each test holds a pool and an executor, and the suite's tests side by side would take a large share of
/// the test cluster's connections from the other suites.
@Suite("Workflow runs: steps, durability, versions, retries and redrive (issue 16, REQUIREMENTS WF-1)", .serialized)
struct WorkflowRunTests {
    static let threeSteps = """
        {"steps": [
          {"id": "paid", "type": "filter", "condition": {">": [{"var": "input.amount"}, 10]}},
          {"id": "shape", "type": "map", "template": {
             "amount_cents": {"*": [{"var": "input.amount"}, 100]}, "title": {"cat": ["Deal ", {"var": "input.name"}]}, "source": "switchyard",
             "tags": ["a", {"var": "input.name"}]}},
          {"id": "call", "type": "http", "integration_id": "$INTEGRATION", "method": "POST", "path": "/deals",
           "query": {"origin": "workflow"}, "headers": {"X-Trace": {"var": "input.name"}}, "body": {"var": "steps.shape"}}
        ]}
        """

    @Test(
        "filter, map and http run in order: the call goes through the integration with an Idempotency-Key of run and step, the run succeeds with its event"
    )
    func filterMapHTTP() async throws {
        try await WorkflowFixture.with { fixture in
            fixture.api.script("/deals", [], then: .status(201, headers: ["Content-Type": "application/json"], body: #"{"id": "deal_1"}"#))
            let workflow = try await fixture.create("deals", Self.threeSteps)
            let run = try await fixture.start(workflow.id, input: #"{"amount": 42, "name": "Acme"}"#)
            #expect(run.status == .queued && run.version == 1)
            try await fixture.withExecutor { () async throws in
                let done = try await fixture.finished(run.id)
                #expect(done.status == .succeeded && done.error == nil && done.stepsRun == 3)
            }
            let steps = try await fixture.steps(run.id)
            #expect(steps.values.sorted { $0.position < $1.position }.map(\.key) == ["paid", "shape", "call"])
            #expect(steps.values.allSatisfy { $0.state == .succeeded && $0.finishedAt != nil })
            #expect(steps["paid"]?.output == .object(["passed": .bool(true)]))
            #expect(steps["shape"]?.output?["amount_cents"] == .number(4200))
            #expect(steps["shape"]?.output?["title"] == .string("Deal Acme"))
            #expect(steps["shape"]?.output?["tags"] == .array([.string("a"), .string("Acme")]))
            #expect(steps["call"]?.output?["status"] == .number(201))
            #expect(steps["call"]?.output?["body.id"] == .string("deal_1"))
            #expect(steps["call"]?.attempts == 1)

            let requests = fixture.api.requests(to: "/deals")
            try #require(requests.count == 1)
            let request = requests[0]
            #expect(request.method == .post)
            #expect(request.query == "origin=workflow")
            #expect(request.headers[HTTPField.Name("Idempotency-Key")!] == "\(run.id.lowercasedString)/call")
            #expect(request.headers[.authorization] == "Bearer \(WorkflowFixture.apiKey)")
            #expect(request.headers[HTTPField.Name("X-Trace")!] == "Acme")
            let sent = try JSONDecoder().decode(JSONValue.self, from: Data(request.body.utf8))
            #expect(sent == steps["shape"]?.output)

            let samples = fixture.workflowSamples
            for sample in [
                #"switchyard_workflow_runs_started_total 1"#, #"switchyard_workflow_runs_finished_total{outcome="succeeded"} 1"#,
                #"switchyard_workflow_steps_total{type="filter",outcome="succeeded"} 1"#,
                #"switchyard_workflow_steps_total{type="http",outcome="succeeded"} 1"#,
                #"switchyard_workflow_step_duration_seconds_count{type="http"} 1"#,
            ] {
                #expect(samples.contains(sample), "\(sample) not in \(samples)")
            }
            let usage = fixture.usage.drain()
            #expect(usage.map(\.metric) == [.workflowRuns])
            #expect(usage.first?.tenantID == fixture.tenant && usage.first?.dimension == "succeeded" && usage.first?.value == 1)

            let events = try await fixture.events("workflow.run.succeeded")
            #expect(events.count == 1)
            #expect(events.first?.data["run_id"] == .string(run.id.lowercasedString))
            #expect(events.first?.data["workflow_id"] == .string(workflow.id.lowercasedString))
        }
    }

    @Test("a false filter stops the run as skipped; an `if` that is false skips its step; no call is made")
    func filterAndIf() async throws {
        try await WorkflowFixture.with { fixture in
            let workflow = try await fixture.create("deals", Self.threeSteps)
            let skipped = try await fixture.start(workflow.id, input: #"{"amount": 5, "name": "Small"}"#)
            let guarded = try await fixture.create(
                "guarded",
                """
                {"steps": [
                  {"id": "maybe", "type": "http", "integration_id": "$INTEGRATION", "method": "GET", "path": "/never",
                   "if": {"==": [{"var": "input.call"}, true]}},
                  {"id": "after", "type": "map", "template": {"skipped_output": {"var": "steps.maybe"}}}
                ]}
                """
            )
            let conditional = try await fixture.start(guarded.id, input: #"{"call": false}"#)
            try await fixture.withExecutor { () async throws in
                #expect(try await fixture.finished(skipped.id).status == .skipped)
                #expect(try await fixture.finished(conditional.id).status == .succeeded)
            }
            let steps = try await fixture.steps(skipped.id)
            #expect(steps.keys.sorted() == ["paid"])
            #expect(steps["paid"]?.output == .object(["passed": .bool(false)]))
            let conditionalSteps = try await fixture.steps(conditional.id)
            #expect(conditionalSteps["maybe"]?.state == .skipped)
            #expect(conditionalSteps["after"]?.output == .object(["skipped_output": .null]))
            #expect(fixture.api.requests().isEmpty)
            #expect(try await fixture.events("workflow.run.succeeded").count == 1)
        }
    }

    @Test("a non-2xx answer fails the step and the run (a dead letter with an event) unless the step accepts that status")
    func acceptedStatuses() async throws {
        try await WorkflowFixture.with { fixture in
            fixture.api.script("/exists", [], then: .status(409, body: #"{"error": "exists"}"#))
            fixture.api.script("/bad", [], then: .status(400, body: "no"))
            let accepting = try await fixture.create(
                "accepting",
                #"{"steps": [{"id": "create", "type": "http", "integration_id": "$INTEGRATION", "method": "PUT", "path": "/exists", "accept_statuses": [409]}]}"#
            )
            let refusing = try await fixture.create(
                "refusing",
                #"{"steps": [{"id": "create", "type": "http", "integration_id": "$INTEGRATION", "method": "POST", "path": "/bad"}]}"#
            )
            let accepted = try await fixture.start(accepting.id)
            let refused = try await fixture.start(refusing.id)
            try await fixture.withExecutor { () async throws in
                #expect(try await fixture.finished(accepted.id).status == .succeeded)
                let failed = try await fixture.finished(refused.id)
                #expect(failed.status == .failed)
                #expect(failed.error == "step 'create': the provider answered 400")
                try await eventually("the failed run's job is a dead letter") {
                    try await fixture.database.job(failed.jobID, of: fixture.tenant, logger: fixture.logger).state == .dead
                }
            }
            #expect(try await fixture.steps(accepted.id)["create"]?.output?["status"] == .number(409))
            let failedStep = try #require(try await fixture.steps(refused.id)["create"])
            #expect(failedStep.state == .failed && failedStep.attempts == 1 && failedStep.error == "the provider answered 400")
            // A permanent refusal (RL-4) is not retried.
            #expect(fixture.api.requests(to: "/bad").count == 1)
            let failures = try await fixture.events("workflow.run.failed")
            #expect(failures.map { $0.data["run_id"] } == [.string(refused.id.lowercasedString)])
            #expect(failures.first?.data["error"] == .string("step 'create': the provider answered 400"))
        }
    }

    @Test(
        "a failing step is retried by its policy; exhausted, the run fails; redriven, it resumes at the failed step and earlier steps do not run again"
    )
    func retryAndRedrive() async throws {
        try await WorkflowFixture.with { fixture in
            let failing = FailureSwitch()
            fixture.api.script("/once", [], then: .status(200, body: #"{"ok": true}"#))
            fixture.api.decide("/flaky") { _ in failing.isFailing ? .status(503) : .status(200, body: #"{"done": true}"#) }
            let workflow = try await fixture.create(
                "flaky",
                """
                {"steps": [
                  {"id": "first", "type": "http", "integration_id": "$INTEGRATION", "method": "POST", "path": "/once"},
                  {"id": "second", "type": "http", "integration_id": "$INTEGRATION", "method": "POST", "path": "/flaky",
                   "retry": {"max_attempts": 3, "backoff_seconds": 0.05}}
                ]}
                """
            )
            let run = try await fixture.start(workflow.id)
            try await fixture.withExecutor { () async throws in
                let failed = try await fixture.finished(run.id)
                #expect(failed.status == .failed)
                #expect(failed.error == "step 'second': the provider answered 503")
                let second = try #require(try await fixture.steps(run.id)["second"])
                #expect(second.state == .failed && second.attempts == 3)
                try await eventually("the run's job is a dead letter") {
                    try await fixture.database.job(failed.jobID, of: fixture.tenant, logger: fixture.logger).state == .dead
                }
                // Step retries wait in the queue without spending the job's attempts.
                #expect(try await fixture.database.job(failed.jobID, of: fixture.tenant, logger: fixture.logger).attempts == 1)

                failing.fix()
                let redriven = try await fixture.database.withTenant(fixture.tenant, logger: fixture.logger) {
                    try await $0.redriveWorkflowRun(run.id)
                }
                #expect(redriven?.status == .running)
                #expect(try await fixture.finished(run.id).status == .succeeded)
            }
            let steps = try await fixture.steps(run.id)
            #expect(steps["first"]?.attempts == 1 && steps["first"]?.state == .succeeded)
            #expect(steps["second"]?.state == .succeeded && steps["second"]?.output?["body.done"] == .bool(true))
            #expect(fixture.api.requests(to: "/once").count == 1)
            let keys = Set(fixture.api.requests(to: "/flaky").map { $0.headers[HTTPField.Name("Idempotency-Key")!] })
            #expect(keys == ["\(run.id.lowercasedString)/second"])
            // Only failed runs can be redriven.
            await #expect(throws: WorkflowStateConflict.self) {
                try await fixture.database.withTenant(fixture.tenant, logger: fixture.logger) { try await $0.redriveWorkflowRun(run.id) }
            }
        }
    }

    @Test("versions: a run started on v1 finishes on v1 after v2 is activated; activating v1 again rolls new runs back")
    func versionsAndRollback() async throws {
        try await WorkflowFixture.with { fixture in
            let v1 = """
                {"steps": [{"id": "pause", "type": "delay", "seconds": 1}, {"id": "which", "type": "map", "template": {"version": 1}}]}
                """
            let v2 = """
                {"steps": [{"id": "which", "type": "map", "template": {"version": 2}}]}
                """
            let workflow = try await fixture.create("versioned", v1)
            let first = try await fixture.start(workflow.id)
            try await fixture.withExecutor { () async throws in
                try await eventually("the first run waits in its delay") { try await fixture.run(first.id).status == .waiting }
                let published = try await fixture.publish(workflow.id, v2)
                #expect(published.activeVersion == 2 && published.latestVersion == 2)
                let second = try await fixture.start(workflow.id)
                #expect(second.version == 2)
                #expect(try await fixture.finished(second.id).status == .succeeded)
                #expect(try await fixture.steps(second.id)["which"]?.output == .object(["version": .number(2)]))
                let firstDone = try await fixture.finished(first.id)
                #expect(firstDone.status == .succeeded && firstDone.version == 1)
                #expect(try await fixture.steps(first.id)["which"]?.output == .object(["version": .number(1)]))

                let rolledBack = try await fixture.database.withTenant(fixture.tenant, logger: fixture.logger) {
                    try await WorkflowPublishing.activate(workflow.id, version: 1, in: $0)
                }
                #expect(rolledBack?.activeVersion == 1 && rolledBack?.latestVersion == 2)
                let third = try await fixture.start(workflow.id)
                #expect(third.version == 1)
                #expect(try await fixture.finished(third.id).status == .succeeded)
            }
            let versions = try await fixture.database.withTenant(fixture.tenant, logger: fixture.logger) {
                try await $0.workflowVersions(workflow.id)
            }
            #expect(versions.map(\.version) == [2, 1])
            // Versions are immutable: the application role may not change one.
            await #expect(throws: (any Error).self) {
                try await TestEnvironment.withConnection(to: fixture.environment.applicationURL, logger: fixture.logger) { connection in
                    _ = try await connection.query("UPDATE workflow_versions SET definition = '{}'", logger: fixture.logger)
                }
            }
        }
    }

    @Test("a delay holds no executor and survives an executor restart: the run waits in the queue and finishes after the delay")
    func delaySurvivesRestart() async throws {
        try await WorkflowFixture.with { fixture in
            let workflow = try await fixture.create(
                "delayed",
                #"{"steps": [{"id": "wait", "type": "delay", "seconds": 2}, {"id": "after", "type": "map", "template": {"done": true}}]}"#
            )
            let run = try await fixture.start(workflow.id)
            try await fixture.withExecutor { () async throws in
                // The run is marked waiting by the step; its job goes back to the queue with the executor's next
                // completion batch, which the executor's stop could otherwise cut short.
                try await eventually("the run waits, its job queued") {
                    let waiting = try await fixture.run(run.id)
                    guard waiting.status == .waiting else { return false }
                    return try await fixture.database.job(waiting.jobID, of: fixture.tenant, logger: fixture.logger).state == .queued
                }
            }
            // The executor is gone: the run's job waits in the queue for the delay's end, counted as waiting.
            try await WorkflowSchedules.countActiveRuns(into: fixture.metrics.workflows)(fixture.database, fixture.logger)
            #expect(fixture.workflowSamples.contains(#"switchyard_workflow_runs_active{status="waiting"} 1.0"#), "\(fixture.workflowSamples)")
            #expect(fixture.workflowSamples.contains(#"switchyard_workflow_runs_active{status="running"} 0.0"#))
            // The count is all that queue mode gets of runs, and only queue mode gets it.
            try await TestEnvironment.withConnection(to: fixture.environment.applicationURL, logger: fixture.logger) { connection in
                func ints(_ query: PostgresQuery) async throws -> [Int] {
                    let row = try #require(try await connection.query(query, logger: fixture.logger).collect().first)
                    let (first, second) = try row.decode((Int, Int).self)
                    return [first, second]
                }
                #expect(try await ints("SELECT running, waiting FROM app_count_active_workflow_runs()") == [0, 0])
                _ = try await connection.query("SELECT set_config('app.queue', 'on', false)", logger: fixture.logger)
                #expect(try await ints("SELECT running, waiting FROM app_count_active_workflow_runs()") == [0, 1])
                #expect(try await ints("SELECT count(*)::int, 0 FROM workflow_runs") == [0, 0])
            }
            let waiting = try await fixture.run(run.id)
            let job = try await fixture.database.job(waiting.jobID, of: fixture.tenant, logger: fixture.logger)
            let delayStep = try #require(try await fixture.steps(run.id)["wait"])
            let resumeAt = try #require(delayStep.resumeAt)
            #expect(delayStep.state == .running && job.state == .queued)
            #expect(abs(job.runAt.timeIntervalSince(resumeAt)) < 1)
            #expect(try await fixture.steps(run.id)["after"] == nil)
            try await fixture.withExecutor { () async throws in
                let done = try await fixture.finished(run.id)
                #expect(done.status == .succeeded)
                let startedAt = try #require(done.startedAt)
                let finishedAt = try #require(done.finishedAt)
                #expect(finishedAt.timeIntervalSince(startedAt) >= 1.9)
            }
            let steps = try await fixture.steps(run.id)
            #expect(steps["wait"]?.state == .succeeded && steps["after"]?.output == .object(["done": .bool(true)]))
        }
    }

    @Test("for_each runs its nested steps once per element (a nested filter ends only its iteration) and refuses more than max_items")
    func forEachBounds() async throws {
        try await WorkflowFixture.with { fixture in
            let definition = """
                {"steps": [
                  {"id": "each", "type": "for_each", "items": {"var": "input.values"}, "max_items": 3, "steps": [
                    {"id": "odd", "type": "filter", "condition": {"%": [{"var": "item"}, 2]}},
                    {"id": "double", "type": "map", "template": {"value": {"*": [{"var": "item"}, 2]}, "index": {"var": "index"}}}
                  ]},
                  {"id": "sum", "type": "map", "template": {"count": {"reduce": [{"var": "steps.each"}, {"+": [{"var": "accumulator"}, 1]}, 0]}}}
                ]}
                """
            let workflow = try await fixture.create("loop", definition)
            let fits = try await fixture.start(workflow.id, input: #"{"values": [1, 2, 3]}"#)
            let tooMany = try await fixture.start(workflow.id, input: #"{"values": [1, 2, 3, 4]}"#)
            try await fixture.withExecutor { () async throws in
                #expect(try await fixture.finished(fits.id).status == .succeeded)
                let failed = try await fixture.finished(tooMany.id)
                #expect(failed.status == .failed)
                #expect(failed.error == "step 'each': items has 4 elements, more than max_items (3)")
            }
            let steps = try await fixture.steps(fits.id)
            #expect(steps["each/0/double"]?.output == .object(["value": .number(2), "index": .number(0)]))
            #expect(steps["each/1/odd"]?.output == .object(["passed": .bool(false)]))
            #expect(steps["each/1/double"] == nil)
            #expect(steps["each/2/double"]?.output == .object(["value": .number(6), "index": .number(2)]))
            #expect(steps["each"]?.output?["1.odd"] == .object(["passed": .bool(false)]))
            #expect(steps["sum"]?.output == .object(["count": .number(3)]))
            #expect(try await fixture.steps(tooMany.id).keys.sorted() == ["each"])
        }
    }

    @Test(
        "kill -9 during an http step: the resumed run sends the same Idempotency-Key, the provider sees one effect, and finished steps do not run again"
    )
    func killDuringHTTP() async throws {
        try await WorkflowFixture.with { fixture in
            let calls = Mutex(0)
            let effects = Mutex<Set<String>>([])
            fixture.api.script("/before", [], then: .status(200, body: "{}"))
            fixture.api.decide("/charges") { request in
                // A provider that honours Idempotency-Key: one effect per key.
                let key = request.headers[HTTPField.Name("Idempotency-Key")!] ?? "none"
                effects.withLock { _ = $0.insert(key) }
                let first = calls.withLock { count in
                    count += 1
                    return count == 1
                }
                return first ? .slow(.seconds(6)) : .status(200, body: #"{"charged": true}"#)
            }
            let workflow = try await fixture.create(
                "charge",
                """
                {"steps": [
                  {"id": "before", "type": "http", "integration_id": "$INTEGRATION", "method": "POST", "path": "/before"},
                  {"id": "charge", "type": "http", "integration_id": "$INTEGRATION", "method": "POST", "path": "/charges", "body": {"amount": 5}}
                ]}
                """
            )
            let run = try await fixture.start(workflow.id)
            let child = try SwitchyardProcess(
                ["executor"],
                environment: fixture.environment,
                settings: childExecutorSettings([
                    "SWITCHYARD_KEYRING": fixture.keyringJSON, "SWITCHYARD_OUTBOUND_HTTP_ALLOW_LIST": fixture.api.hostAndPort,
                ])
            )
            try await eventually("the child executor is inside the http step; its log: \(child.output)") {
                fixture.api.requests(to: "/charges").count == 1
            }
            child.signal(SIGKILL)
            _ = try await child.waitForExit()
            let cut = try #require(try await fixture.steps(run.id)["charge"])
            #expect(cut.state == .running && cut.attempts == 1)
            try await fixture.withExecutor { () async throws in
                #expect(try await fixture.finished(run.id).status == .succeeded)
            }
            let steps = try await fixture.steps(run.id)
            #expect(steps["charge"]?.attempts == 2 && steps["charge"]?.output?["body.charged"] == .bool(true))
            let keys = fixture.api.requests(to: "/charges").map { $0.headers[HTTPField.Name("Idempotency-Key")!] }
            #expect(keys.count == 2)
            #expect(Set(keys) == ["\(run.id.lowercasedString)/charge"])
            #expect(effects.withLock { $0.count } == 1)
            #expect(fixture.api.requests(to: "/before").count == 1)
        }
    }

    @Test("cancel stops a waiting run at once and a running one at its next step boundary")
    func cancel() async throws {
        try await WorkflowFixture.with { fixture in
            fixture.api.decide("/slow") { _ in .slow(.seconds(1)) }
            let waiting = try await fixture.create(
                "waits",
                #"{"steps": [{"id": "wait", "type": "delay", "seconds": 600}, {"id": "after", "type": "map", "template": {}}]}"#
            )
            let busy = try await fixture.create(
                "busy",
                """
                {"steps": [{"id": "slow", "type": "http", "integration_id": "$INTEGRATION", "method": "GET", "path": "/slow"},
                           {"id": "after", "type": "map", "template": {}}]}
                """
            )
            let delayed = try await fixture.start(waiting.id)
            let running = try await fixture.start(busy.id)
            try await fixture.withExecutor { () async throws in
                // The run is marked waiting by its step; its job goes back to the queue with the executor's next
                // completion batch. Cancelled in between, the run ends at once and its job stays queued until the
                // delay ends (then it finds the run cancelled): this test cancels a run whose job is queued.
                try await eventually("the delayed run waits, its job queued") {
                    let run = try await fixture.run(delayed.id)
                    guard run.status == .waiting else { return false }
                    return try await fixture.database.job(run.jobID, of: fixture.tenant, logger: fixture.logger).state == .queued
                }
                try await eventually("the busy run calls") { fixture.api.requests(to: "/slow").count == 1 }
                for id in [delayed.id, running.id] {
                    _ = try await fixture.database.withTenant(fixture.tenant, logger: fixture.logger) { try await $0.cancelWorkflowRun(id) }
                }
                #expect(try await fixture.run(delayed.id).status == .cancelled)
                #expect(try await fixture.finished(running.id).status == .cancelled)
            }
            let steps = try await fixture.steps(running.id)
            #expect(steps["slow"]?.state == .succeeded && steps["after"] == nil)
            let job = try await fixture.database.job(delayed.jobID, of: fixture.tenant, logger: fixture.logger)
            #expect(job.state == .cancelled)
            await #expect(throws: WorkflowStateConflict.self) {
                try await fixture.database.withTenant(fixture.tenant, logger: fixture.logger) { try await $0.cancelWorkflowRun(delayed.id) }
            }
        }
    }

    @Test("deliver queues one delivery of the document to the tenant's destination with the step; sync starts a sync run and waits for it")
    func deliverAndSync() async throws {
        try await WorkflowFixture.with { fixture in
            fixture.api.script(
                "/items",
                [],
                then: .status(
                    200,
                    body: #"{"data": [{"id": 1, "updated_at": "2026-12-01T00:00:00Z"}, {"id": 2, "updated_at": "2026-12-01T00:00:00Z"}]}"#
                )
            )
            let destination = try await fixture.database.withTenant(fixture.tenant, logger: fixture.logger) {
                try await $0.createDestination(
                    DestinationSettings(url: "https://receiver.example/hooks"),
                    secret: StandardWebhookSecret.generate().text
                )
            }
            let sync = try SyncDefinition.records(path: "/items", pagination: SyncPagination(.none), records: "/data", incremental: nil)
            _ = try await fixture.database.withTenant(fixture.tenant, logger: fixture.logger) {
                try await $0.saveSyncDefinition(provider: "fakeapi", name: "items", definition: try SyncDirectory.encode(sync))
            }
            let workflow = try await fixture.create(
                "deliver",
                """
                {"steps": [
                  {"id": "refresh", "type": "sync", "integration_id": "$INTEGRATION", "sync": "items", "wait": true},
                  {"id": "send", "type": "deliver", "destination_id": "\(destination.id.lowercasedString)",
                   "body": {"added": {"var": "steps.refresh.added"}, "who": {"var": "input.who"}}}
                ]}
                """
            )
            let run = try await fixture.start(workflow.id, input: #"{"who": "ops"}"#)
            try await fixture.withExecutor { () async throws in
                #expect(try await fixture.finished(run.id).status == .succeeded)
            }
            let steps = try await fixture.steps(run.id)
            #expect(steps["refresh"]?.output?["status"] == .string("succeeded"))
            #expect(steps["refresh"]?.output?["added"] == .number(2))
            let deliveryID = try #require(steps["send"]?.output?["delivery_id"]?.text.flatMap(UUID.init(uuidString:)))
            let delivery = try await fixture.database.job(deliveryID, of: fixture.tenant, logger: fixture.logger)
            #expect(delivery.kind == DestinationDeliveryPayload.kind)
            let payload = try JSONDecoder().decode(DestinationDeliveryPayload.self, from: Data(delivery.payload.utf8))
            #expect(payload.destinationID == destination.id)
            let body = try JSONDecoder().decode(JSONValue.self, from: Data(payload.body.utf8))
            #expect(body["type"] == .string("workflow.deliver"))
            #expect(body["data.document"] == .object(["added": .number(2), "who": .string("ops")]))
            #expect(body["data.run_id"] == .string(run.id.lowercasedString))
        }
    }

    @Test("an integration or destination of another tenant is refused on save, naming the step and field; the owner may use them")
    func crossTenantReferences() async throws {
        try await WorkflowFixture.with { fixture in
            let other = try await fixture.database.makeTenant("other", logger: fixture.logger)
            let destination = try await fixture.database.withTenant(fixture.tenant, logger: fixture.logger) {
                try await $0.createDestination(
                    DestinationSettings(url: "https://receiver.example/hooks"),
                    secret: StandardWebhookSecret.generate().text
                )
            }
            let usesIntegration = #"{"steps": [{"id": "call", "type": "http", "integration_id": "$INTEGRATION", "method": "GET", "path": "/x"}]}"#
            let usesDestination = """
                {"steps": [{"id": "shape", "type": "map", "template": {}},
                           {"id": "send", "type": "deliver", "destination_id": "\(destination.id.lowercasedString)", "body": {}}]}
                """
            await #expect(
                throws: WorkflowDefinitionError(
                    step: "call",
                    field: "integration_id",
                    pointer: "/steps/0/integration_id",
                    message: "no such integration"
                )
            ) {
                _ = try await fixture.create("stolen", usesIntegration, tenant: other)
            }
            await #expect(
                throws: WorkflowDefinitionError(
                    step: "send",
                    field: "destination_id",
                    pointer: "/steps/1/destination_id",
                    message: "no such destination"
                )
            ) {
                _ = try await fixture.create("stolen", usesDestination, tenant: other)
            }
            // Nothing was saved for the other tenant; the owner saves both.
            let theirs = try await fixture.database.withTenant(other, logger: fixture.logger) {
                try await $0.workflows(page: PageRequest(limit: 10, cursor: nil))
            }
            #expect(theirs.items.isEmpty)
            _ = try await fixture.create("mine", usesIntegration)
            _ = try await fixture.create("mine too", usesDestination)
            // A run id of one tenant is not found for another.
            let workflow = try await fixture.create("third", #"{"steps": [{"id": "a", "type": "map", "template": {}}]}"#)
            let run = try await fixture.start(workflow.id)
            let seen = try await fixture.database.withTenant(other, logger: fixture.logger) { try await $0.workflowRun(run.id) }
            #expect(seen == nil)
        }
    }

    @Test(
        "an event trigger starts one run per matching event whose condition holds, pinned to the active version; workflow events and disabled workflows start nothing"
    )
    func eventTrigger() async throws {
        try await WorkflowFixture.with { fixture in
            let workflow = try await fixture.create(
                "on-github",
                """
                {"trigger": {"type": "event", "event_types": ["webhook.*"], "condition": {"==": [{"var": "event.data.provider"}, "github"]}},
                 "steps": [{"id": "shape", "type": "map", "template": {"action": {"var": "trigger.event.data.action"}, "type": {"var": "trigger.event.type"}}}]}
                """
            )
            let everything = try await fixture.create(
                "on-anything",
                #"{"trigger": {"type": "event", "event_types": ["*"]}, "steps": [{"id": "a", "type": "map", "template": {}}]}"#
            )
            let disabled = try await fixture.create(
                "disabled",
                #"{"trigger": {"type": "event", "event_types": ["*"]}, "steps": [{"id": "a", "type": "map", "template": {}}]}"#
            )
            _ = try await fixture.database.withTenant(fixture.tenant, logger: fixture.logger) {
                try await $0.setWorkflowEnabled(disabled.id, enabled: false)
            }
            let events: [(String, [String: String])] = [
                ("webhook.received", ["provider": "github", "action": "opened"]),
                ("webhook.received", ["provider": "stripe", "action": "paid"]),
                ("records.changed", ["provider": "github"]),
            ]
            let ids = try await fixture.database.withTenant(fixture.tenant, logger: fixture.logger) { transaction in
                var ids: [UUID] = []
                for (type, data) in events { ids.append(try await transaction.recordEvent(type, integrationID: nil, data: data)) }
                return ids
            }
            try await fixture.withExecutor { () async throws in
                try await eventually("the matching event's run succeeds") {
                    let runs = try await fixture.database.withTenant(fixture.tenant, logger: fixture.logger) {
                        try await $0.workflowRuns(WorkflowRunFilter(workflowID: workflow.id), page: PageRequest(limit: 10, cursor: nil))
                    }.items
                    return runs.count == 1 && runs[0].status == .succeeded
                }
                // The other event's job found its condition false and created no run; nothing else is left to run.
                try await eventually("every workflow job has finished") {
                    try await fixture.database.withTenant(fixture.tenant, logger: fixture.logger) { !(try await $0.hasActiveJobs()) }
                }
            }
            func runs(of id: UUID) async throws -> [WorkflowRunRecord] {
                try await fixture.database.withTenant(fixture.tenant, logger: fixture.logger) {
                    try await $0.workflowRuns(WorkflowRunFilter(workflowID: id), page: PageRequest(limit: 10, cursor: nil))
                }.items
            }
            let run = try #require(try await runs(of: workflow.id).first)
            #expect(try await runs(of: workflow.id).count == 1 && run.version == 1)
            #expect(run.trigger["type"] == .string("event") && run.trigger["event.id"] == .string(ids[0].lowercasedString))
            #expect(try await fixture.steps(run.id)["shape"]?.output == .object(["action": .string("opened"), "type": .string("webhook.received")]))
            // `*` matched the three events recorded, not the runs' own `workflow.run.succeeded` events.
            #expect(try await runs(of: everything.id).count == 3)
            #expect(try await fixture.events("workflow.run.succeeded").count == 4)
            #expect(try await runs(of: disabled.id).isEmpty)
        }
    }

    @Test(
        "a workflow's concurrent-runs limit holds event runs back: created queued, no step run, their jobs wait; they run once the running one ends"
    )
    func concurrencyLimitHoldsEventRuns() async throws {
        try await WorkflowFixture.with { fixture in
            let workflow = try await fixture.create(
                "one-at-a-time",
                """
                {"trigger": {"type": "event", "event_types": ["test.arrived"]}, "limits": {"max_concurrent_runs": 1},
                 "steps": [{"id": "wait", "type": "delay", "seconds": 600, "if": {"var": "input.wait"}},
                           {"id": "done", "type": "http", "integration_id": "$INTEGRATION", "method": "POST", "path": "/held",
                            "body": {"index": {"var": "trigger.event.data.index"}}}]}
                """
            )
            let blocker = try await fixture.start(workflow.id, input: #"{"wait": true}"#)
            try await fixture.withExecutor { () async throws in
                try await eventually("the first run waits") { try await fixture.run(blocker.id).status == .waiting }
                for index in 0..<2 {
                    try await fixture.database.withTenant(fixture.tenant, logger: fixture.logger) {
                        _ = try await $0.recordEvent("test.arrived", integrationID: nil, data: ["index": String(index)])
                    }
                }
                var held: [WorkflowRunRecord] = []
                try await eventually("both event runs are created, queued") {
                    held = try await fixture.database.withTenant(fixture.tenant, logger: fixture.logger) {
                        try await $0.workflowRuns(
                            WorkflowRunFilter(workflowID: workflow.id, statuses: [.queued]),
                            page: PageRequest(limit: 10, cursor: nil)
                        )
                    }.items
                    return held.count == 2
                }
                for run in held {
                    #expect(run.startedAt == nil)
                    #expect(try await fixture.steps(run.id).isEmpty)
                }
                _ = try await fixture.database.withTenant(fixture.tenant, logger: fixture.logger) { try await $0.cancelWorkflowRun(blocker.id) }
                for run in held {
                    let done = try await fixture.finished(run.id)
                    #expect(done.status == .succeeded)
                    #expect(try await fixture.steps(run.id)["wait"]?.state == .skipped)
                }
            }
            #expect(try await fixture.run(blocker.id).status == .cancelled)
            #expect(fixture.api.requests(to: "/held").count == 2)
        }
    }

    @Test(
        "event runs whose first effect is an http step start in shared writes: each run once, its steps and call recorded, its key sent once"
    )
    func eventRunsStartTogether() async throws {
        try await WorkflowFixture.with { fixture in
            fixture.api.script("/together", [], then: .status(200, headers: ["Content-Type": "application/json"], body: #"{"ok": true}"#))
            let workflow = try await fixture.create(
                "together",
                """
                {"trigger": {"type": "event", "event_types": ["test.together"]},
                 "steps": [{"id": "keep", "type": "filter", "condition": {"==": [{"var": "trigger.event.data.keep"}, "yes"]}},
                           {"id": "shape", "type": "map", "template": {"index": {"var": "trigger.event.data.index"}}},
                           {"id": "call", "type": "http", "integration_id": "$INTEGRATION", "method": "POST", "path": "/together",
                            "body": {"var": "steps.shape"}}]}
                """
            )
            try await fixture.database.withTenant(fixture.tenant, logger: fixture.logger) { transaction in
                for index in 0..<40 {
                    _ = try await transaction.recordEvent(
                        "test.together",
                        integrationID: nil,
                        data: ["index": String(index), "keep": index % 8 == 7 ? "no" : "yes"]
                    )
                }
            }
            @Sendable func runs() async throws -> [WorkflowRunRecord] {
                try await fixture.database.withTenant(fixture.tenant, logger: fixture.logger) {
                    try await $0.workflowRuns(WorkflowRunFilter(workflowID: workflow.id), page: PageRequest(limit: 100, cursor: nil))
                }.items
            }
            try await fixture.withExecutor { () async throws in
                try await eventually("every run has finished") {
                    let runs = try await runs()
                    return runs.count == 40 && runs.allSatisfy { $0.status.isFinished }
                }
            }
            let runs = try await runs()
            let succeeded = runs.filter { $0.status == .succeeded }
            #expect(succeeded.count == 35 && runs.filter { $0.status == .skipped }.count == 5)
            let keys = fixture.api.requests(to: "/together").compactMap { $0.headers[HTTPField.Name("Idempotency-Key")!] }
            #expect(keys.sorted() == succeeded.map { "\($0.id.lowercasedString)/call" }.sorted())
            for run in succeeded {
                #expect(run.stepsRun == 3)
                let steps = try await fixture.steps(run.id)
                #expect(steps.values.sorted { $0.position < $1.position }.map(\.key) == ["keep", "shape", "call"])
                #expect(steps.values.allSatisfy { $0.state == .succeeded })
                #expect(steps["call"]?.attempts == 1 && steps["call"]?.output?["status"] == .number(200))
                #expect(steps["call"]?.input?["body"] == steps["shape"]?.output)
                // The stored trigger is the event the run's job carried.
                #expect(run.trigger["type"] == .string("event") && run.trigger["event.type"] == .string("test.together"))
                #expect(run.trigger["event.data.index"] != nil && run.trigger["event.data.index"] == steps["shape"]?.output?["index"])
            }
            #expect(try await fixture.events("workflow.run.succeeded").count == 35)
        }
    }
}
