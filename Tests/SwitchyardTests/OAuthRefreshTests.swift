import AsyncHTTPClient
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import SwitchyardAPIClient
import SwitchyardAPIContract
import SwitchyardCore
import SwitchyardTestSupport
import Testing

@Suite("OAuth refresh: single-flight across servers, rotation, invalid_grant, revocation")
struct OAuthRefreshTests {
    @Test("50 concurrent credential reads of an expired token across two servers make one token call and all get the new token")
    func singleFlightAcrossServers() async throws {
        try await FakeOAuthProvider.withRunning { fake in
            // Tokens live 1 s; no skew, so the token is used until it has really expired.
            fake.update {
                $0.accessTokenLifetime = 1
                $0.tokenDelay = .milliseconds(300)  // keeps the refresh in flight while the other readers arrive
            }
            let environment = try await OAuthFixture.environment(for: fake, refreshSkewSeconds: 0)
            // Nothing reads the token before it expires: a read on a slow machine could refresh it early.
            let (fixture, integration) = try await environment.withApp { (client: any TestClientProtocol) async throws in
                let fixture = try await OAuthFixture.make(client, environment: environment, fake: fake)
                return (fixture, try await fixture.connect(client))
            }
            let expired = try #require(fake.lastIssuedAccessToken)
            try await Task.sleep(for: .milliseconds(1200))
            #expect(!fake.isLive(accessToken: expired))
            fake.update { $0.accessTokenLifetime = 3600 }

            // Two complete server stacks, each with its own pool, outbound client and in-process coalescer:
            // only the row lock in PostgreSQL is shared, as between two `serve` processes.
            let tokens = try await environment.withLiveServer { first in
                try await environment.withLiveServer { second in
                    // A connection per request: with the client's default 8 per host the rest queue inside it, where a
                    // loaded machine once ran out the wait for a connection.
                    let http = HTTPClient.forLoad(connections: 50)
                    defer { Task { try? await http.shutdown() } }
                    return try await withThrowingTaskGroup(of: String?.self) { group in
                        for index in 0..<50 {
                            group.addTask {
                                var request = HTTPClientRequest(
                                    url: "http://127.0.0.1:\(index.isMultiple(of: 2) ? first : second)/v1/integrations/\(integration)/credentials"
                                )
                                request.headers.add(name: "Authorization", value: "Bearer \(fixture.key)")
                                let response = try await http.execute(request, timeout: .seconds(30))
                                let body = try await response.body.collect(upTo: 1 << 20)
                                guard response.status == .ok else { return nil }
                                let object = try JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any]
                                return object?["access_token"] as? String
                            }
                        }
                        var tokens: [String?] = []
                        for try await token in group { tokens.append(token) }
                        return tokens
                    }
                }
            }
            #expect(tokens.count == 50)
            #expect(tokens.allSatisfy { $0 != nil })
            #expect(Set(tokens.compactMap { $0 }).count == 1)
            let fresh = try #require(tokens.first ?? nil)
            #expect(fresh != expired)
            #expect(fake.isLive(accessToken: fresh))
            #expect(fake.counters.refreshGrants == 1)
        }
    }

    @Test("a rotated refresh token replaces the old one in the same write, so refresh after refresh keeps working")
    func rotationIsNeverLost() async throws {
        try await OAuthFixture.run { client, fixture in
            let fake = fixture.fake
            let id = try await fixture.connect(client)
            var previous = Set<String>()
            for round in 1...4 {
                let refreshed = try await client.api(key: fixture.key).refreshIntegration(path: .init(integrationId: id)).ok.body.json
                #expect(refreshed.expiresAt != nil, "round \(round)")
                let token = try await fixture.accessToken(client, id).accessToken
                #expect(!previous.contains(token))
                previous.insert(token)
            }
            #expect(fake.counters.refreshGrants == 4)
            // Each refresh used the token the previous one issued; a lost rotation would have been invalid_grant.
            #expect(try await fixture.integration(client, id).status == .connected)
            #expect(try await fixture.count("integration_credentials") == 1)
        }
    }

    @Test("invalid_grant marks the integration needs_reauth once, with an event, and nothing retries it")
    func invalidGrant() async throws {
        try await FakeOAuthProvider.withRunning { fake in
            // Every token is inside the 2-hour skew window, so each read wants a refresh.
            let environment = try await OAuthFixture.environment(for: fake, refreshSkewSeconds: 7200)
            try await environment.withApp { (client: any TestClientProtocol) async throws in
                let fixture = try await OAuthFixture.make(client, environment: environment, fake: fake)
                let id = try await fixture.connect(client)
                fake.forgetAllGrants()  // the user revoked the app at the provider
                let refused = try await client.request(.get, "/v1/integrations/\(id)/credentials", key: fixture.key)
                try ProblemDetailsTests.expectProblem(refused, .conflict, code: "needs-reauth")
                #expect(fake.counters.refreshGrants == 1)
                #expect(try await fixture.integration(client, id).status == .needsReauth)
                let events = try await fixture.events(client, type: "integration.needs_reauth")
                #expect(events.count == 1)

                // No retry loop: later reads, proxy calls and refreshes fail fast without calling the provider.
                try ProblemDetailsTests.expectProblem(
                    try await client.request(.get, "/v1/integrations/\(id)/credentials", key: fixture.key),
                    .conflict,
                    code: "needs-reauth"
                )
                #expect(try await client.request(.get, "/v1/integrations/\(id)/proxy/me", key: fixture.key).status == .conflict)
                try ProblemDetailsTests.expectProblem(
                    try await client.request(.post, "/v1/integrations/\(id)/refresh", key: fixture.key),
                    .conflict,
                    code: "needs-reauth"
                )
                #expect(fake.counters.refreshGrants == 1)
                #expect(try await fixture.events(client, type: "integration.needs_reauth").count == 1)

                // Reconnecting through a connect session for that integration brings it back.
                let session = try await fixture.connectSession(client, .init(integrationId: id))
                let page = try await client.request(.get, "/connect/\(session.token)")
                let cookie = String(try #require(page.headers[.setCookie]).split(separator: ";")[0])
                let back = try await fixture.followCallback(client, try fake.decide(authorizationURL: try #require(page.location)), cookie: cookie)
                #expect(back.status == .ok)
                #expect(try await fixture.integration(client, id).status == .connected)
                #expect(try await fixture.count("integrations") == 1)
            }
        }
    }

    @Test("a token endpoint answering 503 is retried a bounded number of times; then the caller gets 502 and nothing changes")
    func transientFailures() async throws {
        try await OAuthFixture.run { client, fixture in
            let fake = fixture.fake
            let id = try await fixture.connect(client)
            fake.failNextTokenCalls(2)
            #expect(try await client.request(.post, "/v1/integrations/\(id)/refresh", key: fixture.key).status == .ok)
            #expect(fake.counters.refreshGrants == 1)

            fake.failNextTokenCalls(100)
            let failed = try await client.request(.post, "/v1/integrations/\(id)/refresh", key: fixture.key)
            try ProblemDetailsTests.expectProblem(failed, .badGateway, code: "provider-unavailable")
            #expect(try await fixture.integration(client, id).status == .connected)
            fake.failNextTokenCalls(0)
            #expect(try await client.request(.post, "/v1/integrations/\(id)/refresh", key: fixture.key).status == .ok)
        }
    }

    @Test("the proxy calls the provider with a refreshed token")
    func proxyUsesFreshToken() async throws {
        try await FakeOAuthProvider.withRunning { fake in
            fake.update { $0.accessTokenLifetime = 1 }
            let environment = try await OAuthFixture.environment(for: fake, refreshSkewSeconds: 0)
            try await environment.withApp { (client: any TestClientProtocol) async throws in
                let fixture = try await OAuthFixture.make(client, environment: environment, fake: fake)
                let id = try await fixture.connect(client)
                fake.update { $0.accessTokenLifetime = 3600 }
                try await Task.sleep(for: .milliseconds(1200))
                let me = try await client.request(.get, "/v1/integrations/\(id)/proxy/me", key: fixture.key)
                #expect(me.status == .ok, "\(me.text)")
                #expect(me.text.contains("Fake User"))
                #expect(fake.counters.refreshGrants == 1)
            }
        }
    }

    @Test(
        "a 401 from the provider to a token not yet expired: one refresh, shared by concurrent calls, and one retry; invalid_grant then needs_reauth (issue 12, item 11)"
    )
    func proxyRefreshesRevokedToken() async throws {
        try await OAuthFixture.run { client, fixture in
            let fake = fixture.fake
            let id = try await fixture.connect(client)
            #expect(try await client.request(.get, "/v1/integrations/\(id)/proxy/me", key: fixture.key).status == .ok)
            #expect(fake.counters.refreshGrants == 0)

            fake.revokeAccessTokens()
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<8 {
                    group.addTask { try await client.request(.get, "/v1/integrations/\(id)/proxy/me", key: fixture.key).status.code }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses == Array(repeating: 200, count: 8))
            #expect(fake.counters.refreshGrants == 1)
            #expect(try await fixture.integration(client, id).status == .connected)

            fake.forgetAllGrants()
            let refused = try await client.request(.get, "/v1/integrations/\(id)/proxy/me", key: fixture.key)
            try ProblemDetailsTests.expectProblem(refused, .conflict, code: "needs-reauth")
            #expect(try await fixture.integration(client, id).status == .needsReauth)
            #expect(fake.counters.refreshGrants == 2)
        }
    }

    @Test("deleting an integration revokes its grant at the provider and deletes the ciphertext")
    func deleteRevokes() async throws {
        try await OAuthFixture.run { client, fixture in
            let fake = fixture.fake
            let id = try await fixture.connect(client)
            #expect(fake.liveRefreshTokenCount == 1)
            #expect(try await client.request(.delete, "/v1/integrations/\(id)", key: fixture.key).status == .noContent)
            #expect(fake.counters.revocations == 1)
            #expect(try await fixture.count("integration_credentials") == 0)
            #expect(try await fixture.count("integrations") == 0)
            #expect(fake.liveRefreshTokenCount == 0)
            let audit = try await client.request(.get, "/v1/audit-events", key: fixture.key).text
            #expect(audit.contains(#""revocation":"revoked""#))
        }
    }

    @Test("a disconnect whose revocation the provider defers (503) still deletes the credential and says so")
    func disconnectWhenRevocationFails() async throws {
        try await OAuthFixture.run { client, fixture in
            let fake = fixture.fake
            let id = try await fixture.connect(client)
            fake.setRevocationStatus(503)
            let body = try await client.api(key: fixture.key).disconnectIntegration(path: .init(integrationId: id)).ok.body.json
            #expect(body.revocation == .failed)
            #expect(body.integration.status == .disconnected)
            #expect(fake.counters.revocations == 3)  // bounded retries of the 503
            #expect(try await fixture.count("integration_credentials") == 0)
            #expect(try await fixture.events(client, type: "integration.disconnected").count == 1)
            try ProblemDetailsTests.expectProblem(
                try await client.request(.get, "/v1/integrations/\(id)/credentials", key: fixture.key),
                .conflict,
                code: "conflict"
            )
        }
    }
}
