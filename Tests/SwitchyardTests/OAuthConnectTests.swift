import Foundation
import HTTPTypes
import HummingbirdTesting
import SwitchyardCore
import SwitchyardOAuth
import SwitchyardTestSupport
import Testing

@Suite("OAuth connect: sessions, pages, state, PKCE and the callback")
struct OAuthConnectTests {
    @Test("a connect session's page sends the user to the provider and the callback connects the integration")
    func connectPageFlow() async throws {
        try await OAuthFixture.run { client, fixture in
            let fake = fixture.fake
            let session = try await client.request(
                .post,
                "/v1/connect-sessions",
                key: fixture.key,
                json: #"{"allowed_providers":["fake"],"end_user_id":"user-7","tags":["beta"],"scopes":["write"]}"#
            )
            #expect(session.status == .created, "\(session.text)")
            let created = try session.jsonObject()
            let url = try #require(created["url"] as? String)
            let token = try #require(created["token"] as? String)
            #expect(url == OAuthFixture.publicURL + "/connect/" + token)

            // One provider and nothing to fill in: the page goes straight to the provider, binding the browser.
            let page = try await client.request(.get, "/connect/\(token)")
            #expect(page.status == .seeOther)
            let authorization = try #require(page.location)
            let cookie = try #require(page.headers[.setCookie])
            #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/oauth/callback"))
            #expect(authorization.hasPrefix(fake.baseURL + "/authorize?"))

            let approved = try fake.decide(authorizationURL: authorization)
            let query = fake.lastAuthorizationQuery
            #expect(query["response_type"] == "code")
            #expect(query["redirect_uri"] == OAuthFixture.publicURL + "/oauth/callback")
            #expect(query["scope"] == "profile read write")
            #expect(query["access_type"] == "offline")
            #expect(query["code_challenge"]?.count == 43)
            #expect((query["state"]?.count ?? 0) >= 43)

            let done = try await fixture.followCallback(client, approved, cookie: String(cookie.split(separator: ";")[0]))
            #expect(done.status == .ok)
            #expect(done.headers[.contentType] == "text/html; charset=utf-8")
            #expect(done.text.contains("Fake OAuth is connected"))
            #expect(fake.counters.authorizationCodeGrants == 1)

            let id = try await fixture.onlyIntegrationID(client)
            let integration = try await fixture.integration(client, id)
            #expect(integration["status"] as? String == "connected")
            #expect(integration["auth_type"] as? String == "oauth2")
            #expect(integration["end_user_id"] as? String == "user-7")
            #expect(integration["tags"] as? [String] == ["beta"])

            let credentials = try await client.request(.get, "/v1/integrations/\(id)/credentials", key: fixture.key).jsonObject()
            let accessToken = try #require(credentials["access_token"] as? String)
            #expect(fake.isLive(accessToken: accessToken))
            #expect(credentials["refresh_token"] == nil)
            #expect(credentials["scopes"] as? [String] == ["profile", "read", "write"])

            let events = try await fixture.events(client, type: "integration.connected")
            #expect(events.count == 1)
            #expect(events.first?.integrationId == id)
            let audit = try await client.request(.get, "/v1/audit-events", key: fixture.key).text
            #expect(audit.contains("integration.connected"))

            // The link is used up.
            let again = try await client.request(.get, "/connect/\(token)")
            #expect(again.status == .notFound)
            #expect(again.text.contains("This link no longer works"))
        }
    }

