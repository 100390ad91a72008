import Foundation
import HTTPTypes
import HummingbirdTesting
import SwitchyardAPIClient
import SwitchyardAPIContract
import SwitchyardCore
import SwitchyardDestinations
import SwitchyardPostgres
import SwitchyardTestSupport
import Testing

/// The destinations and deliveries API through the generated client, except where a test sends what the document
/// refuses or must see the raw text (a secret that must not appear). No executor runs here: deliveries stay queued.
@Suite("Destinations API: destinations, secrets, deliveries, resend and replay")
struct DestinationsAPITests {
    /// Where the test destinations point: allow-listed below, so plain http on loopback passes the SSRF guard without a
    /// DNS lookup, and the discard port, so nothing would answer even if something delivered.
    static let receiverURL = "http://127.0.0.1:9/hooks"

    /// An environment whose outbound allow-list lets `receiverURL` through, as `dev` lets 127.0.0.1.
    static func environment() async throws -> TestEnvironment {
        var environment = try await TestEnvironment.make()
        environment.configuration.outbound.plainHTTPAllowList = ["127.0.0.1:9"]
        return environment
    }

    static func create(
        _ client: any TestClientProtocol,
        key: String,
        _ body: Components.Schemas.DestinationCreate = .init(url: receiverURL)
    ) async throws -> Components.Schemas.Destination {
        try await client.api(key: key).createDestination(body: .json(body)).created.body.json
    }

    /// The tenant's deliveries matching `query`, through the generated client.
    static func deliveries(
        _ client: any TestClientProtocol,
        key: String,
        _ query: Operations.ListDeliveries.Input.Query = .init()
    ) async throws -> [Components.Schemas.Delivery] {
        try await client.api(key: key).listDeliveries(query: query).ok.body.json.data
    }

