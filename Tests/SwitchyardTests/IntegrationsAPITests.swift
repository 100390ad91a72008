import Foundation
import HTTPTypes
import HummingbirdTesting
import SwitchyardAPI
import SwitchyardAPIClient
import SwitchyardAPIContract
import SwitchyardCore
import SwitchyardTestSupport
import Testing

@Suite("Integrations, credentials, custom providers and the proxy")
struct IntegrationsAPITests {
    static let stripeSecret = "sk_test_51Hsecretvalue0123456789"

    static func createStripe(_ client: any TestClientProtocol, key: String, tags: [String] = []) async throws -> String {
        let tagJSON = tags.map { "\"\($0)\"" }.joined(separator: ",")
        let created = try await client.request(
            .post,
            "/v1/integrations",
            key: key,
            json:
                #"{"provider":"stripe","display_name":"Billing","credentials":{"api_key":"\#(stripeSecret)"},"end_user_id":"user-42","tags":[\#(tagJSON)]}"#
        )
        #expect(created.status == .created, "\(created.text)")
        return try #require(try created.jsonObject()["id"] as? String)
    }

    /// A key of the tenant with the given scopes, made by the operator (who may grant `credentials:read`).
    static func key(_ client: any TestClientProtocol, tenant: String, scopes: [String]) async throws -> String {
        let scopeJSON = scopes.map { "\"\($0)\"" }.joined(separator: ",")
        let created = try await client.request(
            .post,
            "/v1/tenants/\(tenant)/api-keys",
            key: TestEnvironment.adminKey,
            json: #"{"name":"scoped","scopes":[\#(scopeJSON)]}"#
        )
        return try #require(try created.jsonObject()["key"] as? String, "\(created.text)")
    }

