import Foundation
import HTTPTypes
import HummingbirdTesting
import SwitchyardAPI
import SwitchyardTestSupport
import Testing

@Suite("Tenants and API keys through the API")
struct TenantsAPITests {
    @Test("the operator creates, reads, updates and deletes a tenant")
    func lifecycle() async throws {
        try await TestEnvironment.make().withApp { (client: any TestClientProtocol) async throws in
            let admin = TestEnvironment.adminKey
            let created = try await client.request(.post, "/v1/tenants", key: admin, json: #"{"slug":"acme","name":"Acme Inc."}"#)
            #expect(created.status == .created)
            let tenant = try created.jsonObject()
            let id = try #require(tenant["id"] as? String)
            #expect(created.headers[.location] == "/v1/tenants/\(id)")
            #expect(tenant["slug"] as? String == "acme")
            #expect(tenant["created_at"] is String && tenant["updated_at"] is String)

            let fetched = try await client.request(.get, "/v1/tenants/\(id)", key: admin)
            #expect(try fetched.jsonObject()["name"] as? String == "Acme Inc.")

            let renamed = try await client.request(.patch, "/v1/tenants/\(id)", key: admin, json: #"{"name":"Acme Corp"}"#)
            #expect(renamed.status == .ok)
            #expect(try renamed.jsonObject()["name"] as? String == "Acme Corp")
            #expect(try renamed.jsonObject()["slug"] as? String == "acme")

            #expect(try await client.request(.patch, "/v1/tenants/\(id)", key: admin, json: "{}").status == .unprocessableContent)
            #expect(try await client.request(.delete, "/v1/tenants/\(id)", key: admin).status == .noContent)
            #expect(try await client.request(.get, "/v1/tenants/\(id)", key: admin).status == .notFound)
            #expect(try await client.request(.delete, "/v1/tenants/\(id)", key: admin).status == .notFound)
        }
    }

    @Test("deleting a tenant revokes its keys with it")
    func deleteRevokesKeys() async throws {
        try await TestEnvironment.make().withApp { (client: any TestClientProtocol) async throws in
            let tenant = try await client.makeTenant(slug: "short-lived")
            #expect(try await client.request(.get, "/v1/me", key: tenant.key).status == .ok)
            #expect(try await client.request(.delete, "/v1/tenants/\(tenant.id)", key: TestEnvironment.adminKey).status == .noContent)
            #expect(try await client.request(.get, "/v1/me", key: tenant.key).status == .unauthorized)
        }
    }

    @Test("cursor pagination walks every item once, and limit is capped")
    func pagination() async throws {
        var environment = try await TestEnvironment.make()
        environment.configuration.limits = .init(maxPageSize: 3, defaultPageSize: 2, rateLimitPerSecond: 10_000, rateLimitBurst: 10_000)
        try await environment.withApp { (client: any TestClientProtocol) async throws in
            let tenant = try await client.makeTenant(slug: "pages")
            for index in 0..<6 {
                #expect(try await client.request(.post, "/v1/api-keys", key: tenant.key, json: #"{"name":"k\#(index)"}"#).status == .created)
            }
            var seen: [String] = []
            var cursor: String?
            var pages = 0
            repeat {
                let query = cursor.map { "?limit=50&cursor=\($0)" } ?? "?limit=50"
                let page = try await client.request(.get, "/v1/api-keys\(query)", key: tenant.key).jsonObject()
                let items = try #require(page["data"] as? [[String: Any]])
                #expect(items.count <= 3)
                seen += items.compactMap { $0["id"] as? String }
                cursor = page["next_cursor"] as? String
                pages += 1
            } while cursor != nil && pages < 10
            #expect(seen.count == 7)  // six plus the first key
            #expect(Set(seen).count == 7)
            #expect(pages == 3)
            let defaultPage = try await client.request(.get, "/v1/api-keys", key: tenant.key).jsonObject()
            #expect((defaultPage["data"] as? [Any])?.count == 2)
        }
    }
}
