import Foundation
import HTTPTypes
import HummingbirdTesting
import SwitchyardAPI
import SwitchyardAPIClient
import SwitchyardAPIContract
import SwitchyardCore
import SwitchyardTestSupport
import Testing

/// Through the generated client (each response decoded by its schema), except the requests that are wrong on
/// purpose and the proxy, whose answers are the provider's.
@Suite("Integrations, credentials, custom providers and the proxy")
struct IntegrationsAPITests {
    static let stripeSecret = "sk_test_51Hsecretvalue0123456789"

    static func createStripe(_ client: any TestClientProtocol, key: String, tags: [String] = []) async throws -> String {
        let body = Components.Schemas.IntegrationCreate(
            provider: "stripe",
            displayName: "Billing",
            credentials: .init(additionalProperties: ["api_key": stripeSecret]),
            endUserId: "user-42",
            tags: tags
        )
        return try await client.api(key: key).createIntegration(body: .json(body)).created.body.json.id
    }

    /// A key of the tenant with the given scopes, made by the operator (who may grant `credentials:read`).
    static func key(_ client: any TestClientProtocol, tenant: String, scopes: [Components.Schemas.Scope]) async throws -> String {
        let created = try await client.api(key: TestEnvironment.adminKey)
            .createTenantAPIKey(path: .init(tenantId: tenant), body: .json(.init(name: "scoped", scopes: scopes)))
        return try #require(try created.created.body.json.value2.key)
    }

    @Test("an API-key integration is created, listed, filtered, updated and deleted; no response shows its secret")
    func lifecycle() async throws {
        try await TestEnvironment.make().withApp { (client: any TestClientProtocol) async throws in
            let tenant = try await client.makeTenant(slug: "integrations")
            let api = client.api(key: tenant.key)
            let id = try await Self.createStripe(client, key: tenant.key, tags: ["billing", "eu"])
            _ = try await Self.createStripe(client, key: tenant.key, tags: ["us"])

            let shown = try await api.getIntegration(path: .init(integrationId: id)).ok.body.json
            #expect(shown.provider == "stripe")
            #expect(shown.authType == .apiKey)
            #expect(shown.status == .connected)
            #expect(shown.endUserId == "user-42")
            #expect(shown.health == nil)
            #expect(!(try await client.request(.get, "/v1/integrations/\(id)", key: tenant.key)).text.contains(Self.stripeSecret))

            #expect(try await api.listIntegrations().ok.body.json.data.count == 2)
            #expect(!(try await client.request(.get, "/v1/integrations", key: tenant.key)).text.contains(Self.stripeSecret))
            #expect(try await api.listIntegrations(query: .init(tag: "eu")).ok.body.json.data.map(\.id) == [id])
            #expect(try await api.listIntegrations(query: .init(provider: "github")).ok.body.json.data.isEmpty)
            #expect(try await api.listIntegrations(query: .init(status: .connected)).ok.body.json.data.count == 2)
            #expect(try await client.request(.get, "/v1/integrations?status=sleeping", key: tenant.key).status == .badRequest)

            let renamed = try await api.updateIntegration(path: .init(integrationId: id), body: .json(.init(displayName: "Stripe EU", tags: ["eu"])))
            #expect(try renamed.ok.body.json.displayName == "Stripe EU")
            #expect(
                try await client.request(.patch, "/v1/integrations/\(id)", key: tenant.key, json: #"{"status":"connected"}"#).status
                    == .unprocessableContent
            )

            _ = try await api.deleteIntegration(path: .init(integrationId: id)).noContent
            _ = try await api.getIntegration(path: .init(integrationId: id)).notFound

            let actions = try await api.listAuditEvents().ok.body.json.data.map(\.action)
            #expect(actions.filter { $0 == "integration.created" }.count == 2)
            #expect(actions.first == "integration.deleted")  // newest first
            #expect(!(try await client.request(.get, "/v1/audit-events", key: tenant.key)).text.contains(Self.stripeSecret))
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
            let forbidden = try await client.api(key: tenant.key).getIntegrationCredentials(path: .init(integrationId: id)).forbidden
            #expect(try forbidden.body.applicationProblemJson._type.hasSuffix("/forbidden"))

            let reader = try await Self.key(client, tenant: tenant.id, scopes: [.read, .write, .credentials_colon_read])
            let api = client.api(key: reader)
            // A key cannot hand out a scope it does not have.
            _ = try await client.api(key: tenant.key).createAPIKey(body: .json(.init(name: "x", scopes: [.credentials_colon_read]))).forbidden

            let read = try await api.getIntegrationCredentials(path: .init(integrationId: id)).ok
            #expect(read.headers.cacheControl == .noStore)
            guard case .case1(let credential) = try read.body.json else {
                Issue.record("an API-key integration's credential is its fields")
                return
            }
            #expect(credential._type == .apiKey)
            #expect(credential.fields.additionalProperties["api_key"] == Self.stripeSecret)
            _ = try await api.getIntegrationCredentials(path: .init(integrationId: UUID().uuidString)).notFound

            let event = try #require(try await api.listAuditEvents().ok.body.json.data.first)
            #expect(event.action == "credential.read")
            #expect(event.resourceId == id)
            #expect(event.requestId == read.headers.xRequestId)
            #expect(reader.hasPrefix(event.actor))
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
            #expect(try await api.getProvider(path: .init(providerId: "acme")).ok.body.json.value2.custom == true)

            let integration = try await api.createIntegration(
                body: .json(.init(provider: "acme", credentials: .init(additionalProperties: ["api_key": "k"])))
            ).created.body.json
            _ = try await api.deleteProvider(path: .init(providerId: "acme")).conflict
            _ = try await api.deleteIntegration(path: .init(integrationId: integration.id)).noContent
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
                let id = try await client.api(key: tenant.key).createIntegration(
                    body: .json(.init(provider: "acme", credentials: .init(additionalProperties: ["api_key": secret])))
                ).created.body.json.id

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

                let reader = try await Self.key(client, tenant: tenant.id, scopes: [.read])
                #expect(try await client.request(.post, "/v1/integrations/\(id)/proxy/customers", key: reader, json: "{}").status == .forbidden)
            }
        }
        #expect(!capture.lines.isEmpty)
        #expect(capture.lines.allSatisfy { !$0.contains(secret) }, "a log line holds the provider secret")
    }
}
