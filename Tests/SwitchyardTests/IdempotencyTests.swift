import Crypto
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import PostgresNIO
import SwitchyardAPI
import SwitchyardAPIClient
import SwitchyardAPIContract
import SwitchyardCore
import SwitchyardPostgres
import SwitchyardTestSupport
import Testing

@Suite("Idempotency-Key on POST (REQUIREMENTS API-6)")
struct IdempotencyTests {
    @Test("a retry with the same key and body replays the first response and creates nothing new")
    func replay() async throws {
        try await TestEnvironment.make().withApp { (client: any TestClientProtocol) async throws in
            let headers: HTTPFields = [.idempotencyKey: "create-tenant-1"]
            let body = #"{"slug":"replayed","name":"Replayed"}"#
            let first = try await client.request(.post, "/v1/tenants", key: TestEnvironment.adminKey, json: body, headers: headers)
            #expect(first.status == .created)
            #expect(first.headers[.idempotentReplayed] == nil)
            let second = try await client.request(.post, "/v1/tenants", key: TestEnvironment.adminKey, json: body, headers: headers)
            #expect(second.status == .created)
            #expect(second.headers[.idempotentReplayed] == "true")
            #expect(second.text == first.text)
            #expect(second.headers[.location] == first.headers[.location])
            #expect(try await client.api(key: TestEnvironment.adminKey).listTenants().ok.body.json.data.count == 1)
        }
    }

    @Test("the same key with a different body is 422; a different key runs anew")
    func mismatch() async throws {
        try await TestEnvironment.make().withApp { (client: any TestClientProtocol) async throws in
            let tenant = try await client.makeTenant(slug: "mismatch")
            let headers: HTTPFields = [.idempotencyKey: "k-1"]
            #expect(try await client.request(.post, "/v1/api-keys", key: tenant.key, json: #"{"name":"one"}"#, headers: headers).status == .created)
            let reused = try await client.request(.post, "/v1/api-keys", key: tenant.key, json: #"{"name":"two"}"#, headers: headers)
            try ProblemDetailsTests.expectProblem(reused, .unprocessableContent, code: "idempotency-key-reused")
            let fresh = try await client.request(.post, "/v1/api-keys", key: tenant.key, json: #"{"name":"two"}"#, headers: [.idempotencyKey: "k-2"])
            #expect(fresh.status == .created)
        }
    }

    @Test("a replayed key creation never shows, and the database never stores, the secret")
    func secretsAreNotReplayed() async throws {
        let environment = try await TestEnvironment.make()
        try await environment.withApp { (client: any TestClientProtocol) async throws in
            let tenant = try await client.makeTenant(slug: "secret-replay")
            let api = client.api(key: tenant.key)
            let first = try await api.createAPIKey(headers: .init(idempotencyKey: "new-key"), body: .json(.init(name: "ci"))).created.body.json
            let secret = try #require(first.value2.key)
            // The replay is the key without its secret: still a CreatedAPIKey by the document, with no `key`.
            let replay = try await api.createAPIKey(headers: .init(idempotencyKey: "new-key"), body: .json(.init(name: "ci"))).created
            #expect(replay.headers.idempotentReplayed == ._true)
            #expect(try replay.body.json.value2.key == nil)
            #expect(try replay.body.json.value1.id == first.value1.id)
            let raw = try await client.request(.post, "/v1/api-keys", key: tenant.key, json: #"{"name":"ci"}"#, headers: [.idempotencyKey: "new-key"])
            #expect(!raw.text.contains(secret))
            let stored = try await environment.withOwnerConnection { connection in
                let query: PostgresQuery = "SELECT count(*) FROM idempotency_keys WHERE position(\(ByteBuffer(string: secret)) IN response_body) > 0"
                return try await connection.query(query, logger: environment.logger)
                    .decode(Int.self).collect()
            }
            #expect(stored == [0])
        }
    }

    @Test("a key still being processed is 409, and refused requests replay their refusal")
    func inProgress() async throws {
        let environment = try await TestEnvironment.make()
        try await environment.withApp { (client: any TestClientProtocol) async throws in
            let tenant = try await client.makeTenant(slug: "in-progress")
            let tenantID = TenantID(try #require(UUID(uuidString: tenant.id)))
            // Another request (another server, say) holds the key and has not finished.
            let body = #"{"name":"slow"}"#
            var hasher = SHA256()
            hasher.update(data: Array("POST /v1/api-keys\n".utf8))
            hasher.update(data: Array(body.utf8))
            let requestHash = Array(hasher.finalize())
            let claim = try await environment.withDatabase { database in
                try await database.claimIdempotencyKey("busy", requestHash: requestHash, tenant: tenantID, logger: environment.logger)
            }
            #expect(claim == .proceed)
            let response = try await client.request(.post, "/v1/api-keys", key: tenant.key, json: body, headers: [.idempotencyKey: "busy"])
            try ProblemDetailsTests.expectProblem(response, .conflict, code: "idempotency-key-in-use")

            // A 4xx is an answer: the retry gets the same answer, not a second attempt.
            let invalid = try await client.request(.post, "/v1/api-keys", key: tenant.key, json: #"{"name":""}"#, headers: [.idempotencyKey: "bad"])
            #expect(invalid.status == .unprocessableContent)
            let again = try await client.request(.post, "/v1/api-keys", key: tenant.key, json: #"{"name":""}"#, headers: [.idempotencyKey: "bad"])
            #expect(again.status == .unprocessableContent)
            #expect(again.headers[.idempotentReplayed] == "true")
        }
    }

    @Test("keys are scoped per tenant: the same key in two tenants is two requests")
    func scopedPerTenant() async throws {
        try await TestEnvironment.make().withApp { (client: any TestClientProtocol) async throws in
            let a = try await client.makeTenant(slug: "scope-a")
            let b = try await client.makeTenant(slug: "scope-b")
            let fromA = try await client.api(key: a.key).createAPIKey(headers: .init(idempotencyKey: "shared"), body: .json(.init(name: "k"))).created
            let fromB = try await client.api(key: b.key).createAPIKey(headers: .init(idempotencyKey: "shared"), body: .json(.init(name: "k"))).created
            #expect(fromB.headers.idempotentReplayed == nil)
            #expect(try fromA.body.json.value1.id != fromB.body.json.value1.id)
        }
    }

    @Test("an invalid Idempotency-Key is 400")
    func invalidKey() async throws {
        try await TestEnvironment.make().withApp { (client: any TestClientProtocol) async throws in
            let long = String(repeating: "k", count: 256)
            let response = try await client.request(
                .post,
                "/v1/tenants",
                key: TestEnvironment.adminKey,
                json: #"{"slug":"x","name":"x"}"#,
                headers: [.idempotencyKey: long]
            )
            try ProblemDetailsTests.expectProblem(response, .badRequest, code: "invalid-request")
        }
    }
}
