import AsyncHTTPClient
import Crypto
import Foundation
import HTTPTypes
import HummingbirdTesting
import SwitchyardAPIClient
import SwitchyardAPIContract
import SwitchyardCore
import SwitchyardTestSupport
import Testing

@Suite("Webhook sources and ingestion (WH-1..WH-8)")
struct WebhookIngestTests {
    static func run(_ body: @Sendable @escaping (any TestClientProtocol, String) async throws -> Void) async throws {
        try await TestEnvironment.make().withApp { (client: any TestClientProtocol) async throws in
            let tenant = try await client.makeTenant(slug: "hooks")
            try await body(client, tenant.key)
        }
    }

    /// The recorded events, through the generated client.
    static func events(
        _ client: any TestClientProtocol,
        key: String,
        query: Operations.ListWebhookEvents.Input.Query = .init()
    ) async throws -> [Components.Schemas.WebhookEvent] {
        try await client.api(key: key).listWebhookEvents(query: query).ok.body.json.data
    }

    @Test("a signed GitHub delivery is recorded once; a redelivery answers 2xx and changes nothing")
    func recordOnce() async throws {
        try await Self.run { client, key in
            let source = try await WebhookFixture.makeSource(client, key: key)
            // Signature-bearing headers of other schemes, and anything named like a credential, are redacted too.
            let first = try await WebhookFixture.deliverGitHub(
                client,
                source: source.id,
                secret: source.secret,
                deliveryID: "d-1",
                extraHeaders: [
                    "svix-signature": "v1,c2VjcmV0LXNpZ25hdHVyZQ==", "x-relay-token": "relay-secret-value",
                ]
            )
            #expect(first.status == .ok)
            #expect(try WebhookFixture.receipt(first).status == .recorded)
            let again = try await WebhookFixture.deliverGitHub(client, source: source.id, secret: source.secret, deliveryID: "d-1")
            #expect(again.status == .ok)
            #expect(try WebhookFixture.receipt(again).status == .duplicate)

            let events = try await Self.events(client, key: key)
            #expect(events.count == 1)
            let id = try #require(events.first?.id)
            #expect(events.first?.eventId == "d-1")
            #expect(events.first?._type == "pull_request")
            #expect(events.first?.status == .received)
            let detail = try await client.api(key: key).getWebhookEvent(path: .init(eventId: id)).ok.body.json
            #expect(detail.body == #"{"action":"opened","number":1}"#)
            let headers = try #require(detail.headers?.additionalProperties)
            #expect(headers["x-hub-signature-256"] == "[redacted]")
            #expect(headers["svix-signature"] == "[redacted]")
            #expect(headers["x-relay-token"] == "[redacted]")
            #expect(headers["x-github-delivery"] == "d-1")
        }
    }