    /// A delivery's body as a JSON object.
    static func object(_ json: String) throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
            throw TestFailure("not an object: \(json)")
        }
        return object
    }

    static func tenantID(_ text: String) throws -> TenantID {
        TenantID(try #require(UUID(uuidString: text)))
    }

    @Test("a destination is created with its secret shown once, then read, listed, updated and deleted; header values never come back")
    func roundTrip() async throws {
        let environment = try await Self.environment()
        try await environment.withApp { (client: any TestClientProtocol) async throws in
            let tenant = try await client.makeTenant(slug: "destinations-crud")
            let api = client.api(key: tenant.key)
            let headerValue = "Bearer receiver-token-7f3a"
            let body = Components.Schemas.DestinationCreate(
                url: Self.receiverURL,
                description: "Billing backend",
                headers: .init(additionalProperties: ["Authorization": headerValue]),
                filter: .init(eventTypes: ["integration.*", "webhook.received"], providers: ["stripe"]),
                ordered: true,
                orderingKey: .eventType,
                rateLimitPerSecond: 50,
                maxConcurrency: 4
            )
            let created = try await api.createDestination(body: .json(body)).created
            #expect(created.headers.location == "/v1/destinations/\(try created.body.json.id)")
            let destination = try created.body.json
            let secret = try #require(destination.secret)
            #expect(secret.hasPrefix("whsec_") && StandardWebhookSecret(secret)?.key.count == 32)
            #expect(destination.url == Self.receiverURL && destination.description == "Billing backend")
            #expect(destination.headerNames == ["Authorization"])
            #expect(destination.filter.eventTypes == ["integration.*", "webhook.received"])
            #expect(destination.filter.providers == ["stripe"] && destination.filter.integrationIds.isEmpty)
            #expect(destination.ordered && destination.orderingKey == .eventType)
            #expect(destination.rateLimitPerSecond == 50 && destination.maxConcurrency == 4)
            #expect(destination.enabled && destination.disabledReason == nil && destination.failingSince == nil)
            #expect(destination.secrets.count == 1 && destination.secrets.first?.expiresAt == nil)

            // Neither the secret nor a header's value is in any later answer.
            let shown = try await client.request(.get, "/v1/destinations/\(destination.id)", key: tenant.key)
            let listed = try await client.request(.get, "/v1/destinations", key: tenant.key)
            for response in [shown, listed] {
                #expect(response.status == .ok)
                #expect(!response.text.contains(secret) && !response.text.contains("receiver-token-7f3a") && !response.text.contains("whsec_"))
            }
            let read = try await api.getDestination(path: .init(destinationId: destination.id)).ok.body.json
            #expect(read.secret == nil && read.id == destination.id && read.headerNames == ["Authorization"])
            #expect(try await api.listDestinations().ok.body.json.data.map(\.id) == [destination.id])

            // What the deliveries will use: the headers opened, the secret that was shown.
            let target = try await environment.withDatabase { database in
                try await database.withTenant(try Self.tenantID(tenant.id), logger: environment.logger) {
                    try await $0.destinationTarget(try #require(UUID(uuidString: destination.id)))
                }
            }
            #expect(target?.headers == ["Authorization": headerValue])
            #expect(target?.secrets.map(\.value) == [secret])

            // PATCH: the fields given replace, the others stay; null removes a limit, absent keeps it.
            let path = Operations.UpdateDestination.Input.Path(destinationId: destination.id)
            let patched = try await api.updateDestination(
                path: path,
                body: .json(.init(description: "Billing", filter: .init(eventTypes: ["*"]), rateLimitPerSecond: 10))
            ).ok.body.json
            #expect(patched.description == "Billing" && patched.filter.eventTypes == ["*"] && patched.filter.providers.isEmpty)
            #expect(patched.rateLimitPerSecond == 10 && patched.maxConcurrency == 4 && patched.headerNames == ["Authorization"])
            #expect(patched.url == Self.receiverURL && patched.ordered && patched.orderingKey == .eventType)
            let cleared = try await client.request(
                .patch,
                "/v1/destinations/\(destination.id)",
                key: tenant.key,
                json: #"{"rate_limit_per_second":null}"#
            )
            let clearedBody = try TypedBody.decode(Components.Schemas.Destination.self, cleared)
            #expect(cleared.status == .ok && clearedBody.rateLimitPerSecond == nil && clearedBody.maxConcurrency == 4)
            let replaced = try await api.updateDestination(
                path: path,
                body: .json(.init(headers: .init(additionalProperties: ["X-Team": "billing"])))
            )
            .ok.body.json
            #expect(replaced.headerNames == ["X-Team"])
            let removed = try await api.updateDestination(path: path, body: .json(.init(headers: .init()))).ok.body.json
            #expect(removed.headerNames.isEmpty)

            _ = try await api.deleteDestination(path: .init(destinationId: destination.id)).noContent
            _ = try await api.getDestination(path: .init(destinationId: destination.id)).notFound
            _ = try await api.deleteDestination(path: .init(destinationId: destination.id)).notFound
            #expect(try await api.listDestinations().ok.body.json.data.isEmpty)
        }
    }

    @Test("rotation returns a new secret once; the old one keeps signing, with its expiry, until the grace period ends")
    func rotation() async throws {
        let environment = try await Self.environment()
        try await environment.withApp { (client: any TestClientProtocol) async throws in
            let tenant = try await client.makeTenant(slug: "destinations-rotation")
            let api = client.api(key: tenant.key)
            let destination = try await Self.create(client, key: tenant.key)
            let path = Operations.RotateDestinationSecret.Input.Path(destinationId: destination.id)

            let before = Date()
            let rotated = try await api.rotateDestinationSecret(path: path, body: .json(.init(gracePeriodSeconds: 3600))).ok
            #expect(rotated.headers.cacheControl == .noStore)
            let rotatedBody = try rotated.body.json
            let newSecret = try #require(rotatedBody.secret)
            #expect(newSecret != destination.secret && newSecret.hasPrefix("whsec_"))
            #expect(rotatedBody.secrets.count == 2)
            let current = try #require(rotatedBody.secrets.first)
            let old = try #require(rotatedBody.secrets.last)
            #expect(current.expiresAt == nil && old.id == destination.secrets.first?.id)
            let expiry = try #require(old.expiresAt)
            #expect(abs(expiry.timeIntervalSince(before) - 3600) < 60)

            // Shown once: later reads list both, with no value.
            let read = try await client.request(.get, "/v1/destinations/\(destination.id)", key: tenant.key)
            #expect(!read.text.contains(newSecret) && !read.text.contains("whsec_"))
            #expect(try TypedBody.decode(Components.Schemas.Destination.self, read).secrets.map(\.id) == [current.id, old.id])
            let target = try await environment.withDatabase { database in
                try await database.withTenant(try Self.tenantID(tenant.id), logger: environment.logger) {
                    try await $0.destinationTarget(try #require(UUID(uuidString: destination.id)))
                }
            }
            #expect(Set(target?.secrets.map(\.value) ?? []) == [newSecret, try #require(destination.secret)])

            // No body: the default grace period (a day); the oldest keeps its earlier expiry.
            let again = try await client.request(.post, "/v1/destinations/\(destination.id)/rotate-secret", key: tenant.key)
            let againBody = try TypedBody.decode(Components.Schemas.Destination.self, again)
            #expect(again.status == .ok && againBody.secrets.count == 3)
            #expect(againBody.secrets.first { $0.id == current.id }?.expiresAt.map { abs($0.timeIntervalSinceNow - 86_400) < 60 } == true)
            #expect(againBody.secrets.first { $0.id == old.id }?.expiresAt == expiry)

            let tooLong = try await client.request(
                .post,
                "/v1/destinations/\(destination.id)/rotate-secret",
                key: tenant.key,
                json: #"{"grace_period_seconds":604801}"#
            )
            #expect(try TypedBody.problem(tooLong, .unprocessableContent).detail?.contains("grace_period_seconds") == true)
        }
    }

    @Test("every invalid setting is a 422 problem that names the field")
    func validation() async throws {
        let environment = try await Self.environment()
        try await environment.withApp { (client: any TestClientProtocol) async throws in
            let tenant = try await client.makeTenant(slug: "destinations-validation")
            let manyHeaders = (1...21).map { #""X-H\#($0)":"v""# }.joined(separator: ",")
            let cases: [(String, String)] = [
                (#"{"description":"no url"}"#, "url"),
                (#"{"url":"ftp://127.0.0.1:9/hooks"}"#, "url"),
                (#"{"url":"not a url"}"#, "url"),
                (#"{"url":"/relative/path"}"#, "url"),
                (#"{"url":"https://user:password@127.0.0.1:9/hooks"}"#, "url"),
                (#"{"url":"http://203.0.113.7/hooks"}"#, "url"),
                (#"{"url":"http://127.0.0.1:9/hooks#fragment"}"#, "url"),
                (#"{"url":"http://127.0.0.1:9/hooks","secret":"whsec_abc"}"#, "secret"),
                (#"{"url":"http://127.0.0.1:9/hooks","description":"\#(String(repeating: "d", count: 501))"}"#, "description"),
                (#"{"url":"http://127.0.0.1:9/hooks","filter":{"event_types":["Integration.Connected"]}}"#, "filter.event_types[0]"),
                (#"{"url":"http://127.0.0.1:9/hooks","filter":{"event_types":["integration.*","integration."]}}"#, "filter.event_types[1]"),
                (#"{"url":"http://127.0.0.1:9/hooks","filter":{"event_types":["integ*"]}}"#, "filter.event_types[0]"),
                (#"{"url":"http://127.0.0.1:9/hooks","filter":{"integration_ids":["nope"]}}"#, "filter.integration_ids[0]"),
                (#"{"url":"http://127.0.0.1:9/hooks","filter":{"providers":["GitHub"]}}"#, "filter.providers[0]"),
                (#"{"url":"http://127.0.0.1:9/hooks","filter":{"topics":["a"]}}"#, "filter.topics"),
                (#"{"url":"http://127.0.0.1:9/hooks","headers":{"webhook-id":"x"}}"#, "headers.webhook-id"),
                (#"{"url":"http://127.0.0.1:9/hooks","headers":{"Webhook-Signature":"x"}}"#, "headers.Webhook-Signature"),
                (#"{"url":"http://127.0.0.1:9/hooks","headers":{"Content-Type":"text/plain"}}"#, "headers.Content-Type"),
                (#"{"url":"http://127.0.0.1:9/hooks","headers":{"Host":"internal"}}"#, "headers.Host"),
                (#"{"url":"http://127.0.0.1:9/hooks","headers":{"Transfer-Encoding":"chunked"}}"#, "headers.Transfer-Encoding"),
                (#"{"url":"http://127.0.0.1:9/hooks","headers":{"user-agent":"me"}}"#, "headers.user-agent"),
                (#"{"url":"http://127.0.0.1:9/hooks","headers":{"bad name":"x"}}"#, "headers.bad name"),
                (#"{"url":"http://127.0.0.1:9/hooks","headers":{"X-A":"line\nbreak"}}"#, "headers.X-A"),
                (#"{"url":"http://127.0.0.1:9/hooks","headers":{"X-A":"1","x-a":"2"}}"#, "headers.x-a"),
                (#"{"url":"http://127.0.0.1:9/hooks","headers":{\#(manyHeaders)}}"#, "headers"),
                (#"{"url":"http://127.0.0.1:9/hooks","ordering_key":"tenant"}"#, "ordering_key"),
                (#"{"url":"http://127.0.0.1:9/hooks","rate_limit_per_second":0}"#, "rate_limit_per_second"),
                (#"{"url":"http://127.0.0.1:9/hooks","rate_limit_per_second":100001}"#, "rate_limit_per_second"),
                (#"{"url":"http://127.0.0.1:9/hooks","max_concurrency":0}"#, "max_concurrency"),
                (#"{"url":"http://127.0.0.1:9/hooks","max_concurrency":1001}"#, "max_concurrency"),
                (#"{"url":"http://127.0.0.1:9/hooks","max_concurrency":null}"#, "max_concurrency"),
            ]
            for (json, field) in cases {
                let response = try await client.request(.post, "/v1/destinations", key: tenant.key, json: json)
                let problem = try TypedBody.problem(response, .unprocessableContent)
                #expect(problem.detail?.contains(field) == true, "\(json): \(problem.detail ?? "")")
            }
            #expect(try await client.api(key: tenant.key).listDestinations().ok.body.json.data.isEmpty)

            // The same rules on PATCH, which also needs at least one field.
            let destination = try await Self.create(client, key: tenant.key)
            let patches: [(String, String)] = [
                ("{}", "at least one"),
                (#"{"url":"https://127.0.0.1/hooks"}"#, "url"),
                (#"{"headers":{"Content-Length":"1"}}"#, "headers.Content-Length"),
                (#"{"filter":{"providers":["-x"]}}"#, "filter.providers[0]"),
                (#"{"description":null}"#, "description"),
            ]
            for (json, expected) in patches {
                let response = try await client.request(.patch, "/v1/destinations/\(destination.id)", key: tenant.key, json: json)
                let problem = try TypedBody.problem(response, .unprocessableContent)
                #expect(problem.detail?.contains(expected) == true, "\(json): \(problem.detail ?? "")")
            }
        }
    }

    @Test("the SSRF guard refuses metadata, private and loopback addresses (422 naming url)")
    func ssrf() async throws {
        let environment = try await Self.environment()
        try await environment.withApp { (client: any TestClientProtocol) async throws in
            let tenant = try await client.makeTenant(slug: "destinations-ssrf")
            for url in [
                "http://169.254.169.254/", "https://169.254.169.254/latest/meta-data", "https://10.0.0.1/", "https://127.0.0.1/",
                "https://127.0.0.1:8443/hooks", "https://[::1]/", "https://192.168.1.10/", "https://100.64.0.1/", "https://[fd00::1]/",
                "https://2130706433/", "https://localhost/", "http://localhost:9/",
            ] {
                let response = try await client.request(.post, "/v1/destinations", key: tenant.key, json: #"{"url":"\#(url)"}"#)
                let problem = try TypedBody.problem(response, .unprocessableContent)
                #expect(problem.detail?.contains("url") == true, "\(url): \(problem.detail ?? "")")
            }
            #expect(try await client.api(key: tenant.key).listDestinations().ok.body.json.data.isEmpty)
        }
    }

    @Test("unknown and malformed ids are 404; another tenant's destinations and deliveries are 404 and not listed")
    func notFound() async throws {
        let environment = try await Self.environment()
        try await environment.withApp { (client: any TestClientProtocol) async throws in
            let a = try await client.makeTenant(slug: "destinations-a")
            let b = try await client.makeTenant(slug: "destinations-b")
            let destination = try await Self.create(client, key: b.key)
            let delivery = try await client.api(key: b.key).testDestination(path: .init(destinationId: destination.id)).accepted.body.json
            for id in [UUID().uuidString.lowercased(), "not-a-uuid", destination.id] {
                for (method, path, json) in [
                    (HTTPRequest.Method.get, "/v1/destinations/\(id)", nil),
                    (.patch, "/v1/destinations/\(id)", #"{"description":"x"}"#),
                    (.patch, "/v1/destinations/\(id)", "{}"),
                    (.delete, "/v1/destinations/\(id)", nil),
                    (.post, "/v1/destinations/\(id)/rotate-secret", nil),
                    (.post, "/v1/destinations/\(id)/enable", nil),
                    (.post, "/v1/destinations/\(id)/disable", nil),
                    (.post, "/v1/destinations/\(id)/test", nil),
                    (.post, "/v1/destinations/\(id)/replay", #"{"since":"2020-01-01T00:00:00Z"}"#),
                    (.post, "/v1/destinations/\(id)/replay", "{}"),
                ] as [(HTTPRequest.Method, String, String?)] {
                    let response = try await client.request(method, path, key: a.key, json: json)
                    #expect(try TypedBody.problem(response, .notFound).status == 404, "\(method) \(path)")
                }
            }
            for id in [UUID().uuidString.lowercased(), delivery.id] {
                #expect(try await client.request(.get, "/v1/deliveries/\(id)", key: a.key).status == .notFound)
                #expect(try await client.request(.post, "/v1/deliveries/\(id)/resend", key: a.key).status == .notFound)
            }
            #expect(try await client.api(key: a.key).listDestinations().ok.body.json.data.isEmpty)
            #expect(try await Self.deliveries(client, key: a.key).isEmpty)
            #expect(try await Self.deliveries(client, key: a.key, .init(destinationId: destination.id)).isEmpty)
            // The owner still sees both, unchanged.
            #expect(try await client.api(key: b.key).getDestination(path: .init(destinationId: destination.id)).ok.body.json.enabled)
            #expect(try await Self.deliveries(client, key: b.key).map(\.id) == [delivery.id])
        }
    }

    @Test("a read-only key reads destinations and deliveries but changes nothing (403)")
    func scopes() async throws {
        let environment = try await Self.environment()
        try await environment.withApp { (client: any TestClientProtocol) async throws in
            let owner = try await client.makeTenant(slug: "destinations-scopes")
            let destination = try await Self.create(client, key: owner.key)
            let reader = try await client.api(key: owner.key).createAPIKey(body: .json(.init(name: "reader", scopes: [.read])))
                .created.body.json.value2.key
            let key = try #require(reader)
            #expect(try await client.api(key: key).listDestinations().ok.body.json.data.count == 1)
            #expect(try await client.request(.get, "/v1/deliveries", key: key).status == .ok)
            for (method, path, json) in [
                (HTTPRequest.Method.post, "/v1/destinations", #"{"url":"\#(Self.receiverURL)"}"#),
                (.patch, "/v1/destinations/\(destination.id)", #"{"description":"x"}"#),
                (.delete, "/v1/destinations/\(destination.id)", nil),
                (.post, "/v1/destinations/\(destination.id)/rotate-secret", nil),
                (.post, "/v1/destinations/\(destination.id)/disable", nil),
                (.post, "/v1/destinations/\(destination.id)/test", nil),
            ] as [(HTTPRequest.Method, String, String?)] {
                #expect(try await client.request(method, path, key: key, json: json).status == .forbidden, "\(method) \(path)")
            }
        }
    }

    @Test("disable records destination.disabled with its reason, refuses a test send, and enable restores the destination")
    func disableAndEnable() async throws {
        let environment = try await Self.environment()
        try await environment.withApp { (client: any TestClientProtocol) async throws in
            let tenant = try await client.makeTenant(slug: "destinations-disable")
            let api = client.api(key: tenant.key)
            let destination = try await Self.create(client, key: tenant.key)
            let path = Operations.DisableDestination.Input.Path(destinationId: destination.id)

            let disabled = try await api.disableDestination(path: path, body: .json(.init(reason: "receiver migration"))).ok.body.json
            #expect(!disabled.enabled && disabled.disabledReason == "receiver migration" && disabled.disabledAt != nil)
            let events = try await api.listEvents(query: .init(_type: "destination.disabled")).ok.body.json.data
            #expect(events.count == 1)
            let data = events.first?.data.value
            #expect(data?["destination_id"] as? String == destination.id && data?["reason"] as? String == "receiver migration")
            // Disabling again changes nothing and records nothing.
            let again = try await client.request(.post, "/v1/destinations/\(destination.id)/disable", key: tenant.key)
            #expect(try TypedBody.decode(Components.Schemas.Destination.self, again).disabledReason == "receiver migration")
            #expect(try await api.listEvents(query: .init(_type: "destination.disabled")).ok.body.json.data.count == 1)
            _ = try await api.testDestination(path: .init(destinationId: destination.id)).conflict

            let enabled = try await api.enableDestination(path: .init(destinationId: destination.id)).ok.body.json
            #expect(enabled.enabled && enabled.disabledReason == nil && enabled.disabledAt == nil)
            _ = try await api.testDestination(path: .init(destinationId: destination.id)).accepted
            #expect(try await api.enableDestination(path: .init(destinationId: destination.id)).ok.body.json.enabled)
        }
    }

    @Test("a test send queues one delivery of a destination.test event to that destination only, not recorded in /v1/events")
    func testSend() async throws {
        let environment = try await Self.environment()
        try await environment.withApp { (client: any TestClientProtocol) async throws in
            let tenant = try await client.makeTenant(slug: "destinations-test")
            let api = client.api(key: tenant.key)
            let destination = try await Self.create(client, key: tenant.key)
            let other = try await Self.create(client, key: tenant.key)

            let accepted = try await api.testDestination(path: .init(destinationId: destination.id)).accepted
            let delivery = try accepted.body.json
            #expect(accepted.headers.location == "/v1/deliveries/\(delivery.id)")
            #expect(delivery.destinationId == destination.id && delivery.eventType == "destination.test" && delivery.status == .queued)
            #expect(delivery.webhookId == "msg_\(delivery.eventId)" && delivery.attempts == [] && delivery.attemptCount == 0)
            #expect(delivery.maxAttempts == DestinationDeliveryPayload.maxAttempts && delivery.nextAttemptAt != nil)
            let body = try Self.object(try #require(delivery.body))
            #expect(body["id"] as? String == delivery.eventId && body["type"] as? String == "destination.test")
            #expect(body["integration_id"] is NSNull && (body["data"] as? [String: Any])?["destination_id"] as? String == destination.id)
            #expect(body["created_at"] is String)

            #expect(try await Self.deliveries(client, key: tenant.key).map(\.id) == [delivery.id])
            #expect(try await Self.deliveries(client, key: tenant.key, .init(destinationId: other.id)).isEmpty)
            let shown = try await api.getDelivery(path: .init(deliveryId: delivery.id)).ok.body.json
            #expect(shown.body == delivery.body && shown.eventId == delivery.eventId)
            #expect(try await api.listEvents().ok.body.json.data.allSatisfy { $0._type != "destination.test" })
        }
    }

    @Test("recording an event fans out to the matching enabled destinations; the deliveries list filters and pages")
    func fanOutAndFilters() async throws {
        let environment = try await Self.environment()
        try await environment.withDatabase { database in
            try await environment.withApp { (client: any TestClientProtocol) async throws in
                let tenant = try await client.makeTenant(slug: "destinations-fan-out")
                let tenantID = try Self.tenantID(tenant.id)
                let api = client.api(key: tenant.key)
                let stripe = try #require(UUID(uuidString: try await IntegrationsAPITests.createStripe(client, key: tenant.key)))
                let everything = try await Self.create(client, key: tenant.key)
                let integrations = try await Self.create(
                    client,
                    key: tenant.key,
                    .init(url: Self.receiverURL, filter: .init(eventTypes: ["integration.*"]))
                )
                let webhooks = try await Self.create(
                    client,
                    key: tenant.key,
                    .init(url: Self.receiverURL, filter: .init(eventTypes: ["webhook.received"]))
                )
                let stripeOnly = try await Self.create(client, key: tenant.key, .init(url: Self.receiverURL, filter: .init(providers: ["stripe"])))
                let disabled = try await Self.create(client, key: tenant.key)
                _ = try await api.disableDestination(path: .init(destinationId: disabled.id)).ok
                // The integration's creation recorded its own event; the deliveries it made are not this test's.
                let existing = Set(try await Self.deliveries(client, key: tenant.key).map(\.id))

                let before = Date()
                try await database.withTenant(tenantID, logger: environment.logger) { transaction in
                    try await transaction.recordEvent("integration.health_changed", integrationID: stripe, data: ["health": "degraded"])
                    try await transaction.recordEvent("webhook.received", integrationID: nil)
                    try await transaction.recordEvent("records.changed", integrationID: nil)
                }
                let events = try await api.listEvents().ok.body.json.data.filter { $0.createdAt >= before.addingTimeInterval(-1) }
                let health = try #require(events.first { $0._type == "integration.health_changed" })
                let webhook = try #require(events.first { $0._type == "webhook.received" })
                let records = try #require(events.first { $0._type == "records.changed" })

                let made = try await Self.deliveries(client, key: tenant.key).filter { !existing.contains($0.id) }
                let byDestination = Dictionary(grouping: made, by: \.destinationId).mapValues { Set($0.map(\.eventId)) }
                #expect(byDestination[everything.id] == [health.id, webhook.id, records.id])
                #expect(byDestination[integrations.id] == [health.id])
                #expect(byDestination[webhooks.id] == [webhook.id])
                #expect(byDestination[stripeOnly.id] == [health.id])
                #expect(byDestination[disabled.id] == nil && made.count == 6)
                #expect(made.allSatisfy { $0.status == .queued && $0.webhookId == "msg_\($0.eventId)" && $0.body == nil && $0.attempts == nil })
                // Newest first.
                #expect(made.map(\.id) == made.map(\.id).sorted(by: >))

                // Filters combine.
                let ofHealth = try await Self.deliveries(client, key: tenant.key, .init(eventId: health.id))
                #expect(Set(ofHealth.map(\.destinationId)) == [everything.id, integrations.id, stripeOnly.id])
                let narrowed = try await Self.deliveries(client, key: tenant.key, .init(destinationId: everything.id, eventId: webhook.id))
                #expect(narrowed.count == 1 && narrowed.first?.eventType == "webhook.received")
                #expect(try await Self.deliveries(client, key: tenant.key, .init(status: .succeeded)).isEmpty)
                #expect(try await Self.deliveries(client, key: tenant.key, .init(status: .queued)).count == made.count + existing.count)
                #expect(try await Self.deliveries(client, key: tenant.key, .init(createdAfter: Date().addingTimeInterval(60))).isEmpty)
                #expect(try await Self.deliveries(client, key: tenant.key, .init(createdBefore: before.addingTimeInterval(-3600))).isEmpty)
                let recent = try await Self.deliveries(client, key: tenant.key, .init(createdAfter: before.addingTimeInterval(-1)))
                #expect(Set(recent.map(\.id)).isSuperset(of: made.map(\.id)))

                // Cursor paging by id, newest first, without repeats.
                var seen: [String] = []
                var cursor: String?
                repeat {
                    let page = try await api.listDeliveries(query: .init(limit: 2, cursor: cursor, destinationId: everything.id)).ok.body.json
                    seen += page.data.map(\.id)
                    cursor = page.nextCursor
                } while cursor != nil
                // (It also heard the destination.disabled event recorded above.)
                #expect(seen == (try await Self.deliveries(client, key: tenant.key, .init(destinationId: everything.id))).map(\.id))
                #expect(seen.count == 4)

                // One delivery in full: the event as /v1/events shows it, and no attempt yet.
                let one = try #require(made.first { $0.destinationId == integrations.id })
                let shown = try await api.getDelivery(path: .init(deliveryId: one.id)).ok.body.json
                let body = try Self.object(try #require(shown.body))
                #expect(body["id"] as? String == health.id && body["integration_id"] as? String == stripe.lowercasedString)
                #expect((body["data"] as? [String: Any])?["health"] as? String == "degraded" && shown.attempts == [])

                for query in ["status=sent", "destination_id=nope", "event_id=1", "created_after=yesterday", "colour=red"] {
                    #expect(try await client.request(.get, "/v1/deliveries?\(query)", key: tenant.key).status == .badRequest, "\(query)")
                }
            }
        }
    }

    @Test("resend queues a second delivery of the same event with the same body and webhook-id; 409 once the destination is gone")
    func resend() async throws {
        let environment = try await Self.environment()
        try await environment.withApp { (client: any TestClientProtocol) async throws in
            let tenant = try await client.makeTenant(slug: "destinations-resend")
            let api = client.api(key: tenant.key)
            let destination = try await Self.create(client, key: tenant.key)
            let first = try await api.testDestination(path: .init(destinationId: destination.id)).accepted.body.json

            let accepted = try await api.resendDelivery(path: .init(deliveryId: first.id)).accepted
            let second = try accepted.body.json
            #expect(accepted.headers.location == "/v1/deliveries/\(second.id)")
            #expect(second.id != first.id && second.eventId == first.eventId && second.webhookId == first.webhookId)
            #expect(second.body == first.body && second.destinationId == destination.id && second.status == .queued)
            let ofEvent = try await Self.deliveries(client, key: tenant.key, .init(eventId: first.eventId))
            #expect(ofEvent.map(\.id) == [second.id, first.id])

            _ = try await api.resendDelivery(path: .init(deliveryId: UUID().uuidString.lowercased())).notFound
            _ = try await api.deleteDestination(path: .init(destinationId: destination.id)).noContent
            _ = try await api.resendDelivery(path: .init(deliveryId: first.id)).conflict
            // The waiting ones were cancelled with their destination; they stay listed.
            let left = try await Self.deliveries(client, key: tenant.key, .init(eventId: first.eventId))
            #expect(left.count == 2 && left.allSatisfy { $0.status == .cancelled })
        }
    }

    @Test("replay since a time queues the events that match the destination's filter, with the bodies the fan-out made")
    func replay() async throws {
        let environment = try await Self.environment()
        try await environment.withDatabase { database in
            try await environment.withApp { (client: any TestClientProtocol) async throws in
                let tenant = try await client.makeTenant(slug: "destinations-replay")
                let tenantID = try Self.tenantID(tenant.id)
                let api = client.api(key: tenant.key)
                // Hears everything as it is recorded: its deliveries' bodies are what a replay must reproduce.
                let live = try await Self.create(client, key: tenant.key)
                func record(_ type: String) async throws {
                    try await database.withTenant(tenantID, logger: environment.logger) { transaction in
                        // A statement of its own: whatever `recordEvent` returns, this closure returns nothing.
                        try await transaction.recordEvent(type, integrationID: nil)
                        return
                    }
                    try await Task.sleep(for: .milliseconds(20))
                }
                // The boundaries are whole seconds, as the client sends times.
                func nextSecond() async throws -> Date {
                    let second = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down) + 1)
                    try await Task.sleep(for: .milliseconds(Int(second.timeIntervalSinceNow * 1000) + 20))
                    return second
                }
                try await record("integration.connected")
                let since = try await nextSecond()
                try await record("integration.connected")
                try await record("webhook.received")
                let until = try await nextSecond()
                try await record("integration.disconnected")

                // Created after the events, so it has none of its own until the replay.
                let recovering = try await Self.create(
                    client,
                    key: tenant.key,
                    .init(url: Self.receiverURL, filter: .init(eventTypes: ["integration.*"]))
                )
                let events = try await api.listEvents().ok.body.json.data
                let expected = events.filter { $0.createdAt >= since && $0._type.hasPrefix("integration.") }.map(\.id)
                #expect(expected.count == 2)

                let path = Operations.ReplayDestination.Input.Path(destinationId: recovering.id)
                let result = try await api.replayDestination(path: path, body: .json(.init(since: since))).accepted.body.json
                #expect(result.enqueued == 2 && !result.capped && result.nextSince == nil)
                let replayed = try await Self.deliveries(client, key: tenant.key, .init(destinationId: recovering.id))
                #expect(replayed.map(\.eventId).sorted() == expected.sorted())
                for delivery in replayed {
                    let original = try #require(
                        try await Self.deliveries(client, key: tenant.key, .init(destinationId: live.id, eventId: delivery.eventId)).first
                    )
                    let replayedBody = try await api.getDelivery(path: .init(deliveryId: delivery.id)).ok.body.json.body
                    let originalBody = try await api.getDelivery(path: .init(deliveryId: original.id)).ok.body.json.body
                    #expect(replayedBody != nil && replayedBody == originalBody && delivery.webhookId == original.webhookId)
                }

                // A window: only what was recorded before `until`.
                let windowed = try await api.replayDestination(path: path, body: .json(.init(since: since, until: until))).accepted.body.json
                #expect(windowed.enqueued == 1)
                #expect(
                    try await api.replayDestination(path: path, body: .json(.init(since: Date().addingTimeInterval(60)))).accepted.body.json.enqueued
                        == 0
                )

                for (json, field) in [
                    ("{}", "since"), (#"{"since":"yesterday"}"#, "since"),
                    (#"{"since":"2026-01-02T00:00:00Z","until":"2026-01-01T00:00:00Z"}"#, "until"),
                ] {
                    let response = try await client.request(.post, "/v1/destinations/\(recovering.id)/replay", key: tenant.key, json: json)
                    #expect(try TypedBody.problem(response, .unprocessableContent).detail?.contains(field) == true, "\(json)")
                }
            }
        }
    }
}
