import Foundation
import HTTPTypes
import HummingbirdTesting
import SwitchyardAPI
import SwitchyardAPIClient
import SwitchyardAPIContract
import SwitchyardTestSupport
import Testing

/// Through the generated client: every response below is decoded by its schema in `openapi/openapi.yaml`.
@Suite("Tenants and API keys through the API")
struct TenantsAPITests {
    @Test("the operator creates, reads, updates and deletes a tenant")
    func lifecycle() async throws {
        try await TestEnvironment.make().withApp { (client: any TestClientProtocol) async throws in
            let api = client.api(key: TestEnvironment.adminKey)
            let created = try await api.createTenant(body: .json(.init(slug: "acme", name: "Acme Inc."))).created
            let tenant = try created.body.json
            #expect(created.headers.location == "/v1/tenants/\(tenant.id)")
            #expect(tenant.slug == "acme")
            #expect(tenant.createdAt == tenant.updatedAt)

            let fetched = try await api.getTenant(path: .init(tenantId: tenant.id)).ok.body.json
            #expect(fetched.name == "Acme Inc.")

            let renamed = try await api.updateTenant(path: .init(tenantId: tenant.id), body: .json(.init(name: "Acme Corp"))).ok.body.json
            #expect(renamed.name == "Acme Corp")
            #expect(renamed.slug == "acme")

            let empty = try await api.updateTenant(path: .init(tenantId: tenant.id), body: .json(.init())).unprocessableContent.body
                .applicationProblemJson
            #expect(empty.detail?.contains("at least one of") == true)
            _ = try await api.deleteTenant(path: .init(tenantId: tenant.id)).noContent
            _ = try await api.getTenant(path: .init(tenantId: tenant.id)).notFound
            _ = try await api.deleteTenant(path: .init(tenantId: tenant.id)).notFound
        }
    }

    @Test("deleting a tenant revokes its keys with it")
    func deleteRevokesKeys() async throws {
        try await TestEnvironment.make().withApp { (client: any TestClientProtocol) async throws in
            let tenant = try await client.makeTenant(slug: "short-lived")
            _ = try await client.api(key: tenant.key).getMe().ok
            _ = try await client.api(key: TestEnvironment.adminKey).deleteTenant(path: .init(tenantId: tenant.id)).noContent
            _ = try await client.api(key: tenant.key).getMe().unauthorized
        }
    }

    @Test("cursor pagination walks every item once, and limit is capped")
    func pagination() async throws {
        var environment = try await TestEnvironment.make()
        environment.configuration.limits = .init(maxPageSize: 3, defaultPageSize: 2, rateLimitPerSecond: 10_000, rateLimitBurst: 10_000)
        try await environment.withApp { (client: any TestClientProtocol) async throws in
            let tenant = try await client.makeTenant(slug: "pages")
            let api = client.api(key: tenant.key)
            for index in 0..<6 {
                _ = try await api.createAPIKey(body: .json(.init(name: "k\(index)"))).created
            }
            var seen: [String] = []
            var cursor: String?
            var pages = 0
            repeat {
                let page = try await api.listAPIKeys(query: .init(limit: 50, cursor: cursor)).ok.body.json
                #expect(page.data.count <= 3)
                seen += page.data.map(\.id)
                cursor = page.nextCursor
                pages += 1
            } while cursor != nil && pages < 10
            #expect(seen.count == 7)  // six plus the first key
            #expect(Set(seen).count == 7)
            #expect(pages == 3)
            #expect(try await api.listAPIKeys().ok.body.json.data.count == 2)
        }
    }
}
