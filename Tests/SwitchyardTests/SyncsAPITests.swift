import Foundation
import HTTPTypes
import HummingbirdTesting
import OpenAPIRuntime
import SwitchyardAPIClient
import SwitchyardAPIContract
import SwitchyardCore
import SwitchyardPostgres
import SwitchyardTestSupport
import Testing

/// The syncs API through the generated client, except where a test sends what the document refuses (unknown fields,
/// malformed definitions) or what the generated types cannot say (`"frequency_seconds": null`). No executor runs in
/// these tests, so a started run stays queued.
@Suite("Syncs API: definitions, an integration's syncs, runs")
struct SyncsAPITests {
    /// A custom sync for the custom provider `acme` (which declares no connection parameters), paged by a cursor in
    /// the body and incremental by `updated_since`.
    static func definitionJSON(name: String = "customers", frequency: Int = 600, path: String = "/customers") -> String {
        """
        {"name":"\(name)","model":"acme_customer","description":"Acme's customers.",
         "request":{"path":"\(path)","query":{"limit":"50"}},
         "pagination":{"type":"cursor","next_cursor":"/next","parameter":{"in":"query","name":"after"}},
         "records":{"pointer":"/data","id":"/id","modified":"/updated_at"},
         "incremental":{"parameter":{"in":"query","name":"updated_since"}},
         "frequency_seconds":\(frequency)}
        """
    }

    static func definition(name: String = "customers", frequency: Int = 600) throws -> Components.Schemas.SyncDefinition {
        try JSONDecoder().decode(Components.Schemas.SyncDefinition.self, from: Data(definitionJSON(name: name, frequency: frequency).utf8))
    }

    /// Creates the custom provider `acme` for the tenant.
    static func makeAcme(_ client: any TestClientProtocol, key: String) async throws {
        let response = try await client.request(.put, "/v1/providers/acme", key: key, json: CustomProviderFixture.json(id: "acme"))
        #expect(response.status == .created)
    }

