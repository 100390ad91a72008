import Foundation
import HTTPTypes
import HummingbirdTesting
import OpenAPIRuntime
import SwitchyardAPIClient
import SwitchyardAPIContract
import SwitchyardCore
import SwitchyardJobs
import SwitchyardOAuth
import SwitchyardPostgres
import SwitchyardTestSupport
import SwitchyardWorkflows
import Testing

/// The workflows API through the generated client, except where a test sends what the document refuses.
@Suite("Workflows API: definitions, versions, activation, runs, cancel and redrive", .serialized)
struct WorkflowsAPITests {
    static func object(_ json: String) throws -> OpenAPIObjectContainer {
        try JSONDecoder().decode(OpenAPIObjectContainer.self, from: Data(json.utf8))
    }

    /// A workflow of one `map` step, with a unique name.
    static func createMapOnly(_ client: any TestClientProtocol, key: String) async throws -> Components.Schemas.Workflow {
        try await client.api(key: key).createWorkflow(
            body: .json(.init(name: "w-\(UUID().uuidString.prefix(8))", definition: try object(mapOnly)))
        ).created.body.json
    }

    static let mapOnly = #"{"steps": [{"id": "shape", "type": "map", "template": {"greeting": {"cat": ["hello ", {"var": "input.name"}]}}}]}"#

