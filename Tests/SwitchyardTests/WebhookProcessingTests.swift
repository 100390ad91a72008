import Foundation
import HTTPTypes
import HummingbirdTesting
import PostgresNIO
import SwitchyardAPIClient
import SwitchyardAPIContract
import SwitchyardCore
import SwitchyardPostgres
import SwitchyardTestSupport
import Testing

@testable import SwitchyardJobs

@Suite("Webhook processing through the job queue")
struct WebhookProcessingTests {
    /// The app for deliveries and the API, plus an executor running `webhook.process` on its own pool.
    static func run(_ body: @Sendable @escaping (any TestClientProtocol, String, TestEnvironment) async throws -> Void) async throws {
        let environment = try await TestEnvironment.make()
        try await environment.withDatabase { database in
            var registry = JobRegistry()
            registry.register(WebhookProcessHandler(database: database, metrics: nil))
            try await database.withExecutor(registry: registry, logger: environment.logger) {
                try await environment.withApp { (client: any TestClientProtocol) async throws in
                    let tenant = try await client.makeTenant(slug: "processing")
                    try await body(client, tenant.key, environment)
                }
            }
        }
    }

    /// The `webhook.received` events, through the generated client.
    static func received(_ client: any TestClientProtocol, key: String) async throws -> [Components.Schemas.Event] {
        try await client.api(key: key).listEvents(query: .init(_type: "webhook.received")).ok.body.json.data
    }

    /// The webhook events in `status`, through the generated client.
    static func webhookEvents(
        _ client: any TestClientProtocol,
        key: String,
        status: Components.Schemas.WebhookEventStatus? = nil
    ) async throws -> [Components.Schemas.WebhookEvent] {
        try await client.api(key: key).listWebhookEvents(query: .init(status: status)).ok.body.json.data
    }

    @Test("a recorded event is enqueued with it, processed once into webhook.received with its integration and payload")
    func processedIntoInternalEvent() async throws {
        try await Self.run { client, key, _ in
            let integration = try await client.api(key: key).createIntegration(
                body: .json(.init(provider: "stripe", credentials: .init(additionalProperties: ["api_key": "sk_test_1"])))
            ).created.body.json.id
            let source = try await client.api(key: key).createWebhookSource(
                body: .json(.init(name: "linked", scheme: WebhookFixture.github, integrationId: integration, secret: "linked-secret"))
            ).created.body.json.id
            #expect(try await WebhookFixture.deliverGitHub(client, source: source, secret: "linked-secret", deliveryID: "p-1").status == .ok)
            #expect(try await WebhookFixture.deliverGitHub(client, source: source, secret: "linked-secret", deliveryID: "p-1").status == .ok)

            try await eventually("the event is processed") { try await Self.webhookEvents(client, key: key, status: .processed).count == 1 }
            let events = try await Self.received(client, key: key)
            #expect(events.count == 1)
            let event = try #require(events.first)
            #expect(event.integrationId == integration)
            // `data` is free-form in the document: its members are read as JSON values.
            let data = event.data.value
            #expect(data["type"] as? String == "pull_request")
            #expect(data["provider"] as? String == "stripe")
            #expect(data["provider_event_id"] as? String == "p-1")
            #expect((data["payload"] as? [String: (any Sendable)?])?["action"] as? String == "opened")
            #expect(try await client.api(key: key).listJobs(query: .init(kind: "webhook.process")).ok.body.json.data.count == 1)
        }
    }

    @Test("an event at a shared endpoint finds its integration by the provider account in the payload")
    func matchedByProviderAccount() async throws {
        try await Self.run { client, key, _ in
            let integration = try await client.api(key: key).createIntegration(
                body: .json(.init(provider: "stripe", credentials: .init(additionalProperties: ["api_key": "sk_test_2"])))
            ).created.body.json.id
            let patched = try await client.api(key: key).updateIntegration(
                path: .init(integrationId: integration),
                body: .json(.init(providerAccountId: "acct_123"))
            )
            #expect(try patched.ok.body.json.providerAccountId == "acct_123")
            let source = try await WebhookFixture.makeSource(client, key: key, scheme: WebhookFixture.stripe(), secret: "whsec_shared_1")
            let body = #"{"id":"evt_shared","type":"charge.succeeded","account":"acct_123"}"#
            let timestamp = Int(Date().timeIntervalSince1970)
            let headers: HTTPFields = [
                HTTPField.Name("Stripe-Signature")!: "t=\(timestamp),v1=" + WebhookFixture.hmacHex(source.secret, "\(timestamp).\(body)")
            ]
            #expect(try await client.execute(uri: "/webhooks/\(source.id)", method: .post, headers: headers, body: .init(string: body)).status == .ok)
            try await eventually("webhook.received is recorded") { try await !Self.received(client, key: key).isEmpty }
            #expect(try await Self.received(client, key: key).first?.integrationId == integration)
        }
    }

    @Test("a replay processes the event again; retention removes old events")
    func replayAndRetention() async throws {
        try await Self.run { client, key, environment in
            let source = try await WebhookFixture.makeSource(client, key: key)
            _ = try await WebhookFixture.deliverGitHub(client, source: source.id, secret: source.secret, deliveryID: "r-1")
            try await eventually("first processing") { try await Self.received(client, key: key).count == 1 }
            let id = try #require(try await Self.webhookEvents(client, key: key).first?.id)
            _ = try await client.api(key: key).replayWebhookEvent(path: .init(eventId: id)).ok
            try await eventually("second processing") { try await Self.received(client, key: key).count == 2 }

            try await environment.withOwnerConnection { connection in
                try await connection.query("UPDATE webhook_events SET received_at = now() - interval '40 days'", logger: environment.logger)
            }
            try await environment.withDatabase { database in
                try await JobScheduler(database: database, options: SchedulerOptions(fastJobsSettings()), metrics: nil, logger: environment.logger)
                    .housekeeping()
            }
            #expect(try await Self.webhookEvents(client, key: key).isEmpty)
        }
    }