    @Test("definitions: built-in ones listed, a custom one saved, versioned, replaced and deleted; bad ones are 422 naming the field")
    func definitions() async throws {
        try await TestEnvironment.make().withApp { (client: any TestClientProtocol) async throws in
            let tenant = try await client.makeTenant(slug: "sync-definitions")
            let api = client.api(key: tenant.key)

            let github = try await api.listProviderSyncs(path: .init(providerId: "github")).ok.body.json
            let issues = try #require(github.data.first { $0.name == "issues" })
            #expect(issues.builtIn && issues.version == 1 && issues.updatedAt == nil && issues.provider == "github")
            #expect(issues.model == "github_issue" && issues.pagination._type == .linkHeader && issues.incremental != nil)
            #expect(try await api.getProviderSync(path: .init(providerId: "github", syncName: "issues")).ok.body.json.name == "issues")
            _ = try await api.getProviderSync(path: .init(providerId: "github", syncName: "nope")).notFound
            _ = try await api.listProviderSyncs(path: .init(providerId: "nope")).notFound

            try await Self.makeAcme(client, key: tenant.key)
            #expect(try await api.listProviderSyncs(path: .init(providerId: "acme")).ok.body.json.data.isEmpty)
            let path = Operations.PutProviderSync.Input.Path(providerId: "acme", syncName: "customers")
            let created = try await api.putProviderSync(path: path, body: .json(try Self.definition())).created.body.json
            #expect(!created.builtIn && created.version == 1 && created.updatedAt != nil && created.provider == "acme")
            #expect(created.frequencySeconds == 600 && created.pagination.parameter?.name == "after")
            // The same document again keeps its version; a changed one gets the next.
            #expect(try await api.putProviderSync(path: path, body: .json(try Self.definition())).ok.body.json.version == 1)
            let replaced = try await api.putProviderSync(path: path, body: .json(try Self.definition(frequency: 1200))).ok.body.json
            #expect(replaced.version == 2 && replaced.frequencySeconds == 1200)
            let listed = try await api.listProviderSyncs(path: .init(providerId: "acme")).ok.body.json.data
            #expect(listed.map(\.name) == ["customers"] && listed.first?.version == 2)

            // Each bad definition is a 422 whose detail names the field.
            let cursor = #""pagination":{"type":"cursor","next_cursor":"/next","parameter":{"in":"query","name":"after"}}"#
            let bad: [(String, String)] = [
                (
                    Self.definitionJSON().replacingOccurrences(of: cursor, with: #""pagination":{"type":"cursor","next_cursor":"/next"}"#),
                    "pagination.parameter"
                ),
                (
                    Self.definitionJSON().replacingOccurrences(of: cursor, with: #""pagination":{"type":"link_header","page_size":50}"#),
                    "pagination.page_size"
                ),
                (Self.definitionJSON().replacingOccurrences(of: #""id":"/id""#, with: #""id":"id""#), "records.id"),
                (Self.definitionJSON().replacingOccurrences(of: #""modified":"/updated_at""#, with: #""modified":"/a~2b""#), "records.modified"),
                (Self.definitionJSON(path: "/accounts/{account}/customers"), "request.path"),
                (Self.definitionJSON().replacingOccurrences(of: #""frequency_seconds":600"#, with: #""frequency_seconds":5"#), "frequency_seconds"),
                (Self.definitionJSON().replacingOccurrences(of: #""frequency_seconds":600"#, with: #""schedule":"hourly""#), "schedule"),
                (Self.definitionJSON().replacingOccurrences(of: #""limit":"50"}"#, with: #""limit":"50"},"verb":"GET""#), "request.verb"),
                (Self.definitionJSON(name: "other"), "name"),
            ]
            // Another sync of the provider may not write the same model (their full runs would delete each other's records).
            let sameModel = try await client.request(
                .put,
                "/v1/providers/acme/syncs/again",
                key: tenant.key,
                json: Self.definitionJSON(name: "again")
            )
            #expect(try TypedBody.problem(sameModel, .unprocessableContent).detail?.contains("model 'acme_customer'") == true)
            for (json, field) in bad {
                let refused = try await client.request(.put, "/v1/providers/acme/syncs/customers", key: tenant.key, json: json)
                let problem = try TypedBody.problem(refused, .unprocessableContent)
                #expect(problem.detail?.contains(field) == true, "\(field): \(problem.detail ?? "")")
            }
            #expect(try await api.getProviderSync(path: .init(providerId: "acme", syncName: "customers")).ok.body.json.version == 2)

            // A POST body is the tenant's own JSON: a null in it (GraphQL's first `after`) is data, not a missing field.
            let graphQL = """
                {"name":"nodes","model":"acme_node","request":{"method":"POST","path":"/graphql",
                  "body":{"query":"query($after: String) { nodes(after: $after) { id } }","variables":{"after":null}}},
                 "pagination":{"type":"cursor","next_cursor":"/data/nodes/end","parameter":{"in":"body","name":"/variables/after"}},
                 "records":{"pointer":"/data/nodes/items","id":"/id"}}
                """
            let nodes = try JSONDecoder().decode(Components.Schemas.SyncDefinition.self, from: Data(graphQL.utf8))
            let savedNodes = try await api.putProviderSync(path: .init(providerId: "acme", syncName: "nodes"), body: .json(nodes)).created.body.json
            let variables = (savedNodes.request.body?.value as? [String: (any Sendable)?])?["variables"] as? [String: (any Sendable)?]
            #expect(variables?.keys.contains("after") == true && savedNodes.request.method == .post)
            _ = try await api.deleteProviderSync(path: .init(providerId: "acme", syncName: "nodes")).noContent

            // Built-in names are reserved; unknown providers are 404.
            let githubIssues = Operations.PutProviderSync.Input.Path(providerId: "github", syncName: "issues")
            _ = try await api.putProviderSync(path: githubIssues, body: .json(try Self.definition(name: "issues"))).conflict
            _ = try await api.deleteProviderSync(path: .init(providerId: "github", syncName: "issues")).conflict
            _ = try await api.putProviderSync(path: .init(providerId: "nope", syncName: "customers"), body: .json(try Self.definition())).notFound

            // Another tenant sees neither the provider nor its syncs, and its own provider of the same id has none.
            let other = try await client.makeTenant(slug: "sync-definitions-other")
            let otherAPI = client.api(key: other.key)
            _ = try await otherAPI.listProviderSyncs(path: .init(providerId: "acme")).notFound
            _ = try await otherAPI.getProviderSync(path: .init(providerId: "acme", syncName: "customers")).notFound
            try await Self.makeAcme(client, key: other.key)
            #expect(try await otherAPI.listProviderSyncs(path: .init(providerId: "acme")).ok.body.json.data.isEmpty)
            _ = try await otherAPI.deleteProviderSync(path: .init(providerId: "acme", syncName: "customers")).notFound

            let reader = client.api(key: try await IntegrationsAPITests.key(client, tenant: tenant.id, scopes: [.read]))
            _ = try await reader.putProviderSync(path: path, body: .json(try Self.definition())).forbidden
            _ = try await reader.listProviderSyncs(path: .init(providerId: "acme")).ok

            _ = try await api.deleteProviderSync(path: .init(providerId: "acme", syncName: "customers")).noContent
            _ = try await api.deleteProviderSync(path: .init(providerId: "acme", syncName: "customers")).notFound
            _ = try await api.getProviderSync(path: .init(providerId: "acme", syncName: "customers")).notFound
            let actions = try await api.listAuditEvents().ok.body.json.data.map(\.action)
            #expect(actions.contains("sync_definition.saved") && actions.contains("sync_definition.deleted"))
        }
    }

    @Test("an integration's syncs: disabled until enabled, rescheduled and back, paused, resumed; needs_reauth says why")
    func integrationSyncs() async throws {
        let environment = try await TestEnvironment.make()
        try await environment.withApp { (client: any TestClientProtocol) async throws in
            let tenant = try await client.makeTenant(slug: "integration-syncs")
            let api = client.api(key: tenant.key)
            let integration = try await IntegrationsAPITests.createStripe(client, key: tenant.key)
            let customers = Operations.GetIntegrationSync.Input.Path(integrationId: integration, syncName: "customers")

            let listed = try await api.listIntegrationSyncs(path: .init(integrationId: integration)).ok.body.json.data
            #expect(listed.map(\.name) == ["customers"])
            let untouched = try #require(listed.first)
            #expect(untouched.status == .disabled && !untouched.enabled && !untouched.paused && untouched.model == "stripe_customer")
            #expect(untouched.frequencySeconds == 3600 && untouched.frequencyOverride == nil && untouched.nextRunAt == nil)
            #expect(untouched.lastRun == nil && untouched.pauseReason == nil && untouched.checkpoint.value == nil)

            let before = Date()
            let enabled = try await api.updateIntegrationSync(
                path: .init(integrationId: integration, syncName: "customers"),
                body: .json(.init(enabled: true))
            ).ok.body.json
            #expect(enabled.status == .scheduled && enabled.enabled)
            // Due now: the timestamp is shown to the second.
            let due = try #require(enabled.nextRunAt)
            #expect(due <= Date() && due >= before.addingTimeInterval(-2))

            let overridden = try await api.updateIntegrationSync(
                path: .init(integrationId: integration, syncName: "customers"),
                body: .json(.init(frequencySeconds: 600))
            ).ok.body.json
            #expect(overridden.frequencySeconds == 600 && overridden.frequencyOverride == 600 && overridden.nextRunAt == due)
            let cleared = try await client.request(
                .patch,
                "/v1/integrations/\(integration)/syncs/customers",
                key: tenant.key,
                json: #"{"frequency_seconds":null}"#
            )
            let back = try TypedBody.decode(Components.Schemas.IntegrationSync.self, cleared)
            #expect(cleared.status == .ok && back.frequencySeconds == 3600 && back.frequencyOverride == nil && back.enabled)

            _ = try await api.updateIntegrationSync(
                path: .init(integrationId: integration, syncName: "customers"),
                body: .json(.init(frequencySeconds: 59))
            ).unprocessableContent
            _ = try await api.updateIntegrationSync(
                path: .init(integrationId: integration, syncName: "customers"),
                body: .json(.init(frequencySeconds: 2_678_401))
            ).unprocessableContent
            for (json, mentions) in [(#"{"paused":true}"#, "paused"), ("{}", "enabled"), (#"{"enabled":null}"#, "enabled")] {
                let refused = try await client.request(.patch, "/v1/integrations/\(integration)/syncs/customers", key: tenant.key, json: json)
                #expect(try TypedBody.problem(refused, .unprocessableContent).detail?.contains(mentions) == true, "\(json)")
            }

            let paused = try await api.pauseIntegrationSync(path: .init(integrationId: integration, syncName: "customers")).ok.body.json
            #expect(paused.status == .paused && paused.paused && paused.enabled && paused.nextRunAt == nil && paused.pauseReason != nil)
            #expect(try await api.getIntegrationSync(path: customers).ok.body.json.status == .paused)
            let resumed = try await api.resumeIntegrationSync(path: .init(integrationId: integration, syncName: "customers")).ok.body.json
            // It fell due while paused, so it stays due.
            #expect(resumed.status == .scheduled && !resumed.paused && resumed.nextRunAt == due && resumed.pauseReason == nil)

            let disabled = try await api.updateIntegrationSync(
                path: .init(integrationId: integration, syncName: "customers"),
                body: .json(.init(enabled: false))
            ).ok.body.json
            #expect(disabled.status == .disabled && disabled.nextRunAt == nil)
            _ = try await api.updateIntegrationSync(path: .init(integrationId: integration, syncName: "customers"), body: .json(.init(enabled: true)))
                .ok

            // A lost connection pauses it with a reason; the trigger needs a connected integration.
            let tenantID = TenantID(try #require(UUID(uuidString: tenant.id)))
            let integrationID = try #require(UUID(uuidString: integration))
            func setStatus(_ status: IntegrationStatus) async throws {
                try await environment.withDatabase { database in
                    _ = try await database.withTenant(tenantID, logger: environment.logger) {
                        try await $0.setIntegrationStatus(integrationID, status)
                    }
                }
            }
            try await setStatus(.needsReauth)
            let reauth = try await api.getIntegrationSync(path: customers).ok.body.json
            #expect(reauth.status == .needsReauth && reauth.pauseReason?.contains("needs_reauth") == true && reauth.enabled)
            _ = try await api.triggerIntegrationSync(path: .init(integrationId: integration, syncName: "customers")).conflict
            _ = try await api.resetIntegrationSync(path: .init(integrationId: integration, syncName: "customers")).conflict
            try await setStatus(.disconnected)
            #expect(try await api.getIntegrationSync(path: customers).ok.body.json.status == .integrationNotConnected)

            _ = try await api.getIntegrationSync(path: .init(integrationId: integration, syncName: "nope")).notFound
            _ = try await api.pauseIntegrationSync(path: .init(integrationId: integration, syncName: "nope")).notFound
            _ = try await api.listIntegrationSyncs(path: .init(integrationId: UUID().uuidString)).notFound
            let other = client.api(key: try await client.makeTenant(slug: "integration-syncs-other").key)
            _ = try await other.listIntegrationSyncs(path: .init(integrationId: integration)).notFound
            _ = try await other.getIntegrationSync(path: customers).notFound
            _ = try await other.updateIntegrationSync(
                path: .init(integrationId: integration, syncName: "customers"),
                body: .json(.init(enabled: false))
            ).notFound
            let reader = client.api(key: try await IntegrationsAPITests.key(client, tenant: tenant.id, scopes: [.read]))
            _ = try await reader.pauseIntegrationSync(path: .init(integrationId: integration, syncName: "customers")).forbidden
            _ = try await reader.getIntegrationSync(path: customers).ok
        }
    }

    @Test("trigger, reset and runs: 202 with a queued run, then 200 with the same run; reset forgets the checkpoint; runs paged")
    func runs() async throws {
        let environment = try await TestEnvironment.make()
        try await environment.withApp { (client: any TestClientProtocol) async throws in
            let tenant = try await client.makeTenant(slug: "sync-runs")
            let api = client.api(key: tenant.key)
            let integration = try await IntegrationsAPITests.createStripe(client, key: tenant.key)
            let customers = Operations.TriggerIntegrationSync.Input.Path(integrationId: integration, syncName: "customers")

            let run = try await api.triggerIntegrationSync(path: customers).accepted.body.json
            #expect(run.status == .queued && run.mode == .full && run.trigger == .api && run.sync == "customers")
            #expect(run.model == "stripe_customer" && run.definitionVersion == 1 && run.integrationId == integration && run.pages == 0)
            #expect(run.startedAt == nil && run.finishedAt == nil && run.error == nil && run.checkpoint.value == nil)
            let again = try await api.triggerIntegrationSync(path: customers, body: .json(.init(mode: .full))).ok.body.json
            #expect(again.id == run.id)
            // Stripe customers has no incremental form.
            _ = try await api.triggerIntegrationSync(path: customers, body: .json(.init(mode: .incremental))).unprocessableContent
            let badMode = try await client.request(
                .post,
                "/v1/integrations/\(integration)/syncs/customers/trigger",
                key: tenant.key,
                json: #"{"mode":"partial"}"#
            )
            #expect(try TypedBody.problem(badMode, .unprocessableContent).detail?.contains("mode") == true)

            #expect(try await api.getSyncRun(path: .init(runId: run.id)).ok.body.json.id == run.id)
            let entry = try await api.getIntegrationSync(path: .init(integrationId: integration, syncName: "customers")).ok.body.json
            #expect(entry.lastRun?.id == run.id && entry.lastRun?.status == .queued && entry.status == .disabled)
            // While the run is queued, reset forgets the checkpoint and answers that run.
            #expect(try await api.resetIntegrationSync(path: .init(integrationId: integration, syncName: "customers")).ok.body.json.id == run.id)

            // The run ends (its job cancelled, the run failed); a run started after the reset ends after reaching a
            // checkpoint (one started before it could not bring a checkpoint back).
            let tenantID = TenantID(try #require(UUID(uuidString: tenant.id)))
            let integrationID = try #require(UUID(uuidString: integration))
            func end(_ id: String, checkpoint: String?) async throws {
                let runID = try #require(UUID(uuidString: id))
                try await environment.withDatabase { database in
                    try await database.withTenant(tenantID, logger: environment.logger) { transaction in
                        _ = try await transaction.cancelJob(runID)
                        _ = try await transaction.finishSyncRun(runID, status: .failed, error: "stopped by the test")
                        try await transaction.recordLastSyncRun(integration: integrationID, name: "customers", run: runID, checkpoint: checkpoint)
                    }
                }
            }
            try await end(run.id, checkpoint: #""2025-01-01T00:00:00Z""#)
            #expect(
                try await api.getIntegrationSync(path: .init(integrationId: integration, syncName: "customers")).ok.body.json.checkpoint.value == nil
            )
            let later = try await api.triggerIntegrationSync(path: .init(integrationId: integration, syncName: "customers")).accepted.body.json
            try await end(later.id, checkpoint: #""2026-01-01T00:00:00Z""#)
            let checkpointed = try await api.getIntegrationSync(path: .init(integrationId: integration, syncName: "customers")).ok.body.json
            #expect(checkpointed.checkpoint.value as? String == "2026-01-01T00:00:00Z" && checkpointed.lastRun?.status == .failed)
            #expect(checkpointed.lastRun?.error == "stopped by the test")

            let reset = try await api.resetIntegrationSync(path: .init(integrationId: integration, syncName: "customers")).accepted.body.json
            #expect(reset.id != run.id && reset.trigger == .reset && reset.mode == .full && reset.status == .queued)
            let afterReset = try await api.getIntegrationSync(path: .init(integrationId: integration, syncName: "customers")).ok.body.json
            #expect(afterReset.checkpoint.value == nil && afterReset.lastRun?.id == reset.id)

            let runsPath = Operations.ListIntegrationSyncRuns.Input.Path(integrationId: integration, syncName: "customers")
            let all = try await api.listIntegrationSyncRuns(path: runsPath).ok.body.json
            #expect(all.data.map(\.id) == [reset.id, later.id, run.id] && all.nextCursor == nil)
            let first = try await api.listIntegrationSyncRuns(path: runsPath, query: .init(limit: 1)).ok.body.json
            let cursor = try #require(first.nextCursor)
            #expect(first.data.map(\.id) == [reset.id])
            #expect(
                try await api.listIntegrationSyncRuns(path: runsPath, query: .init(limit: 1, cursor: cursor)).ok.body.json.data.map(\.id) == [
                    later.id
                ]
            )
            let unknownQuery = try await client.request(.get, "/v1/integrations/\(integration)/syncs/customers/runs?status=queued", key: tenant.key)
            try ProblemDetailsTests.expectProblem(unknownQuery, .badRequest, code: "invalid-request")
            _ = try await api.listIntegrationSyncRuns(path: .init(integrationId: integration, syncName: "nope")).notFound

            _ = try await api.getSyncRun(path: .init(runId: UUID().uuidString)).notFound
            let other = client.api(key: try await client.makeTenant(slug: "sync-runs-other").key)
            _ = try await other.getSyncRun(path: .init(runId: run.id)).notFound
            _ = try await other.listIntegrationSyncRuns(path: runsPath).notFound
            _ = try await other.triggerIntegrationSync(path: customers).notFound
            let reader = client.api(key: try await IntegrationsAPITests.key(client, tenant: tenant.id, scopes: [.read]))
            _ = try await reader.triggerIntegrationSync(path: customers).forbidden
            _ = try await reader.resetIntegrationSync(path: .init(integrationId: integration, syncName: "customers")).forbidden
            _ = try await reader.getSyncRun(path: .init(runId: run.id)).ok
        }
    }

    @Test("the change feed's modified_after leaves out records last modified before it; a value that is not a date-time is 400")
    func changeFeedModifiedAfter() async throws {
        let environment = try await TestEnvironment.make()
        try await environment.withApp { (client: any TestClientProtocol) async throws in
            let made = try await client.makeTenant(slug: "feed-modified")
            let integration = try await IntegrationsAPITests.createStripe(client, key: made.key)
            let tenant = TenantID(try #require(UUID(uuidString: made.id)))
            let integrationID = try #require(UUID(uuidString: integration))
            let api = client.api(key: made.key)
            let path = Operations.ListSyncRecordChanges.Input.Path(integrationId: integration)
            func write(_ id: String) async throws {
                try await environment.withDatabase { database in
                    try await database.withTenant(tenant, logger: environment.logger) { transaction in
                        _ = try await transaction.upsertSyncRecords(
                            [SyncRecordStoreTests.record(id, "1")],
                            integration: integrationID,
                            model: "customers"
                        )
                    }
                }
            }
            try await write("cus_old")
            var page = Components.Schemas.SyncRecordChangePage(data: [], nextCursor: nil)
            try await eventuallyInFeed("the first record is visible") {
                page = try await api.listSyncRecordChanges(path: path, query: .init(model: "customers")).ok.body.json
                return page.data.count == 1
            }
            // Shown to the second: a second later is after it, whatever its fraction.
            let threshold = try #require(page.data.first?.modifiedAt).addingTimeInterval(1)
            try await Task.sleep(for: .seconds(2))
            try await write("cus_new")
            try await eventuallyInFeed("both records are visible") {
                try await api.listSyncRecordChanges(path: path, query: .init(model: "customers")).ok.body.json.data.count == 2
            }
            let recent = try await api.listSyncRecordChanges(path: path, query: .init(model: "customers", modifiedAfter: threshold)).ok.body.json
            #expect(recent.data.map(\.externalId) == ["cus_new"])
            #expect(recent.nextCursor != nil)
            let none = try await api.listSyncRecordChanges(
                path: path,
                query: .init(model: "customers", modifiedAfter: Date().addingTimeInterval(3600))
            ).ok.body.json
            #expect(none.data.isEmpty)

            for value in ["yesterday", "2026-13-01T00:00:00Z", "2026-01-01"] {
                let refused = try await client.request(
                    .get,
                    "/v1/integrations/\(integration)/records?model=customers&modified_after=\(value)",
                    key: made.key
                )
                try ProblemDetailsTests.expectProblem(refused, .badRequest, code: "invalid-request")
            }
            _ = try await client.api(key: try await client.makeTenant(slug: "feed-modified-other").key)
                .listSyncRecordChanges(path: path, query: .init(model: "customers", modifiedAfter: threshold)).notFound
        }
    }
}