    @Test(
        "signed deliveries whose event id the database cannot keep (empty, 400 bytes, \\u0000) are recorded under their digest, with their neighbours"
    )
    func unstorableEventIDs() async throws {
        try await Self.run { client, key in
            let source = try await WebhookFixture.makeSource(client, key: key, scheme: WebhookFixture.stripe(), secret: "whsec_ids")
            let ids = ["", String(repeating: "e", count: 400), #"evt_\u0000_nul"#, "evt_fine_1", "evt_fine_2"]
            // Concurrently, so the group commit puts them in the same batches.
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for id in ids {
                    group.addTask {
                        try await WebhookFixture.deliverStripe(client, source: source.id, secrets: ["whsec_ids"], eventID: id).status.code
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses == Array(repeating: 200, count: ids.count))
            let recorded = try await Self.events(client, key: key).map(\.eventId)
            #expect(recorded.count == ids.count)
            #expect(Set(recorded.filter { !$0.hasPrefix("sha256:") }) == ["evt_fine_1", "evt_fine_2"])
            // The digest still de-duplicates a redelivery.
            let redelivery = try await WebhookFixture.deliverStripe(client, source: source.id, secrets: ["whsec_ids"], eventID: "")
            #expect(try WebhookFixture.receipt(redelivery).status == .duplicate)
        }
    }

    @Test("a flipped byte, another tenant's secret, a missing signature: 401 and nothing stored")
    func rejected() async throws {
        try await TestEnvironment.make().withApp { (client: any TestClientProtocol) async throws in
            let a = try await client.makeTenant(slug: "hooks-a")
            let b = try await client.makeTenant(slug: "hooks-b")
            let source = try await WebhookFixture.makeSource(client, key: a.key, secret: "tenant-a-secret")
            _ = try await WebhookFixture.makeSource(client, key: b.key, secret: "tenant-b-secret")
            let tampered = try await WebhookFixture.deliverGitHub(
                client,
                source: source.id,
                secret: source.secret,
                deliveryID: "t-1",
                body: #"{"action":"opened","number":2}"#,
                signatureBody: #"{"action":"opened","number":1}"#
            )
            try ProblemDetailsTests.expectProblem(tampered, .unauthorized, code: "invalid-signature")
            let foreign = try await WebhookFixture.deliverGitHub(client, source: source.id, secret: "tenant-b-secret", deliveryID: "t-2")
            try ProblemDetailsTests.expectProblem(foreign, .unauthorized, code: "invalid-signature")
            let unsigned = try await client.execute(
                uri: "/webhooks/\(source.id)",
                method: .post,
                headers: [.contentType: "application/json"],
                body: .init(string: "{}")
            )
            try ProblemDetailsTests.expectProblem(unsigned, .unauthorized, code: "invalid-signature")
            #expect(try await Self.events(client, key: a.key).isEmpty)
            #expect(try await Self.events(client, key: b.key).isEmpty)
        }
    }

    @Test("Stripe secrets rotate: both work during the grace period, the old one stops when expired; stale and future timestamps fail")
    func stripeRotation() async throws {
        try await Self.run { client, key in
            let api = client.api(key: key)
            let source = try await WebhookFixture.makeSource(
                client,
                key: key,
                scheme: WebhookFixture.stripe(toleranceSeconds: 300),
                secret: "whsec_old_secret_1"
            )
            #expect(
                try await WebhookFixture.deliverStripe(client, source: source.id, secrets: ["whsec_old_secret_1"], eventID: "evt_1").status == .ok
            )
            let added = try await api.addWebhookSecret(
                path: .init(sourceId: source.id),
                body: .json(.init(secret: "whsec_new_secret_2", expireOthersAfterSeconds: 3600))
            ).created.body.json
            #expect(added.secret == nil)
            #expect(
                try await WebhookFixture.deliverStripe(client, source: source.id, secrets: ["whsec_new_secret_2"], eventID: "evt_2").status == .ok
            )
            #expect(
                try await WebhookFixture.deliverStripe(client, source: source.id, secrets: ["whsec_old_secret_1"], eventID: "evt_3").status == .ok
            )
            // During a rotation Stripe signs with both; one good v1 is enough.
            #expect(
                try await WebhookFixture.deliverStripe(client, source: source.id, secrets: ["wrong-secret", "whsec_new_secret_2"], eventID: "evt_4")
                    .status == .ok
            )

            let secrets = try await api.getWebhookSource(path: .init(sourceId: source.id)).ok.body.json.secrets
            #expect(secrets.count == 2)
            let old = try #require(secrets.first { $0.expiresAt != nil }?.id)
            _ = try await api.expireWebhookSecret(path: .init(sourceId: source.id, secretId: old)).noContent
            try ProblemDetailsTests.expectProblem(
                try await WebhookFixture.deliverStripe(client, source: source.id, secrets: ["whsec_old_secret_1"], eventID: "evt_5"),
                .unauthorized,
                code: "invalid-signature"
            )

