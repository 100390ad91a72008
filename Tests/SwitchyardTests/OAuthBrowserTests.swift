import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
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
                let api = LiveAPI(base: "http://127.0.0.1:\(port)")
                defer { Task { try? await api.http.shutdown() } }
                let tenant = try await api.json(
                    .POST,
                    "/v1/tenants",
                    key: TestEnvironment.adminKey,
                    body: #"{"slug":"browser","name":"Browser Inc."}"#
                )
                let tenantID = try #require(tenant["id"] as? String)
                let key = try #require(
                    try await api.json(.POST, "/v1/tenants/\(tenantID)/api-keys", key: TestEnvironment.adminKey, body: #"{"name":"app"}"#)["key"]
                        as? String
                )
                let provider = fake.providerJSON().replacingOccurrences(
                    of: #""api_base_url":"\#(fake.baseURL)/api""#,
                    with:
                        #""api_base_url":"\#(fake.baseURL)/api","connection_parameters":[{"name":"workspace","description":"Your workspace's short name, as in team-1.fake.example","required":true,"source":{"type":"user"},"pattern":"^[a-z0-9-]{1,30}$","example":"team-1"}]"#
                )
                _ = try await api.json(.PUT, "/v1/providers/fake", key: key, body: provider)
                _ = try await api.json(.PUT, "/v1/oauth-apps/fake", key: key, body: fake.oauthAppJSON)
                let session = try await api.json(
                    .POST,
                    "/v1/connect-sessions",
                    key: key,
                    body: #"{"allowed_providers":["fake","github"],"end_user_id":"browser-user"}"#
                )
                let url = try #require(session["url"] as? String)
                let denied = try await api.json(.POST, "/v1/connect-sessions", key: key, body: #"{"allowed_providers":["fake","github"]}"#)
                let denyURL = try #require(denied["url"] as? String)

                let screenshots = URL(filePath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                    .appending(path: ".build/screenshots").path
                let output = try await HeadlessBrowser.run(script: "connect_flow.py", arguments: [url, denyURL, screenshots], logger: logger)
                #expect(output.contains("connect flow completed"))

                let list = try await api.json(.GET, "/v1/integrations?provider=fake", key: key)
                let integrations = try #require(list["data"] as? [[String: Any]])
                #expect(integrations.count == 1)
                #expect(integrations.first?["status"] as? String == "connected")
                #expect(integrations.first?["end_user_id"] as? String == "browser-user")
                #expect(integrations.first?["connection_parameters"] as? [String: String] == ["workspace": "team-1"])
                #expect(fake.counters.authorizationCodeGrants == 1)
            }
        }
    }
}

/// JSON calls to a live server over a real socket.
struct LiveAPI: Sendable {
    let base: String
    let http = HTTPClient(eventLoopGroupProvider: .singleton)

    func json(_ method: HTTPMethod, _ path: String, key: String, body: String? = nil) async throws -> [String: Any] {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(key)")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await http.execute(request, timeout: .seconds(30))
        let data = try await response.body.collect(upTo: 1 << 20)
        guard (200..<300).contains(response.status.code) else {
            throw TestFailure("\(method) \(path) answered \(response.status): \(String(buffer: data))")
        }
        return (try JSONSerialization.jsonObject(with: Data(buffer: data)) as? [String: Any]) ?? [:]
    }
}
