import Foundation
import HummingbirdTesting
import Logging
import NIOCore
import PostgresNIO
import SwitchyardAPIClient
import SwitchyardAPIContract
import SwitchyardCore
import SwitchyardPostgres
import SwitchyardTestSupport
import SwitchyardVault
import Testing

@Suite("OAuth app credentials: a tenant's own, or the platform default")
struct OAuthAppsTests {
    @Test("a tenant's own app wins over the platform default, secrets are sealed and never shown")
    func ownAndPlatformApps() async throws {
        let environment = try await TestEnvironment.make()
        let logger = environment.logger
        let tenantID = try await environment.withApp { (client: any TestClientProtocol) async throws -> String in
            let tenant = try await client.makeTenant(slug: "oauth-apps")
            let api = client.api(key: tenant.key)
            // The answers that must not show a secret are read raw, to search their whole text, then typed.
            let own = try await client.request(
                .put,
                "/v1/oauth-apps/github",
                key: tenant.key,
                json: #"{"client_id":"gh-tenant","client_secret":"gh-tenant-secret"}"#
            )
            #expect(own.status == .created)
            #expect(try TypedBody.decode(Components.Schemas.OAuthApp.self, own).source == .tenant)
            #expect(!own.text.contains("gh-tenant-secret"))
            _ = try await api.putOAuthApp(
                path: .init(providerId: "github"),
                body: .json(.init(clientId: "gh-tenant", clientSecret: "gh-tenant-secret-2"))
            ).ok

            _ = try await api.getOAuthApp(path: .init(providerId: "slack")).notFound
            let platform = try await client.request(
                .put,
                "/v1/platform/oauth-apps/slack",
                key: TestEnvironment.adminKey,
                json: #"{"client_id":"slack-platform","client_secret":"slack-platform-secret","scopes":["chat:write"]}"#
            )
            #expect(platform.status == .created)
            #expect(try TypedBody.decode(Components.Schemas.OAuthApp.self, platform).source == .platform)
            #expect(!platform.text.contains("slack-platform-secret"))
            let fallback = try await api.getOAuthApp(path: .init(providerId: "slack")).ok.body.json
            #expect(fallback.source == .platform)
            #expect(fallback.clientId == "slack-platform")

            let listed = try await client.request(.get, "/v1/oauth-apps", key: tenant.key)
            #expect(try TypedBody.decode(Components.Schemas.OAuthAppList.self, listed).data.map(\.provider) == ["github"])
            #expect(!listed.text.contains("secret\""))
            _ = try await api.listPlatformOAuthApps().forbidden
            return tenant.id
        }
        let tenant = TenantID(try #require(UUID(uuidString: tenantID)))
        try await environment.withDatabase { database in
            let github = try await database.oauthClientCredentials(provider: "github", tenant: tenant, logger: logger)
            #expect(github == OAuthClientCredentials(clientID: "gh-tenant", clientSecret: "gh-tenant-secret-2", scopes: nil, source: .tenant))
            let slack = try await database.oauthClientCredentials(provider: "slack", tenant: tenant, logger: logger)
            #expect(
                slack
                    == OAuthClientCredentials(
                        clientID: "slack-platform",
                        clientSecret: "slack-platform-secret",
                        scopes: ["chat:write"],
                        source: .platform
                    )
            )
            #expect(!"\(try #require(slack))".contains("slack-platform-secret"))
            #expect(try await database.oauthClientCredentials(provider: "google", tenant: tenant, logger: logger) == nil)
        }
        let plaintext = try await environment.withOwnerConnection { connection in
            try await connection.query(
                """
                SELECT (SELECT count(*) FROM oauth_apps WHERE position(\(ByteBuffer(string: "gh-tenant-secret")) IN client_secret) > 0)
                     + (SELECT count(*) FROM platform_oauth_apps WHERE position(\(ByteBuffer(string: "slack-platform-secret")) IN client_secret) > 0)
                """,
                logger: logger
            ).decode(Int.self).collect()
        }
        #expect(plaintext == [0])
    }

    @Test("apps only for OAuth providers, with valid bodies")
    func badRequests() async throws {
        try await TestEnvironment.make().withApp { (client: any TestClientProtocol) async throws in
            let tenant = try await client.makeTenant(slug: "oauth-bad")
            let body = #"{"client_id":"c","client_secret":"s"}"#
            try ProblemDetailsTests.expectProblem(
                try await client.request(.put, "/v1/oauth-apps/stripe", key: tenant.key, json: body),
                .unprocessableContent,
                code: "validation-failed"
            )
            try ProblemDetailsTests.expectProblem(
                try await client.request(.put, "/v1/oauth-apps/nope", key: tenant.key, json: body),
                .notFound,
                code: "not-found"
            )
            try ProblemDetailsTests.expectProblem(
                try await client.request(.put, "/v1/oauth-apps/github", key: tenant.key, json: #"{"client_id":"c"}"#),
                .unprocessableContent,
                code: "validation-failed"
            )
            try ProblemDetailsTests.expectProblem(
                try await client.request(
                    .put,
                    "/v1/oauth-apps/github",
                    key: tenant.key,
                    json: #"{"client_id":"c","client_secret":"s","tenant_id":"x"}"#
                ),
                .unprocessableContent,
                code: "validation-failed"
            )
            try ProblemDetailsTests.expectProblem(
                try await client.request(.put, "/v1/platform/oauth-apps/stripe", key: TestEnvironment.adminKey, json: body),
                .unprocessableContent,
                code: "validation-failed"
            )
            try ProblemDetailsTests.expectProblem(
                try await client.request(.delete, "/v1/oauth-apps/github", key: tenant.key),
                .notFound,
                code: "not-found"
            )
        }
    }

    @Test("keys rewrap moves the platform apps' data keys too, and they keep opening")
    func rewrapPlatformSecrets() async throws {
        let environment = try await TestEnvironment.make()
        let logger = environment.logger
        let original = LocalKeyring.generate(keyID: "platform")
        let rotated = original.rotated()
        let before = Vault(provider: LocalKeyProvider(keyring: original))
        let after = Vault(provider: LocalKeyProvider(keyring: rotated))
        let tenant = try await environment.withDatabase(vault: before) { database in
            _ = try await database.withOperator(logger: logger) {
                try await $0.savePlatformOAuthApp(provider: "google", clientID: "g", clientSecret: "google-secret", scopes: nil)
            }
            return try await database.withOperator(logger: logger) { try await $0.createTenant(slug: "rewrap-platform", name: "x") }.id
        }
        let progress = try await environment.withDatabase(vault: after) { try await $0.rewrapDataKeys(logger: logger) }
        #expect(progress == MaintenanceProgress(done: 2, remaining: 0))  // the tenant's data key and the platform app's
        let opened = try await environment.withDatabase(vault: after) {
            try await $0.oauthClientCredentials(provider: "google", tenant: tenant, logger: logger)
        }
        #expect(opened?.clientSecret == "google-secret")
        await #expect(throws: VaultError.self) {
            try await environment.withDatabase(vault: before) {
                try await $0.oauthClientCredentials(provider: "google", tenant: tenant, logger: logger)
            }
        }
    }
}