    /// An executor of workflow runs on the environment's database, while `body` runs.
    static func withExecutor<Result: Sendable>(_ environment: TestEnvironment, _ body: @Sendable () async throws -> Result) async throws -> Result {
        try await environment.withDatabase(maxConnections: 4) { database in
            let outbound = environment.makeOutboundClient()
            var registry = JobRegistry.standard()
            let caller = IntegrationCaller(database: database, outbound: outbound, refreshSkewSeconds: 60)
            registry.register(WorkflowRunHandler(runner: WorkflowRunner(database: database, caller: caller, settings: WorkflowFixture.settings)))
            return try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await outbound.run() }
                defer { group.cancelAll() }
                return try await database.withExecutor(registry: registry, logger: environment.logger, body)
            }
        }
    }

    @Test("a workflow is created, read, listed, given a new version, rolled back, renamed, disabled and deleted")
    func roundTrip() async throws {
        let environment = try await TestEnvironment.make()
        try await environment.withApp { (client: any TestClientProtocol) async throws in
            let tenant = try await client.makeTenant(slug: "workflows-crud")
            let api = client.api(key: tenant.key)
            let created = try await api.createWorkflow(body: .json(.init(name: "greeter", definition: try Self.object(Self.mapOnly)))).created
            let workflow = try created.body.json
            #expect(created.headers.location == "/v1/workflows/\(workflow.id)")
            #expect(workflow.name == "greeter" && workflow.enabled && workflow.activeVersion == 1 && workflow.latestVersion == 1)
            #expect(workflow.definition == (try Self.object(Self.mapOnly)))

            let v2 = #"{"steps": [{"id": "shape", "type": "map", "template": {"v": 2}}]}"#
            let updated = try await api.updateWorkflow(path: .init(workflowId: workflow.id), body: .json(.init(definition: try Self.object(v2)))).ok
                .body.json
            let v2Object = try Self.object(v2)
            #expect(updated.activeVersion == 2 && updated.latestVersion == 2 && updated.definition == v2Object)
            let versions = try await api.listWorkflowVersions(path: .init(workflowId: workflow.id)).ok.body.json.data
            #expect(versions.map(\.version) == [2, 1] && versions.map(\.active) == [true, false])
            let first = try await api.getWorkflowVersion(path: .init(workflowId: workflow.id, version: 1)).ok.body.json
            #expect(first.definition == (try Self.object(Self.mapOnly)) && !first.active)

            let rolledBack = try await api.activateWorkflowVersion(path: .init(workflowId: workflow.id, version: 1)).ok.body.json
            let v1Object = try Self.object(Self.mapOnly)
            #expect(rolledBack.activeVersion == 1 && rolledBack.latestVersion == 2 && rolledBack.definition == v1Object)
            _ = try await api.getWorkflowVersion(path: .init(workflowId: workflow.id, version: 3)).notFound
            _ = try await api.activateWorkflowVersion(path: .init(workflowId: workflow.id, version: 9)).notFound

            let renamed = try await api.updateWorkflow(path: .init(workflowId: workflow.id), body: .json(.init(name: "hello"))).ok.body.json
            #expect(renamed.name == "hello" && renamed.activeVersion == 1)
            _ = try await api.createWorkflow(body: .json(.init(name: "hello", definition: try Self.object(Self.mapOnly)))).conflict

            let disabled = try await api.disableWorkflow(path: .init(workflowId: workflow.id)).ok.body.json
            #expect(!disabled.enabled)
            _ = try await api.startWorkflowRun(path: .init(workflowId: workflow.id), body: .json(.init())).conflict
            #expect(try await api.enableWorkflow(path: .init(workflowId: workflow.id)).ok.body.json.enabled)

            #expect(try await api.listWorkflows().ok.body.json.data.map(\.id) == [workflow.id])
            _ = try await api.getWorkflow(path: .init(workflowId: workflow.id)).ok
            _ = try await api.deleteWorkflow(path: .init(workflowId: workflow.id)).noContent
            _ = try await api.getWorkflow(path: .init(workflowId: workflow.id)).notFound
        }
    }

    @Test("an invalid definition is a 422 naming the step and the field, and nothing is saved")
    func validation() async throws {
        let environment = try await TestEnvironment.make()
        try await environment.withApp { (client: any TestClientProtocol) async throws in
            let tenant = try await client.makeTenant(slug: "workflows-validation")
            let cases: [(String, String)] = [
                (#"{"name": "w", "definition": {"steps": [{"id": "a", "type": "teleport"}]}}"#, "Step 'a' (/steps/0/type), field 'type'"),
                (
                    #"{"name": "w", "definition": {"steps": [{"id": "a", "type": "map", "template": {"x": {"var": "steps.b"}}}, {"id": "b", "type": "map", "template": {}}]}}"#,
                    "Step 'a' (/steps/0/template), field 'template': 'steps.b' is not a step before this one"
                ),
                (
                    #"{"name": "w", "definition": {"steps": [{"id": "a", "type": "filter", "condition": {"nope": 1}}]}}"#,
                    "Step 'a' (/steps/0/condition), field 'condition': the expression does not parse"
                ),
                (
                    #"{"name": "w", "definition": {"steps": [{"id": "call", "type": "http", "integration_id": "0191d3a0-0000-7000-8000-000000000001", "method": "GET", "path": "/x"}]}}"#,
                    "Step 'call' (/steps/0/integration_id), field 'integration_id': no such integration"
                ),
                (#"{"name": "w", "definition": {"steps": [{"id": "a", "type": "map", "template": {}}]}, "colour": "red"}"#, "colour"),
                (#"{"name": "", "definition": {"steps": [{"id": "a", "type": "map", "template": {}}]}}"#, "name"),
                (#"{"name": "w"}"#, "definition"),
            ]
            for (json, expected) in cases {
                let response = try await client.request(.post, "/v1/workflows", key: tenant.key, json: json)
                let problem = try TypedBody.problem(response, .unprocessableContent)
                #expect(problem.detail?.contains(expected) == true, "\(json): \(problem.detail ?? "")")
            }
            #expect(try await client.api(key: tenant.key).listWorkflows().ok.body.json.data.isEmpty)
        }
    }

    @Test("a manual run executes and is shown with its steps; the Idempotency-Key returns the first run; runs filter by workflow and status")
    func runs() async throws {
        let environment = try await TestEnvironment.make()
        try await environment.withApp { (client: any TestClientProtocol) async throws in
            let tenant = try await client.makeTenant(slug: "workflows-runs")
            let api = client.api(key: tenant.key)
            let workflow = try await api.createWorkflow(body: .json(.init(name: "greeter", definition: try Self.object(Self.mapOnly)))).created.body
                .json
            let input = try Self.object(#"{"name": "Ada"}"#)
            // Sent as raw JSON: a replay of `Idempotency-Key` compares the body's bytes.
            let first = try await client.request(
                .post,
                "/v1/workflows/\(workflow.id)/runs",
                key: tenant.key,
                json: #"{"input": {"name": "Ada"}}"#,
                headers: [.idempotencyKey: "run-1"]
            )
            #expect(first.status == .created)
            #expect(first.headers[.location]?.hasPrefix("/v1/workflow-runs/") == true)
            let runID = try #require((try JSONSerialization.jsonObject(with: Data(first.text.utf8)) as? [String: Any])?["id"] as? String)
            let run = try await api.getWorkflowRun(path: .init(workflowRunId: runID)).ok.body.json
            #expect(run.status == .queued && run.version == 1 && run.idempotencyKey == "run-1" && run.input == input)

            // The same request again: the same run, replayed. The same key with another input: 422.
            let again = try await client.request(
                .post,
                "/v1/workflows/\(workflow.id)/runs",
                key: tenant.key,
                json: #"{"input": {"name": "Ada"}}"#,
                headers: [.idempotencyKey: "run-1"]
            )
            #expect(again.status == .created && again.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
            #expect((try JSONSerialization.jsonObject(with: Data(again.text.utf8)) as? [String: Any])?["id"] as? String == run.id)
            let reused = try await client.request(
                .post,
                "/v1/workflows/\(workflow.id)/runs",
                key: tenant.key,
                json: #"{"input": {"name": "Bob"}}"#,
                headers: [.idempotencyKey: "run-1"]
            )
            _ = try TypedBody.problem(reused, .unprocessableContent)
            // Through the generated client, a run without a key; its input defaults to {}.
            let plain = try await api.startWorkflowRun(path: .init(workflowId: workflow.id), body: .json(.init())).created.body.json
            #expect(plain.input == OpenAPIObjectContainer() && plain.idempotencyKey == nil)

            try await Self.withExecutor(environment) { () async throws in
                try await eventually("the runs succeed") {
                    let first = try await api.getWorkflowRun(path: .init(workflowRunId: run.id)).ok.body.json.status
                    let second = try await api.getWorkflowRun(path: .init(workflowRunId: plain.id)).ok.body.json.status
                    return first == .succeeded && second == .succeeded
                }
            }
            let shown = try await api.getWorkflowRun(path: .init(workflowRunId: run.id)).ok.body.json
            let step = try #require(shown.steps?.first)
            #expect(step.key == "shape" && step._type == "map" && step.state == .succeeded && step.attempts == 1)
            #expect(step.output == (try JSONDecoder().decode(OpenAPIValueContainer.self, from: Data(#"{"greeting": "hello Ada"}"#.utf8))))
            #expect(shown.startedAt != nil && shown.finishedAt != nil && shown.stepsRun == 1)

            let listed = try await api.listWorkflowRuns(query: .init(workflowId: workflow.id, status: .succeeded)).ok.body.json.data
            #expect(listed.map(\.id) == [plain.id, run.id] && listed.first?.steps == nil)
            #expect(try await api.listWorkflowRuns(query: .init(status: .failed)).ok.body.json.data.isEmpty)
            _ = try await api.cancelWorkflowRun(path: .init(workflowRunId: run.id)).conflict
            _ = try await api.redriveWorkflowRun(path: .init(workflowRunId: run.id)).conflict
            // A workflow with runs can be deleted once they have finished.
            _ = try await api.deleteWorkflow(path: .init(workflowId: workflow.id)).noContent
        }
    }

    @Test("a queued run is cancelled; another tenant's workflows and runs are 404 on every route")
    func cancelAndIsolation() async throws {
        let environment = try await TestEnvironment.make()
        try await environment.withApp { (client: any TestClientProtocol) async throws in
            let owner = try await client.makeTenant(slug: "workflows-owner")
            let other = try await client.makeTenant(slug: "workflows-other")
            let api = client.api(key: owner.key)
            let workflow = try await api.createWorkflow(body: .json(.init(name: "w", definition: try Self.object(Self.mapOnly)))).created.body.json
            let run = try await api.startWorkflowRun(path: .init(workflowId: workflow.id), body: .json(.init())).created.body.json
            _ = try await api.deleteWorkflow(path: .init(workflowId: workflow.id)).conflict

            let theirs = client.api(key: other.key)
            let path = Operations.GetWorkflow.Input.Path(workflowId: workflow.id)
            _ = try await theirs.getWorkflow(path: path).notFound
            _ = try await theirs.updateWorkflow(path: .init(workflowId: workflow.id), body: .json(.init(name: "mine"))).notFound
            _ = try await theirs.deleteWorkflow(path: .init(workflowId: workflow.id)).notFound
            _ = try await theirs.disableWorkflow(path: .init(workflowId: workflow.id)).notFound
            _ = try await theirs.listWorkflowVersions(path: .init(workflowId: workflow.id)).notFound
            _ = try await theirs.getWorkflowVersion(path: .init(workflowId: workflow.id, version: 1)).notFound
            _ = try await theirs.activateWorkflowVersion(path: .init(workflowId: workflow.id, version: 1)).notFound
            _ = try await theirs.startWorkflowRun(path: .init(workflowId: workflow.id), body: .json(.init())).notFound
            _ = try await theirs.getWorkflowRun(path: .init(workflowRunId: run.id)).notFound
            _ = try await theirs.cancelWorkflowRun(path: .init(workflowRunId: run.id)).notFound
            _ = try await theirs.redriveWorkflowRun(path: .init(workflowRunId: run.id)).notFound
            #expect(try await theirs.listWorkflowRuns().ok.body.json.data.isEmpty)

            let cancelled = try await api.cancelWorkflowRun(path: .init(workflowRunId: run.id)).ok.body.json
            #expect(cancelled.status == .cancelled && cancelled.cancelRequested)
            let job = try await api.getJob(path: .init(jobId: run.jobId)).ok.body.json
            #expect(job.state == .cancelled)
            _ = try await api.cancelWorkflowRun(path: .init(workflowRunId: run.id)).conflict
        }
    }

    @Test(
        "a schedule trigger keeps a schedule of the workflow whose fires start runs of the active version; disabling removes it; a bad cron is a 422"
    )
    func scheduleTrigger() async throws {
        let environment = try await TestEnvironment.make()
        try await environment.withApp { (client: any TestClientProtocol) async throws in
            let tenant = try await client.makeTenant(slug: "workflows-schedule")
            let api = client.api(key: tenant.key)
            let badCron = try await client.request(
                .post,
                "/v1/workflows",
                key: tenant.key,
                json:
                    #"{"name": "w", "definition": {"trigger": {"type": "schedule", "cron": "61 * * * *"}, "steps": [{"id": "a", "type": "map", "template": {}}]}}"#
            )
            #expect(try TypedBody.problem(badCron, .unprocessableContent).detail?.contains("Field 'trigger.cron'") == true)
            let definition = try Self.object(
                #"{"trigger": {"type": "schedule", "interval_seconds": 3600}, "steps": [{"id": "tick", "type": "map", "template": {"how": {"var": "trigger.type"}}}]}"#
            )
            let workflow = try await api.createWorkflow(body: .json(.init(name: "hourly", definition: definition))).created.body.json
            let schedules = try await api.listSchedules().ok.body.json.data
            #expect(schedules.map(\.name) == ["workflow:\(workflow.id)"])
            #expect(schedules.first?.kind == "workflow.run" && schedules.first?.intervalSeconds == 3600)

            // Due now: a scheduler's tick fires it, and an executor runs the run it starts.
            try await environment.withOwnerConnection { connection in
                _ = try await connection.query(
                    "UPDATE job_schedules SET next_fire_at = now() - interval '1 second' WHERE name = \("workflow:\(workflow.id)")",
                    logger: environment.logger
                )
            }
            try await environment.withDatabase(maxConnections: 4) { database in
                var options = SchedulerOptions(fastJobsSettings())
                options.leaderLock = false
                try await JobScheduler(database: database, options: options, metrics: nil, logger: environment.logger).tick()
            }
            try await Self.withExecutor(environment) { () async throws in
                try await eventually("the scheduled run succeeds") {
                    try await api.listWorkflowRuns(query: .init(workflowId: workflow.id, status: .succeeded)).ok.body.json.data.count == 1
                }
            }
            let run = try #require(try await api.listWorkflowRuns(query: .init(workflowId: workflow.id)).ok.body.json.data.first)
            let shown = try await api.getWorkflowRun(path: .init(workflowRunId: run.id)).ok.body.json
            #expect(shown.version == 1)
            #expect(shown.steps?.first?.output == (try JSONDecoder().decode(OpenAPIValueContainer.self, from: Data(#"{"how": "schedule"}"#.utf8))))

            _ = try await api.disableWorkflow(path: .init(workflowId: workflow.id)).ok
            #expect(try await api.listSchedules().ok.body.json.data.isEmpty)
            _ = try await api.enableWorkflow(path: .init(workflowId: workflow.id)).ok
            #expect(try await api.listSchedules().ok.body.json.data.count == 1)
            _ = try await api.deleteWorkflow(path: .init(workflowId: workflow.id)).noContent
            #expect(try await api.listSchedules().ok.body.json.data.isEmpty)
        }
    }
}