    @Test("an API-key integration is created, listed, filtered, updated and deleted; no response shows its secret")
    func lifecycle() async throws {
        try await TestEnvironment.make().withApp { (client: any TestClientProtocol) async throws in
            let tenant = try await client.makeTenant(slug: "integrations")
            let id = try await Self.createStripe(client, key: tenant.key, tags: ["billing", "eu"])
            _ = try await Self.createStripe(client, key: tenant.key, tags: ["us"])

            let shown = try await client.request(.get, "/v1/integrations/\(id)", key: tenant.key)
            let body = try shown.jsonObject()
            #expect(body["provider"] as? String == "stripe")
            #expect(body["auth_type"] as? String == "api_key")
            #expect(body["status"] as? String == "connected")
            #expect(body["end_user_id"] as? String == "user-42")
            #expect(!shown.text.contains(Self.stripeSecret))

            let all = try await client.request(.get, "/v1/integrations", key: tenant.key)
            #expect((try all.jsonObject()["data"] as? [Any])?.count == 2)
            #expect(!all.text.contains(Self.stripeSecret))
            let tagged = try await client.request(.get, "/v1/integrations?tag=eu", key: tenant.key).jsonObject()["data"] as? [[String: Any]]
            #expect(tagged?.map { $0["id"] as? String } == [id])
            #expect(
                (try await client.request(.get, "/v1/integrations?provider=github", key: tenant.key).jsonObject()["data"] as? [Any])?.isEmpty == true
            )
            #expect((try await client.request(.get, "/v1/integrations?status=connected", key: tenant.key).jsonObject()["data"] as? [Any])?.count == 2)
            #expect(try await client.request(.get, "/v1/integrations?status=sleeping", key: tenant.key).status == .badRequest)

            let renamed = try await client.request(
                .patch,
                "/v1/integrations/\(id)",
                key: tenant.key,
                json: #"{"display_name":"Stripe EU","tags":["eu"]}"#
            )
            #expect(try renamed.jsonObject()["display_name"] as? String == "Stripe EU")
            #expect(
                try await client.request(.patch, "/v1/integrations/\(id)", key: tenant.key, json: #"{"status":"connected"}"#).status
                    == .unprocessableContent
            )

            #expect(try await client.request(.delete, "/v1/integrations/\(id)", key: tenant.key).status == .noContent)
            #expect(try await client.request(.get, "/v1/integrations/\(id)", key: tenant.key).status == .notFound)

            let audit = try await client.request(.get, "/v1/audit-events", key: tenant.key)
            let actions = (try audit.jsonObject()["data"] as? [[String: Any]])?.compactMap { $0["action"] as? String } ?? []
            #expect(actions.filter { $0 == "integration.created" }.count == 2)
            #expect(actions.first == "integration.deleted")  // newest first
            #expect(!audit.text.contains(Self.stripeSecret))
        }
    }

    @Test(
        "bad integration requests are refused with a clear problem",
        arguments: [
            (#"{"provider":"nope","credentials":{"api_key":"x"}}"#, "Unknown provider"),
            (#"{"provider":"github","credentials":{"api_key":"x"}}"#, "OAuth"),
            (#"{"provider":"stripe","credentials":{}}"#, "api_key"),
            (#"{"provider":"stripe","credentials":{"api_key":"x","password":"y"}}"#, "password"),
            (#"{"provider":"stripe","credentials":{"api_key":"line\nbreak"}}"#, "api_key"),
            (
                #"{"provider":"zendesk-api-token","credentials":{"email":"a@b.c","api_token":"t"},"connection_parameters":{"subdomain":"evil.com/x"}}"#,
                "subdomain"
            ),
            (#"{"provider":"stripe","credentials":{"api_key":"x"},"status":"connected"}"#, "status"),
            (#"{"provider":"stripe","credentials":{"api_key":"x"},"tags":["a,b"]}"#, "tag"),
        ]
    )
    func badCreates(body: String, mentions: String) async throws {
        try await TestEnvironment.make().withApp { (client: any TestClientProtocol) async throws in
            let tenant = try await client.makeTenant(slug: "bad-integrations")
            let response = try await client.request(.post, "/v1/integrations", key: tenant.key, json: body)
            try ProblemDetailsTests.expectProblem(response, .unprocessableContent, code: "validation-failed")
            #expect(response.text.contains(mentions), "\(response.text)")
            #expect(!response.text.contains("evil.com"))
        }
    }

    @Test("the usable credential needs the credentials:read scope, and every read is audited")
    func credentials() async throws {
        try await TestEnvironment.make().withApp { (client: any TestClientProtocol) async throws in
            let tenant = try await client.makeTenant(slug: "credentials")
            let id = try await Self.createStripe(client, key: tenant.key)
            try ProblemDetailsTests.expectProblem(
                try await client.request(.get, "/v1/integrations/\(id)/credentials", key: tenant.key),
                .forbidden,
                code: "forbidden"
            )

            let reader = try await Self.key(client, tenant: tenant.id, scopes: ["read", "write", "credentials:read"])
            // A key cannot hand out a scope it does not have.
            #expect(
                try await client.request(.post, "/v1/api-keys", key: tenant.key, json: #"{"name":"x","scopes":["credentials:read"]}"#).status
                    == .forbidden
            )

            let read = try await client.request(.get, "/v1/integrations/\(id)/credentials", key: reader)
            #expect(read.status == .ok)
            #expect(read.headers[.cacheControl] == "no-store")
            let body = try read.jsonObject()
            #expect(body["type"] as? String == "api_key")
            #expect((body["fields"] as? [String: String])?["api_key"] == Self.stripeSecret)
            #expect(try await client.request(.get, "/v1/integrations/\(UUID())/credentials", key: reader).status == .notFound)

            let audit = try await client.request(.get, "/v1/audit-events", key: reader).jsonObject()["data"] as? [[String: Any]]
            let event = try #require(audit?.first)
            #expect(event["action"] as? String == "credential.read")
            #expect(event["resource_id"] as? String == id)
            #expect(event["request_id"] as? String == read.headers[.requestID])
            #expect((event["actor"] as? String).map { reader.hasPrefix($0) } == true)
        }
    }

    @Test("custom providers: built-in ids are reserved, unsafe URLs refused, definitions listed and deleted")
    func customProviders() async throws {
        try await TestEnvironment.make().withApp { (client: any TestClientProtocol) async throws in
            let tenant = try await client.makeTenant(slug: "custom-providers")
            let api = client.api(key: tenant.key)
            let catalog = try await api.listProviders().ok.body.json
            let ids = catalog.data.map(\.value1.id)
            #expect(
                Set(ids).isSuperset(of: [
                    "github", "slack", "google", "microsoft", "hubspot", "salesforce", "stripe", "shopify", "notion", "linear", "zendesk", "jira",
                ])
            )
            #expect(catalog.data.allSatisfy { !$0.value2.custom })

            /// The fixture's definition as the document's request type.
            func definition(id: String, baseURL: String = "https://api.acme-crm.example/v1") throws -> Components.Schemas.ProviderDefinitionBody {
                try JSONDecoder().decode(
                    Components.Schemas.ProviderDefinitionBody.self,
                    from: Data(CustomProviderFixture.json(id: id, baseURL: baseURL).utf8)
                )
            }
            _ = try await api.putProvider(path: .init(providerId: "stripe"), body: .json(try definition(id: "stripe"))).conflict
            for unsafe in ["http://api.acme.example/v1", "https://user:pw@api.acme.example/v1", "https://api.acme.example/v1#frag"] {
                let refused = try await client.request(
                    .put,
                    "/v1/providers/acme",
                    key: tenant.key,
                    json: CustomProviderFixture.json(id: "acme", baseURL: unsafe)
                )
                try ProblemDetailsTests.expectProblem(refused, .unprocessableContent, code: "validation-failed")
            }
            _ = try await api.putProvider(path: .init(providerId: "acme"), body: .json(try definition(id: "other"))).unprocessableContent
            let saved = try await api.putProvider(path: .init(providerId: "acme"), body: .json(try definition(id: "acme"))).created.body.json
            #expect(saved.value1.id == "acme" && saved.value2.custom)
            _ = try await api.putProvider(path: .init(providerId: "acme"), body: .json(try definition(id: "acme"))).ok
            let shown = try await api.getProvider(path: .init(providerId: "acme")).ok.body.json
            #expect(shown.value2.custom == true)

            let integration = try await client.request(
                .post,
                "/v1/integrations",
                key: tenant.key,
                json: #"{"provider":"acme","credentials":{"api_key":"k"}}"#
            )
            #expect(integration.status == .created)
            _ = try await api.deleteProvider(path: .init(providerId: "acme")).conflict
            let integrationID = try #require(try integration.jsonObject()["id"] as? String)
            #expect(try await client.request(.delete, "/v1/integrations/\(integrationID)", key: tenant.key).status == .noContent)
            _ = try await api.deleteProvider(path: .init(providerId: "acme")).noContent
            _ = try await api.getProvider(path: .init(providerId: "acme")).notFound
        }
    }

    @Test("the proxy calls the provider with the credential injected, passes the answer back, and logs no secret")
    func proxy() async throws {
        let capture = LogCapture()
        let base = try await TestEnvironment.make(logger: capture.logger())
        let secret = "acme_live_do_not_leak_0123456789"
        try await FakeProviderAPI.withRunning { fake in
            var environment = base
            environment.configuration.outbound.plainHTTPAllowList = [fake.hostAndPort]
            fake.script(
                "/v1/customers",
                [.status(200, headers: ["Content-Type": "application/json", "Set-Cookie": "session=1", "ETag": "\"v1\""], body: #"{"data":[]}"#)]
            )
            fake.script("/v1/broken", [.status(500)], then: .status(500))
            fake.script("/v1/missing", [.status(404, body: "no such thing")])
            try await environment.withApp { (client: any TestClientProtocol) async throws in
                let tenant = try await client.makeTenant(slug: "proxy")
                #expect(
                    try await client.request(
                        .put,
                        "/v1/providers/acme",
                        key: tenant.key,
                        json: CustomProviderFixture.json(id: "acme", baseURL: "\(fake.baseURL)/v1")
                    ).status == .created
                )
                let created = try await client.request(
                    .post,
                    "/v1/integrations",
                    key: tenant.key,
                    json: #"{"provider":"acme","credentials":{"api_key":"\#(secret)"}}"#
                )
                let id = try #require(try created.jsonObject()["id"] as? String)

                let listed = try await client.request(
                    .get,
                    "/v1/integrations/\(id)/proxy/customers?limit=2",
                    key: tenant.key,
                    headers: [.accept: "application/json", .cookie: "mine=1"]
                )
                #expect(listed.status == .ok)
                #expect(listed.text == #"{"data":[]}"#)
                #expect(listed.headers[.eTag] == "\"v1\"")
                #expect(listed.headers[.setCookie] == nil)
                let received = try #require(fake.requests(to: "/v1/customers").last)
                #expect(received.headers[.authorization] == "Bearer \(secret)")
                #expect(received.query == "limit=2")
                #expect(received.headers[.accept] == "application/json")
                #expect(received.headers[.cookie] == nil)
                #expect(!received.headers.contains { $0.value.contains(tenant.key) })

                let posted = try await client.request(.post, "/v1/integrations/\(id)/proxy/customers", key: tenant.key, json: #"{"name":"Ada"}"#)
                #expect(posted.status == .ok)
                #expect(fake.requests(to: "/v1/customers").last?.body == #"{"name":"Ada"}"#)

                #expect(try await client.request(.get, "/v1/integrations/\(id)/proxy/missing", key: tenant.key).status == .notFound)
                let broken = try await client.request(.get, "/v1/integrations/\(id)/proxy/broken", key: tenant.key)
                #expect(broken.status == .internalServerError)
                #expect(fake.requests(to: "/v1/broken").count == 3)  // an idempotent GET is retried

                let traversal = try await client.request(.get, "/v1/integrations/\(id)/proxy/customers/%2E%2E/admin", key: tenant.key)
                try ProblemDetailsTests.expectProblem(traversal, .badRequest, code: "invalid-request")
                #expect(fake.requests(to: "/v1/admin").isEmpty)

                let reader = try await Self.key(client, tenant: tenant.id, scopes: ["read"])
                #expect(try await client.request(.post, "/v1/integrations/\(id)/proxy/customers", key: reader, json: "{}").status == .forbidden)
            }
        }
        #expect(!capture.lines.isEmpty)
        #expect(capture.lines.allSatisfy { !$0.contains(secret) }, "a log line holds the provider secret")
    }
}
