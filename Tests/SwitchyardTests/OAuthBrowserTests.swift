import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SwitchyardAPIContract
import SwitchyardCore
import SwitchyardTestSupport
import Testing

@Suite("OAuth consent in a real browser")
struct OAuthBrowserTests {
    @Test("headless Chromium completes connect page, provider approval, callback and success page; the integration is connected")
    func consentInHeadlessChromium() async throws {
        let port = try ChildProcess.freePort()
        try await FakeOAuthProvider.withRunning { fake in
            var environment = try await OAuthFixture.environment(for: fake)
            environment.configuration.oauth.publicURL = "http://127.0.0.1:\(port)"
            let logger = environment.logger
            try await environment.withLiveServer(http: HTTPConfiguration(host: "127.0.0.1", port: port)) { port in
                let http = HTTPClient(eventLoopGroupProvider: .singleton)
                defer { Task { try? await http.shutdown() } }
                let (_, key) = try await http.makeTenant(port: port, slug: "browser")
                let api = http.api(port: port, key: key)
                let raw = LoopbackHTTP(client: http, port: port)
                let provider = fake.providerJSON().replacingOccurrences(
                    of: #""api_base_url":"\#(fake.baseURL)/api""#,
                    with:
                        #""api_base_url":"\#(fake.baseURL)/api","connection_parameters":[{"name":"workspace","description":"Your workspace's short name, as in team-1.fake.example","required":true,"source":{"type":"user"},"pattern":"^[a-z0-9-]{1,30}$","example":"team-1"}]"#
                )
                for (path, body) in [("/v1/providers/fake", provider), ("/v1/oauth-apps/fake", fake.oauthAppJSON)] {
                    let saved = try await raw.send(
                        .PUT,
                        path,
                        headers: [("Authorization", "Bearer \(key)"), ("Content-Type", "application/json")],
                        body: body
                    )
                    #expect(saved.status == 201, "\(saved.body)")
                }
                let url = try await api.createConnectSession(body: .json(.init(allowedProviders: ["fake", "github"], endUserId: "browser-user")))
                    .created.body.json.url
                let denyURL = try await api.createConnectSession(body: .json(.init(allowedProviders: ["fake", "github"]))).created.body.json.url

                let screenshots = URL(filePath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                    .appending(path: ".build/screenshots").path
                let output = try await HeadlessBrowser.run(script: "connect_flow.py", arguments: [url, denyURL, screenshots], logger: logger)
                #expect(output.contains("connect flow completed"))

                let integrations = try await api.listIntegrations(query: .init(provider: "fake")).ok.body.json.data
                #expect(integrations.count == 1)
                #expect(integrations.first?.status == .connected)
                #expect(integrations.first?.endUserId == "browser-user")
                #expect(integrations.first?.connectionParameters.additionalProperties == ["workspace": "team-1"])
                #expect(fake.counters.authorizationCodeGrants == 1)
            }
        }
    }
}