    @Test("an event whose payload PostgreSQL cannot store (\\u0000) ends failed with its reason; its neighbours in the same job are processed")
    func poisonedEventIsIsolated() async throws {
        try await Self.run { client, key, _ in
            let source = try await WebhookFixture.makeSource(client, key: key)
            for (id, body) in [
                ("n-1", #"{"action":"opened","number":1}"#), ("n-poison", #"{"action":"opened","note":"a\u0000b"}"#),
                ("n-2", #"{"action":"closed","number":2}"#),
            ] {
                #expect(
                    try await WebhookFixture.deliverGitHub(client, source: source.id, secret: source.secret, deliveryID: id, body: body).status == .ok
                )
            }
            func events(_ status: Components.Schemas.WebhookEventStatus) async throws -> [Components.Schemas.WebhookEvent] {
                try await Self.webhookEvents(client, key: key, status: status)
            }
            try await eventually("the poisoned event fails and the others are processed") {
                let failed = try await events(.failed).count
                let processed = try await events(.processed).count
                return failed == 1 && processed == 2
            }
            let failed = try #require(try await events(.failed).first)
            #expect(failed.eventId == "n-poison")
            let reason = try #require(failed.lastError)
            #expect(reason.contains("\\u0000") && reason.contains("22P05"), "reason: \(reason)")

            // A bulk replay puts all three in one job: the poisoned one fails again, alone.
            let replayed = try await client.api(key: key).replayWebhookEvents(body: .json(.init(sourceId: source.id))).ok.body.json
            #expect(replayed.replayed.count == 3)
            try await eventually("the replay processes the neighbours again") { try await Self.received(client, key: key).count == 4 }
            try await eventually("every webhook.process job succeeds, the replay's too") {
                let jobs = try await client.api(key: key).listJobs(query: .init(kind: "webhook.process")).ok.body.json.data
                return jobs.count >= 2 && jobs.allSatisfy { $0.state == .succeeded }
            }
            #expect(try await events(.failed).map(\.eventId) == ["n-poison"])
            #expect(try await events(.processed).count == 2)
        }
    }

    @Test("a job failing on a database refusal dead-letters with the server's words, not a type name")
    func databaseRefusalIsReadable() async throws {
        let environment = try await TestEnvironment.make()
        let refusal: any Error = try await environment.withOwnerConnection { connection in
            do {
                try await connection.query(#"SELECT '"a\u0000b"'::jsonb"#, logger: environment.logger)
            } catch {
                return error
            }
            throw TestFailure("PostgreSQL accepted \\u0000 in jsonb")
        }
        let failure = JobFailure.classify(refusal)
        #expect(failure.kind == .permanent)
        #expect(failure.message.contains("unsupported Unicode escape sequence") && failure.message.contains("22P05"), "message: \(failure.message)")
    }
}

extension WebhookProcessingTests {
    @Test("a Stripe customer event updates, then deletes, the record of the integration's enabled customers sync (real-time)")
    func mappedEventsUpdateSyncedRecords() async throws {
        try await Self.run { client, key, environment in
            let api = client.api(key: key)
            let integration = try await api.createIntegration(
                body: .json(.init(provider: "stripe", credentials: .init(additionalProperties: ["api_key": "sk_test_3"])))
            ).created.body.json.id
            let tenant = TenantID(try #require(UUID(uuidString: try await api.getMe().ok.body.json.tenant.id)))
            _ = try await environment.withDatabase { database in
                try await database.withTenant(tenant, logger: environment.logger) {
                    try await $0.changeIntegrationSync(
                        integration: try #require(UUID(uuidString: integration)),
                        name: "customers",
                        IntegrationSyncChange(enabled: true)
                    )
                }
            }
            let source = try await api.createWebhookSource(
                body: .json(.init(name: "stripe", scheme: WebhookFixture.stripe(), integrationId: integration, secret: "whsec_sync"))
            ).created.body.json.id
            func deliver(_ id: String, _ type: String, _ customer: String) async throws {
                let body = #"{"id":"\#(id)","type":"\#(type)","data":{"object":\#(customer)}}"#
                let timestamp = Int(Date().timeIntervalSince1970)
                let headers: HTTPFields = [
                    .contentType: "application/json",
                    HTTPField.Name("Stripe-Signature")!: "t=\(timestamp),v1=" + WebhookFixture.hmacHex("whsec_sync", "\(timestamp).\(body)"),
                ]
                #expect(
                    try await client.execute(uri: "/webhooks/\(source)", method: .post, headers: headers, body: .init(string: body)).status == .ok
                )
            }
            func customers() async throws -> [Components.Schemas.SyncRecord] {
                try await api.listSyncRecordChanges(path: .init(integrationId: integration), query: .init(model: "stripe_customer")).ok.body.json.data
            }
            try await deliver("evt_1", "customer.updated", #"{"id":"cus_1","object":"customer","email":"ada@example.com"}"#)
            try await eventually("the customer is in the records store") { try await customers().count == 1 }
            #expect(try await customers().first?.externalId == "cus_1")
            #expect(try await customers().first?.deleted == false)
            try await deliver("evt_2", "customer.deleted", #"{"id":"cus_1","object":"customer","deleted":true}"#)
            try await eventually("the customer is deleted") { try await customers().first?.deleted == true }
            let changed = try await api.listEvents(query: .init(_type: "records.changed")).ok.body.json.data
            #expect(changed.count == 2)
        }
    }
}