            let now = Int(Date().timeIntervalSince1970)
            try ProblemDetailsTests.expectProblem(
                try await WebhookFixture.deliverStripe(
                    client,
                    source: source.id,
                    secrets: ["whsec_new_secret_2"],
                    eventID: "evt_6",
                    timestamp: now - 400
                ),
                .unauthorized,
                code: "invalid-signature"
            )
            try ProblemDetailsTests.expectProblem(
                try await WebhookFixture.deliverStripe(
                    client,
                    source: source.id,
                    secrets: ["whsec_new_secret_2"],
                    eventID: "evt_7",
                    timestamp: now + 400
                ),
                .unauthorized,
                code: "invalid-signature"
            )
            let recorded = try await Self.events(client, key: key).map(\.eventId)
            #expect(Set(recorded) == ["evt_1", "evt_2", "evt_3", "evt_4"])
            #expect(try await Self.events(client, key: key, query: .init(_type: "invoice.paid")).count == 4)
        }
    }

    @Test("a grace period that ends while the source is cached: the old secret stops verifying at once (issue 12, item 6)")
    func graceEndsWhileCached() async throws {
        try await Self.run { client, key in
            let api = client.api(key: key)
            let source = try await WebhookFixture.makeSource(
                client,
                key: key,
                scheme: WebhookFixture.stripe(toleranceSeconds: 300),
                secret: "whsec_old_secret_1"
            )
            _ = try await api.addWebhookSecret(
                path: .init(sourceId: source.id),
                body: .json(.init(secret: "whsec_new_secret_2", expireOthersAfterSeconds: 2))
            ).created
            // The grace ends when the server says (2 s after it handled the rotation, however long the request took).
            let shown = try await api.getWebhookSource(path: .init(sourceId: source.id)).ok.body.json
            let graceEnds = try #require(shown.secrets.compactMap(\.expiresAt).min())
            // Loads the source, with both secrets, into the cache (kept 5 s; no API call invalidates it below). Signed with
            // the new secret, so it passes however slow the machine is.
            #expect(
                try await WebhookFixture.deliverStripe(client, source: source.id, secrets: ["whsec_new_secret_2"], eventID: "evt_load").status == .ok
            )
            // Times are shown to the second, truncated: the grace ends within the second after the one shown.
            try await Task.sleep(for: .seconds(max(0, graceEnds.timeIntervalSinceNow) + 1.2))
            try ProblemDetailsTests.expectProblem(
                try await WebhookFixture.deliverStripe(client, source: source.id, secrets: ["whsec_old_secret_1"], eventID: "evt_grace_over"),
                .unauthorized,
                code: "invalid-signature"
            )
            #expect(
                try await WebhookFixture.deliverStripe(client, source: source.id, secrets: ["whsec_new_secret_2"], eventID: "evt_new").status == .ok
            )
        }
    }

    @Test("a Standard Webhooks source generates its whsec_ secret and shows it once")
    func standardWebhooksSecret() async throws {
        try await Self.run { client, key in
            let api = client.api(key: key)
            let created = try await api.createWebhookSource(
                body: .json(.init(name: "std", scheme: .standardWebhooks(.init(_type: .standardWebhooks)), generateSecret: true))
            ).created.body.json
            let secret = try #require(created.secret)
            #expect(secret.hasPrefix("whsec_"))
            let id = created.id
            #expect(created.ingestUrl.hasSuffix("/webhooks/\(id)"))
            #expect(try await api.getWebhookSource(path: .init(sourceId: id)).ok.body.json.secret == nil)
            // Nowhere in the answer, whichever field: read raw.
            #expect(!(try await client.request(.get, "/v1/webhook-sources/\(id)", key: key).text.contains(secret)))

            let key32 = try #require(Data(base64Encoded: String(secret.dropFirst(6))))
            let timestamp = String(Int(Date().timeIntervalSince1970))
            let payload = #"{"type":"user.created","data":{"id":1}}"#
            let mac = HMACSHA256.base64(key: key32, "msg_1.\(timestamp).\(payload)")
            let headers: HTTPFields = [
                HTTPField.Name("webhook-id")!: "msg_1", HTTPField.Name("webhook-timestamp")!: timestamp,
                HTTPField.Name("webhook-signature")!: "v1,\(mac)",
            ]
            let delivered = try await client.execute(uri: "/webhooks/\(id)", method: .post, headers: headers, body: .init(string: payload))
            #expect(delivered.status == .ok, "\(String(buffer: delivered.body))")
            #expect(try await Self.events(client, key: key, query: .init(sourceId: id)).first?._type == "user.created")
        }
    }

    @Test("Slack's url_verification is answered with its challenge and stores nothing")
    func slackChallenge() async throws {
        try await Self.run { client, key in
            let source = try await WebhookFixture.makeSource(client, key: key, scheme: WebhookFixture.slack, secret: "slack-signing-secret")
            let timestamp = String(Int(Date().timeIntervalSince1970))
            let payload = #"{"token":"x","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}"#
            let headers: HTTPFields = [
                HTTPField.Name("X-Slack-Request-Timestamp")!: timestamp,
                HTTPField.Name("X-Slack-Signature")!: "v0=" + WebhookFixture.hmacHex(source.secret, "v0:\(timestamp):\(payload)"),
            ]
            let answer = try await client.execute(uri: "/webhooks/\(source.id)", method: .post, headers: headers, body: .init(string: payload))
            #expect(answer.status == .ok)
            #expect(String(buffer: answer.body) == #"{"challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}"#)
            #expect(try await Self.events(client, key: key).isEmpty)
        }
    }

    @Test("oversize body 413, unknown source 404, source without a secret 409, bad source definitions 422")
    func badDeliveries() async throws {
        try await Self.run { client, key in
            let api = client.api(key: key)
            let small = try await api.createWebhookSource(
                body: .json(.init(name: "small", scheme: WebhookFixture.github, maxBodyBytes: 1024, secret: "small-secret"))
            ).created.body.json.id
            let big = String(repeating: "x", count: 2048)
            try ProblemDetailsTests.expectProblem(
                try await WebhookFixture.deliverGitHub(client, source: small, secret: "small-secret", deliveryID: "big", body: big),
                .contentTooLarge,
                code: "payload-too-large"
            )
            try ProblemDetailsTests.expectProblem(
                try await WebhookFixture.deliverGitHub(client, source: UUID().uuidString.lowercased(), secret: "x", deliveryID: "u"),
                .notFound,
                code: "not-found"
            )
            try ProblemDetailsTests.expectProblem(
                try await WebhookFixture.deliverGitHub(client, source: "not-a-uuid", secret: "x", deliveryID: "u"),
                .notFound,
                code: "not-found"
            )
            let bareID = try await api.createWebhookSource(body: .json(.init(name: "bare", scheme: WebhookFixture.github))).created.body.json.id
            try ProblemDetailsTests.expectProblem(
                try await WebhookFixture.deliverGitHub(client, source: bareID, secret: "x", deliveryID: "n"),
                .conflict,
                code: "no-secret"
            )
            // Bodies the generated client cannot send (an unknown type, missing fields) or that break a rule: raw.
            for body in [
                #"{"name":"x","scheme":{"type":"nope"}}"#, #"{"name":"x","scheme":{"type":"stripe","tolerance_seconds":0}}"#,
                #"{"name":"x","scheme":{"type":"hmac","header":"bad header"}}"#,
                #"{"name":"x","scheme":{"type":"hmac","header":"X-Sig","signed_content":"timestamp_dot_body"}}"#,
                #"{"name":"x","scheme":{"type":"standard_webhooks"},"secret":"not-a-whsec"}"#, #"{"name":"","scheme":{"type":"github"}}"#,
                #"{"name":"x","scheme":{"type":"github"},"max_body_bytes":10}"#,
                #"{"name":"x","scheme":{"type":"github"},"secret":"abc","generate_secret":true}"#,
            ] {
                try ProblemDetailsTests.expectProblem(
                    try await client.request(.post, "/v1/webhook-sources", key: key, json: body),
                    .unprocessableContent,
                    code: "validation-failed"
                )
            }
        }
    }

    @Test("50 concurrent deliveries of one event make exactly one row; every sender gets 2xx")
    func concurrentDuplicates() async throws {
        let environment = try await TestEnvironment.make()
        try await environment.withApp(.live) { (client: any TestClientProtocol) async throws in
            let tenant = try await client.makeTenant(slug: "hooks-race")
            let source = try await WebhookFixture.makeSource(client, key: tenant.key)
            // Fifty connections: the test client pipelines its requests on one, which the server answers one after
            // another (no race at all, and the last waited for the other 49 within its own timeout).
            let port = try #require(client.port)
            let http = HTTPClient.forLoad(connections: 50)
            let loopback = LoopbackHTTP(client: http, port: port)
            let body = #"{"action":"opened","number":1}"#
            let headers = [
                ("Content-Type", "application/json"), ("X-GitHub-Delivery", "same-delivery"), ("X-GitHub-Event", "pull_request"),
                ("X-Hub-Signature-256", "sha256=" + WebhookFixture.hmacHex(source.secret, body)),
            ]
            let statuses: [(HTTPResponse.Status, WebhookFixture.Receipt.StatusPayload?)]
            do {
                statuses = try await withThrowingTaskGroup(of: (HTTPResponse.Status, WebhookFixture.Receipt.StatusPayload?).self) { group in
                    for _ in 0..<50 {
                        group.addTask {
                            let answer = try await loopback.send(.POST, "/webhooks/\(source.id)", headers: headers, body: body, timeout: .seconds(60))
                            let receipt = try? JSONDecoder().decode(WebhookFixture.Receipt.self, from: Data(answer.body.utf8))
                            return (HTTPResponse.Status(code: answer.status), receipt?.status)
                        }
                    }
                    var all: [(HTTPResponse.Status, WebhookFixture.Receipt.StatusPayload?)] = []
                    for try await result in group { all.append(result) }
                    return all
                }
            } catch {
                try await http.shutdown()
                throw error
            }
            try await http.shutdown()
            #expect(statuses.allSatisfy { $0.0 == .ok })
            #expect(statuses.filter { $0.1 == .recorded }.count == 1)
            #expect(statuses.filter { $0.1 == .duplicate }.count == 49)
            #expect(try await Self.events(client, key: tenant.key).count == 1)
        }
    }

    @Test("events can be filtered, inspected and replayed, one or many")
    func eventsAPI() async throws {
        try await Self.run { client, key in
            let api = client.api(key: key)
            let github = try await WebhookFixture.makeSource(client, key: key)
            let stripe = try await WebhookFixture.makeSource(client, key: key, scheme: WebhookFixture.stripe(), secret: "whsec_abcdefgh")
            for index in 1...3 {
                _ = try await WebhookFixture.deliverGitHub(client, source: github.id, secret: github.secret, deliveryID: "g-\(index)")
            }
            _ = try await WebhookFixture.deliverStripe(client, source: stripe.id, secrets: [stripe.secret], eventID: "evt_a")
            #expect(try await Self.events(client, key: key).count == 4)
            #expect(try await Self.events(client, key: key, query: .init(sourceId: github.id)).count == 3)
            #expect(try await Self.events(client, key: key, query: .init(_type: "invoice.paid", status: .received)).count == 1)
            let farFuture = try #require(RFC3339Timestamp.date(from: "2999-01-01T00:00:00Z"))
            #expect(try await Self.events(client, key: key, query: .init(receivedAfter: farFuture)).isEmpty)
            let page = try await api.listWebhookEvents(query: .init(limit: 2)).ok.body.json
            let cursor = try #require(page.nextCursor)
            #expect(try await Self.events(client, key: key, query: .init(limit: 2, cursor: cursor)).count == 2)
            // Values the generated client cannot send: raw.
            try ProblemDetailsTests.expectProblem(
                try await client.request(.get, "/v1/webhook-events?status=bogus", key: key),
                .badRequest,
                code: "invalid-request"
            )
            try ProblemDetailsTests.expectProblem(
                try await client.request(.get, "/v1/webhook-events?received_after=yesterday", key: key),
                .badRequest,
                code: "invalid-request"
            )

            let one = try #require(try await Self.events(client, key: key).first?.id)
            let replayed = try await api.replayWebhookEvent(path: .init(eventId: one)).ok.body.json
            #expect(replayed.replayed == [one])
            let many = try await api.replayWebhookEvents(body: .json(.init(sourceId: github.id))).ok.body.json
            #expect(many.replayed.count == 3)
            let missing = try await api.replayWebhookEvent(path: .init(eventId: UUID().uuidString)).notFound
            ProblemDetailsTests.expectProblem(
                try missing.body.applicationProblemJson,
                requestID: missing.headers.xRequestId,
                .notFound,
                code: "not-found"
            )
        }
    }
}

enum HMACSHA256 {
    static func base64(key: Data, _ content: String) -> String {
        Data(WebhookFixture.hmacRaw(key: key, content)).base64EncodedString()
    }
}

extension WebhookFixture {
    static func hmacRaw(key: Data, _ content: String) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: Data(content.utf8), using: SymmetricKey(data: key)))
    }
}
