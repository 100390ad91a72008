import Foundation
import HTTPTypes
import HummingbirdTesting
import PostgresNIO
import SwitchyardAPIClient
import SwitchyardAPIContract
import SwitchyardCore
import SwitchyardTestSupport
import Testing

@Suite("Authentication (REQUIREMENTS API-2, AK-1)")
struct AuthenticationTests {
    @Test("a request without a key is 401 with a Bearer challenge")
    func missingKey() async throws {
        try await TestEnvironment.make().withApp { (client: any TestClientProtocol) async throws in
            let response = try await client.request(.get, "/v1/me")
            #expect(response.status == .unauthorized)
            #expect(response.headers[.wwwAuthenticate] == "Bearer")
            #expect(response.headers[.contentType] == "application/problem+json")
        }
    }

    @Test(
        "malformed, unknown and wrong-scheme keys are 401",
        arguments: [
            "Bearer not-a-key",
            "Bearer sy_live_0000000000000000000000000000000000000000000000000",
            "Basic dXNlcjpwYXNz",
            "Bearer",
        ]
    )
    func badKeys(header: String) async throws {
        try await TestEnvironment.make().withApp { (client: any TestClientProtocol) async throws in
            let response = try await client.request(.get, "/v1/me", headers: [.authorization: header])
            #expect(response.status == .unauthorized)
        }
    }

    @Test("a well-formed key that does not exist is 401, and one with a broken checksum is 401 too")
    func unknownKey() async throws {
        try await TestEnvironment.make().withApp { (client: any TestClientProtocol) async throws in
            let unknown = APIKeySecret.generate().value
            #expect(try await client.request(.get, "/v1/me", key: unknown).status == .unauthorized)
            let flipped = String(unknown.dropLast()) + (unknown.last == "A" ? "B" : "A")
            #expect(try await client.request(.get, "/v1/me", key: flipped).status == .unauthorized)
        }
    }

    @Test("a revoked key stops working at once")
    func revokedKey() async throws {
        try await TestEnvironment.make().withApp { (client: any TestClientProtocol) async throws in
            let tenant = try await client.makeTenant(slug: "revoker")
            let api = client.api(key: tenant.key)
            let second = try await api.createAPIKey(body: .json(.init(name: "second"))).created.body.json
            let secondKey = try #require(second.value2.key)
            _ = try await client.api(key: secondKey).getMe().ok
            let revoked = try await api.revokeAPIKey(path: .init(keyId: second.value1.id)).ok.body.json
            #expect(revoked.revokedAt != nil)
            let after = try await client.request(.get, "/v1/me", key: secondKey)
            #expect(after.status == .unauthorized)
            #expect(after.text.contains("revoked"))
        }
    }

    @Test("an expired key is 401")
    func expiredKey() async throws {
        let environment = try await TestEnvironment.make()
        try await environment.withApp { (client: any TestClientProtocol) async throws in
            let tenant = try await client.makeTenant(slug: "expiring")
            let api = client.api(key: tenant.key)
            let later = Date().addingTimeInterval(3600)
            let valid = try #require(try await api.createAPIKey(body: .json(.init(name: "valid", expiresAt: later))).created.body.json.value2.key)
            #expect(try await client.request(.get, "/v1/me", key: valid).status == .ok)
            // The expiry passes without waiting for it: the key is moved into the past before its first use
            // (a used key is cached for a few seconds with the expiry it had).
            let created = try await api.createAPIKey(body: .json(.init(name: "short", expiresAt: later))).created.body.json
            let key = try #require(created.value2.key)
            let id = created.value1.id
            try await environment.withOwnerConnection { connection in
                try await connection.query(
                    "UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = \(UUID(uuidString: id))",
                    logger: environment.logger
                )
            }
            let after = try await client.request(.get, "/v1/me", key: key)
            #expect(after.status == .unauthorized)
            #expect(after.text.contains("expired"))
        }
    }

    @Test("the operator key is refused on tenant routes and tenant keys on operator routes (403)")
    func wrongPrincipal() async throws {
        try await TestEnvironment.make().withApp { (client: any TestClientProtocol) async throws in
            let tenant = try await client.makeTenant(slug: "principal")
            #expect(try await client.request(.get, "/v1/me", key: TestEnvironment.adminKey).status == .forbidden)
            #expect(try await client.request(.get, "/v1/tenants", key: tenant.key).status == .forbidden)
            #expect(try await client.request(.get, "/v1/tenants/\(tenant.id)", key: tenant.key).status == .forbidden)
        }
    }

    @Test("keys in the query string are refused")
    func keyInQuery() async throws {
        try await TestEnvironment.make().withApp { (client: any TestClientProtocol) async throws in
            let tenant = try await client.makeTenant(slug: "query")
            let response = try await client.request(.get, "/v1/me?api_key=\(tenant.key)", key: tenant.key)
            #expect(response.status == .unauthorized)
        }
    }

    @Test("a read-only key can read but not write (403)")
    func readOnlyScope() async throws {
        try await TestEnvironment.make().withApp { (client: any TestClientProtocol) async throws in
            let tenant = try await client.makeTenant(slug: "scopes")
            let created = try await client.api(key: tenant.key).createAPIKey(body: .json(.init(name: "reader", scopes: [.read])))
            let reader = try #require(try created.created.body.json.value2.key)
            #expect(try await client.request(.get, "/v1/api-keys", key: reader).status == .ok)
            #expect(try await client.request(.post, "/v1/api-keys", key: reader, json: #"{"name":"x"}"#).status == .forbidden)
        }
    }

    @Test("GET /v1/me names the calling tenant and key, and no list shows a secret")
    func meAndNoSecrets() async throws {
        try await TestEnvironment.make().withApp { (client: any TestClientProtocol) async throws in
            let tenant = try await client.makeTenant(slug: "whoami")
            // The APIKey schema has no `key` and the client refuses unknown fields: the secret is not there.
            #expect(try await client.api(key: tenant.key).getMe().ok.body.json.tenant.id == tenant.id)
            let me = try await client.request(.get, "/v1/me", key: tenant.key)
            #expect(!me.text.contains(tenant.key))
            let list = try await client.request(.get, "/v1/api-keys", key: tenant.key)
            #expect(!list.text.contains(tenant.key))
            #expect(!list.text.contains("secret_hash"))
        }
    }
}

@Suite("API key format")
struct APIKeyFormatTests {
    @Test("generated keys are prefixed, 57 characters, checksummed and distinct")
    func format() {
        let key = APIKeySecret.generate()
        #expect(key.value.hasPrefix("sy_live_"))
        #expect(key.value.count == 57)
        #expect(APIKeySecret(parsing: key.value) != nil)
        #expect(key.displayPrefix.count == 16)
        #expect(APIKeySecret.generate().value != key.value)
    }

    @Test("a single changed character fails the checksum")
    func checksum() {
        let key = APIKeySecret.generate().value
        var characters = Array(key)
        characters[20] = characters[20] == "x" ? "y" : "x"
        #expect(APIKeySecret(parsing: String(characters)) == nil)
    }

    @Test("constant-time comparison agrees with equality")
    func constantTime() {
        #expect(ConstantTime.secretsEqual("abc", "abc"))
        #expect(!ConstantTime.secretsEqual("abc", "abd"))
        #expect(!ConstantTime.bytesEqual([1, 2], [1, 2, 3]))
    }
}