    @Test("a connect link opened in two tabs and approved in both connects once; the second callback exchanges no code (issue 12, item 10)")
    func connectLinkWorksOnce() async throws {
        try await OAuthFixture.run { client, fixture in
            let fake = fixture.fake
            let session = try await client.request(.post, "/v1/connect-sessions", key: fixture.key, json: #"{"allowed_providers":["fake"]}"#)
            let token = try #require(try session.jsonObject()["token"] as? String)
            var tabs: [(callback: String, cookie: String)] = []
            for _ in 0..<2 {
                let page = try await client.request(.get, "/connect/\(token)")
                #expect(page.status == .seeOther)
                let cookie = try #require(page.headers[.setCookie]).split(separator: ";")[0]
                tabs.append((try fake.decide(authorizationURL: try #require(page.location)), String(cookie)))
            }
            #expect(try await fixture.followCallback(client, tabs[0].callback, cookie: tabs[0].cookie).status == .ok)
            let second = try await fixture.followCallback(client, tabs[1].callback, cookie: tabs[1].cookie)
            #expect(second.status == .conflict)
            #expect(second.text.contains("already been used"))
            #expect(fake.counters.authorizationCodeGrants == 1)
            #expect(try await fixture.count("integrations") == 1)
        }
    }

    @Test("a callback replayed with the same state is refused and the code is exchanged once")
    func stateIsSingleUse() async throws {
        try await OAuthFixture.run { client, fixture in
            let fake = fixture.fake
            let approved = try fake.decide(authorizationURL: try await fixture.authorizeURL(client))
            #expect(try await fixture.followCallback(client, approved).status == .ok)
            let replay = try await fixture.followCallback(client, approved)
            #expect(replay.status == .conflict)
            #expect(replay.text.contains("already been used"))
            #expect(fake.counters.authorizationCodeGrants == 1)
            #expect(try await fixture.count("integrations") == 1)
        }
    }

    @Test("an expired, forged or missing state is refused before any code exchange")
    func expiredAndForgedStates() async throws {
        try await OAuthFixture.run { client, fixture in
            let fake = fixture.fake
            let environment = fixture.environment
            let approved = try fake.decide(authorizationURL: try await fixture.authorizeURL(client))
            try await environment.withOwnerConnection { connection in
                try await connection.query("UPDATE oauth_states SET expires_at = now() - interval '1 second'", logger: environment.logger)
            }
            let expired = try await fixture.followCallback(client, approved)
            #expect(expired.status == .conflict)
            #expect(expired.text.contains("took too long"))

            let forged = try await client.request(.get, "/oauth/callback?code=abc&state=not-a-state-we-issued")
            #expect(forged.status == .conflict)
            #expect(forged.text.contains("already been used"))
            let missing = try await client.request(.get, "/oauth/callback?code=abc")
            #expect(missing.status == .badRequest)
            #expect(missing.text.contains("incomplete"))
            #expect(fake.counters.authorizationCodeGrants == 0)
            #expect(try await fixture.count("integrations") == 0)
        }
    }

    @Test("a flow started on the connect page cannot be finished in another browser")
    func browserBinding() async throws {
        try await OAuthFixture.run { client, fixture in
            let fake = fixture.fake
            let session = try await client.request(.post, "/v1/connect-sessions", key: fixture.key, json: #"{"allowed_providers":["fake"]}"#)
                .jsonObject()
            let page = try await client.request(.get, "/connect/\(try #require(session["token"] as? String))")
            let approved = try fake.decide(authorizationURL: try #require(page.location))
            let elsewhere = try await fixture.followCallback(client, approved, cookie: "sy_oauth_other=someone-elses-cookie")
            #expect(elsewhere.status == .badRequest)
            #expect(elsewhere.text.contains("same browser"))
            #expect(fake.counters.authorizationCodeGrants == 0)
        }
    }

    @Test("a state belongs to its tenant: another tenant cannot target its integrations or see its flows")
    func crossTenant() async throws {
        try await FakeOAuthProvider.withRunning { fake in
            let environment = try await OAuthFixture.environment(for: fake)
            try await environment.withApp { (client: any TestClientProtocol) async throws in
                let a = try await OAuthFixture.make(client, environment: environment, fake: fake, slug: "tenant-a")
                let b = try await OAuthFixture.make(client, environment: environment, fake: fake, slug: "tenant-b")
                let integration = try await a.connect(client)
                // B re-authorizing A's integration, either way, is a 404: B cannot see it.
                let direct = try await client.request(
                    .post,
                    "/v1/integrations/authorize-url",
                    key: b.key,
                    json: #"{"provider":"fake","integration_id":"\#(integration)"}"#
                )
                #expect(direct.status == .notFound)
                let session = try await client.request(.post, "/v1/connect-sessions", key: b.key, json: #"{"integration_id":"\#(integration)"}"#)
                #expect(session.status == .notFound)
                // A flow B starts lands in B, not in A.
                let approved = try fake.decide(authorizationURL: try await b.authorizeURL(client))
                #expect(try await b.followCallback(client, approved).status == .ok)
                #expect(try await a.count("integrations") == 1)
                #expect(try await b.count("integrations") == 1)
                #expect(try await a.onlyIntegrationID(client) == integration)
            }
        }
    }

    @Test("the provider checks the PKCE verifier: a code bound to another challenge does not connect")
    func pkceVerifierIsChecked() async throws {
        try await OAuthFixture.run { client, fixture in
            let fake = fixture.fake
            let url = try await fixture.authorizeURL(client)
            // An attacker's code, issued for their own challenge, injected into our flow.
            var components = try #require(URLComponents(string: url))
            components.queryItems = components.queryItems?.map {
                $0.name == "code_challenge" ? URLQueryItem(name: $0.name, value: PKCE.generate().challenge) : $0
            }
            let approved = try fake.decide(authorizationURL: try #require(components.string))
            let callback = try await fixture.followCallback(client, approved)
            #expect(callback.status == .badGateway)
            #expect(callback.text.contains("PKCE verification failed"))
            #expect(fake.counters.authorizationCodeGrants == 1)
            #expect(try await fixture.count("integrations") == 0)
        }
    }

    @Test("an iss that is not the provider's issuer is refused (mix-up defence)")
    func issuerMismatch() async throws {
        try await OAuthFixture.run { client, fixture in
            let fake = fixture.fake
            fake.update { $0.issuerOverride = "https://attacker.example" }
            let mixedUp = try await fixture.followCallback(client, try fake.decide(authorizationURL: try await fixture.authorizeURL(client)))
            #expect(mixedUp.status == .badRequest)
            #expect(mixedUp.text.contains("wrong server"))
            fake.update { $0.sendIssuer = false }
            let missing = try await fixture.followCallback(client, try fake.decide(authorizationURL: try await fixture.authorizeURL(client)))
            #expect(missing.status == .badRequest)
            #expect(fake.counters.authorizationCodeGrants == 0)
        }
    }

    @Test("a denial at the provider is shown on a failure page; with return_to the app gets the error")
    func providerErrors() async throws {
        try await OAuthFixture.run { client, fixture in
            let fake = fixture.fake
            let denied = try await fixture.followCallback(
                client,
                try fake.decide(authorizationURL: try await fixture.authorizeURL(client), approve: false)
            )
            #expect(denied.status == .badRequest)
            #expect(denied.text.contains("Access was not granted"))
            #expect(denied.text.contains("(The provider said: access_denied, The user denied the request.)"))

            let origins = try await client.request(
                .patch,
                "/v1/tenants/\(fixture.tenantID)",
                key: TestEnvironment.adminKey,
                json: #"{"connect_return_origins":["https://app.acme.example"]}"#
            )
            #expect(origins.status == .ok, "\(origins.text)")
            let url = try await fixture.authorizeURL(client, body: #"{"provider":"fake","return_to":"https://app.acme.example/done?x=1"}"#)
            let back = try await fixture.followCallback(client, try fake.decide(authorizationURL: url, approve: false))
            #expect(back.status == .seeOther)
            #expect(back.location == "https://app.acme.example/done?x=1&error=provider-error")
        }
    }

    @Test("return_to must be on one of the tenant's origins, and comes back with the integration id")
    func returnTo() async throws {
        try await OAuthFixture.run { client, fixture in
            let fake = fixture.fake
            let body = #"{"allowed_providers":["fake"],"return_to":"https://app.acme.example/connected"}"#
            let refused = try await client.request(.post, "/v1/connect-sessions", key: fixture.key, json: body)
            try ProblemDetailsTests.expectProblem(refused, .unprocessableContent, code: "validation-failed")
            #expect(refused.text.contains("connect_return_origins"))

            let badOrigin = try await client.request(
                .patch,
                "/v1/tenants/\(fixture.tenantID)",
                key: TestEnvironment.adminKey,
                json: #"{"connect_return_origins":["http://app.acme.example"]}"#
            )
            try ProblemDetailsTests.expectProblem(badOrigin, .unprocessableContent, code: "validation-failed")
            _ = try await client.request(
                .patch,
                "/v1/tenants/\(fixture.tenantID)",
                key: TestEnvironment.adminKey,
                json: #"{"connect_return_origins":["https://APP.acme.example:443/"]}"#
            )
            let evil = try await client.request(
                .post,
                "/v1/connect-sessions",
                key: fixture.key,
                json: #"{"allowed_providers":["fake"],"return_to":"https://app.acme.example.evil.example/"}"#
            )
            try ProblemDetailsTests.expectProblem(evil, .unprocessableContent, code: "validation-failed")

            let session = try await client.request(.post, "/v1/connect-sessions", key: fixture.key, json: body).jsonObject()
            let page = try await client.request(.get, "/connect/\(try #require(session["token"] as? String))")
            let cookie = String(try #require(page.headers[.setCookie]).split(separator: ";")[0])
            let back = try await fixture.followCallback(client, try fake.decide(authorizationURL: try #require(page.location)), cookie: cookie)
            #expect(back.status == .seeOther)
            let id = try await fixture.onlyIntegrationID(client)
            #expect(back.location == "https://app.acme.example/connected?integration_id=\(id)&status=connected")
        }
    }

    @Test("the chooser asks for connection parameters, and a bad value is explained on the page")
    func chooserWithParameters() async throws {
        try await FakeOAuthProvider.withRunning { fake in
            let environment = try await OAuthFixture.environment(for: fake)
            try await environment.withApp { (client: any TestClientProtocol) async throws in
                let withWorkspace = fake.providerJSON().replacingOccurrences(
                    of: #""api_base_url":"\#(fake.baseURL)/api""#,
                    with:
                        #""api_base_url":"\#(fake.baseURL)/api","connection_parameters":[{"name":"workspace","description":"Your workspace's short name","required":true,"source":{"type":"user"},"pattern":"^[a-z0-9-]{1,30}$","example":"acme"}]"#
                )
                let fixture = try await OAuthFixture.make(client, environment: environment, fake: fake, providerJSON: withWorkspace)
                let session = try await client.request(
                    .post,
                    "/v1/connect-sessions",
                    key: fixture.key,
                    json: #"{"allowed_providers":["fake","github"]}"#
                )
                #expect(session.status == .created, "\(session.text)")
                let token = try #require(try session.jsonObject()["token"] as? String)
                let page = try await client.request(.get, "/connect/\(token)")
                #expect(page.status == .ok)
                #expect(page.headers[HTTPField.Name("Content-Security-Policy")!]?.contains("frame-ancestors 'none'") == true)
                #expect(page.text.contains("Continue to Fake OAuth") && page.text.contains("Continue to GitHub"))
                #expect(page.text.contains(#"name="parameter.workspace""#) && page.text.contains("Your workspace&#39;s short name"))

                let form: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
                let bad = try await client.execute(
                    uri: "/connect/\(token)",
                    method: .post,
                    headers: form,
                    body: .init(string: "provider=fake&parameter.workspace=%3Cscript%3E")
                )
                #expect(bad.status == .unprocessableContent)
                #expect(String(buffer: bad.body).contains("workspace"))
                #expect(!String(buffer: bad.body).contains("<script>"))
                let good = try await client.execute(
                    uri: "/connect/\(token)",
                    method: .post,
                    headers: form,
                    body: .init(string: "provider=fake&parameter.workspace=team-1")
                )
                #expect(good.status == .seeOther)
                // GitHub has no OAuth app here: a clear page, not a crash.
                let github = try await client.execute(uri: "/connect/\(token)", method: .post, headers: form, body: .init(string: "provider=github"))
                #expect(github.status == .conflict)
                #expect(String(buffer: github.body).contains("No OAuth app is configured"))
            }
        }
    }

    @Test("a parameter looked up behind the new token is filled when there is one choice, and must be preset when there are several")
    func resourceLookup() async throws {
        try await FakeOAuthProvider.withRunning { fake in
            let environment = try await OAuthFixture.environment(for: fake)
            try await environment.withApp { (client: any TestClientProtocol) async throws in
                let withSite = fake.providerJSON().replacingOccurrences(
                    of: #""api_base_url":"\#(fake.baseURL)/api""#,
                    with:
                        #""api_base_url":"\#(fake.baseURL)/api","connection_parameters":[{"name":"site","description":"The site","required":true,"source":{"type":"resource_lookup","url":"\#(fake.baseURL)/api/resources","field":"id"},"pattern":"^[a-z0-9-]{1,30}$"}]"#
                )
                let fixture = try await OAuthFixture.make(client, environment: environment, fake: fake, providerJSON: withSite)
                let id = try await fixture.connect(client)
                #expect(try await fixture.integration(client, id)["connection_parameters"] as? [String: String] == ["site": "site-1"])

                fake.update { $0.resources = ["site-1", "site-2"] }
                let ambiguous = try await fixture.followCallback(client, try fake.decide(authorizationURL: try await fixture.authorizeURL(client)))
                #expect(ambiguous.status == .conflict)
                #expect(ambiguous.text.contains("connection_parameters.site"))
                let preset = try await fixture.authorizeURL(client, body: #"{"provider":"fake","connection_parameters":{"site":"site-2"}}"#)
                #expect(try await fixture.followCallback(client, try fake.decide(authorizationURL: preset)).status == .ok)
                #expect(try await fixture.count("integrations", where: "connection_parameters->>'site' = 'site-2'") == 1)
            }
        }
    }

    @Test("bad connect requests get problems; unknown links get a page")
    func badInputs() async throws {
        try await OAuthFixture.run { client, fixture in
            for body in [
                #"{}"#, #"{"allowed_providers":[]}"#, #"{"allowed_providers":["nope"]}"#, #"{"allowed_providers":["stripe"]}"#,
                #"{"allowed_providers":["fake"],"scopes":["a b"]}"#, #"{"allowed_providers":["fake"],"connection_parameters":{"x":"1"}}"#,
                #"{"allowed_providers":["fake"],"surprise":1}"#,
            ] {
                try ProblemDetailsTests.expectProblem(
                    try await client.request(.post, "/v1/connect-sessions", key: fixture.key, json: body),
                    .unprocessableContent,
                    code: "validation-failed"
                )
            }
            let readOnly = try await client.request(
                .post,
                "/v1/tenants/\(fixture.tenantID)/api-keys",
                key: TestEnvironment.adminKey,
                json: #"{"name":"ro","scopes":["read"]}"#
            )
            let readKey = try #require(try readOnly.jsonObject()["key"] as? String)
            try ProblemDetailsTests.expectProblem(
                try await client.request(.post, "/v1/connect-sessions", key: readKey, json: #"{"allowed_providers":["fake"]}"#),
                .forbidden,
                code: "forbidden"
            )
            try ProblemDetailsTests.expectProblem(
                try await client.request(.post, "/v1/integrations/authorize-url", key: fixture.key, json: #"{"provider":"github"}"#),
                .conflict,
                code: "conflict"
            )
            try ProblemDetailsTests.expectProblem(
                try await client.request(.post, "/v1/integrations/authorize-url", key: fixture.key, json: #"{"provider":"stripe"}"#),
                .unprocessableContent,
                code: "validation-failed"
            )
            for path in ["/connect/nope", "/connect/cs_unknowntoken"] {
                let page = try await client.request(.get, path)
                #expect(page.status == .notFound)
                #expect(page.headers[.contentType] == "text/html; charset=utf-8")
            }
        }
    }

    @Test("no token, code, state or client secret appears in any log line of a whole flow")
    func nothingSecretIsLogged() async throws {
        let capture = LogCapture()
        try await OAuthFixture.run(logger: capture) { client, fixture in
            let fake = fixture.fake
            let authorization = try await fixture.authorizeURL(client)
            let approved = try fake.decide(authorizationURL: authorization)
            #expect(try await fixture.followCallback(client, approved).status == .ok)
            let id = try await fixture.onlyIntegrationID(client)
            let first = try await client.request(.get, "/v1/integrations/\(id)/credentials", key: fixture.key).jsonObject()
            #expect(try await client.request(.post, "/v1/integrations/\(id)/refresh", key: fixture.key).status == .ok)
            let second = try await client.request(.get, "/v1/integrations/\(id)/credentials", key: fixture.key).jsonObject()
            let query = try #require(URLComponents(string: approved)?.queryItems)
            var secrets = [
                fake.settings.clientSecret, try #require(first["access_token"] as? String), try #require(second["access_token"] as? String),
            ]
            secrets += query.filter { ["code", "state"].contains($0.name) }.compactMap(\.value)
            secrets += try #require(URLComponents(string: authorization)?.queryItems).filter { $0.name == "code_challenge" }.compactMap(\.value)
            #expect(secrets.count == 6)
            #expect(!capture.lines.isEmpty)
            for line in capture.lines {
                for secret in secrets { #expect(!line.contains(secret), "\(line)") }
            }
        }
    }
}
