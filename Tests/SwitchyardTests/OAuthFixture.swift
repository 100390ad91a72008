import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import PostgresNIO
import SwitchyardAPIClient
import SwitchyardAPIContract
import SwitchyardCore
import SwitchyardTestSupport
import Testing

/// A tenant with the fake OAuth provider saved as its custom provider `fake`, plus its OAuth app.
struct OAuthFixture: Sendable {
    static let publicURL = "http://switchyard.test"

    let environment: TestEnvironment
    let fake: FakeOAuthProvider
    let tenantID: String
    let key: String

    /// An environment whose outbound client may reach `fake` and whose public URL is `publicURL`.
    static func environment(for fake: FakeOAuthProvider, refreshSkewSeconds: Int = 300, logger: LogCapture? = nil) async throws -> TestEnvironment {
        var environment = try await TestEnvironment.make(logger: logger?.logger() ?? Logger(label: "switchyard.tests"))
        environment.configuration.outbound.plainHTTPAllowList = [fake.hostAndPort]
        environment.configuration.oauth.publicURL = publicURL
        environment.configuration.oauth.refreshSkewSeconds = refreshSkewSeconds
        return environment
    }

    /// A fake provider, an application serving the router, and a tenant set up to use the fake.
    static func run(
        settings: FakeOAuthProvider.Settings = .init(),
        refreshSkewSeconds: Int = 300,
        logger: LogCapture? = nil,
        providerJSON: (@Sendable (FakeOAuthProvider) -> String)? = nil,
        _ body: @Sendable @escaping (any TestClientProtocol, OAuthFixture) async throws -> Void
    ) async throws {
        try await FakeOAuthProvider.withRunning(settings: settings) { fake in
            let environment = try await Self.environment(for: fake, refreshSkewSeconds: refreshSkewSeconds, logger: logger)
            try await environment.withApp { (client: any TestClientProtocol) async throws in
                try await body(client, try await Self.make(client, environment: environment, fake: fake, providerJSON: providerJSON?(fake)))
            }
        }
    }

    /// Creates the tenant and registers the provider and the app through the API.
    static func make(
        _ client: any TestClientProtocol,
        environment: TestEnvironment,
        fake: FakeOAuthProvider,
        slug: String = "acme",
        providerJSON: String? = nil
    ) async throws -> OAuthFixture {
        let (tenantID, key) = try await client.makeTenant(slug: slug, scopes: APIKeyScope.allCases)
        let provider = try await client.request(.put, "/v1/providers/fake", key: key, json: providerJSON ?? fake.providerJSON())
        guard provider.status == .created else { throw TestFailure("saving the provider answered \(provider.status): \(provider.text)") }
        let app = try await client.request(.put, "/v1/oauth-apps/fake", key: key, json: fake.oauthAppJSON)
        guard app.status == .created else { throw TestFailure("saving the OAuth app answered \(app.status): \(app.text)") }
        return OAuthFixture(environment: environment, fake: fake, tenantID: tenantID, key: key)
    }

    /// `POST /v1/integrations/authorize-url`; returns the provider URL.
    func authorizeURL(_ client: any TestClientProtocol, body: String = #"{"provider":"fake"}"#) async throws -> String {
        let response = try await client.request(.post, "/v1/integrations/authorize-url", key: key, json: body)
        guard response.status == .created, let url = try response.jsonObject()["url"] as? String else {
            throw TestFailure("authorize-url answered \(response.status): \(response.text)")
        }
        return url
    }

    /// Follows a redirect to Switchyard's callback (as the browser would), with the cookies given.
    func followCallback(_ client: any TestClientProtocol, _ location: String, cookie: String? = nil) async throws -> TestResponse {
        guard location.hasPrefix(Self.publicURL + "/oauth/callback") else { throw TestFailure("not a callback URL: \(location)") }
        var headers = HTTPFields()
        if let cookie { headers[.cookie] = cookie }
        return try await client.request(.get, String(location.dropFirst(Self.publicURL.count)), headers: headers)
    }

    /// The whole flow through the direct API: authorize URL, approval at the fake, callback. Returns the integration id.
    func connect(_ client: any TestClientProtocol) async throws -> String {
        let callback = try await followCallback(client, try fake.decide(authorizationURL: try await authorizeURL(client)))
        guard callback.status == .ok else { throw TestFailure("the callback answered \(callback.status): \(callback.text)") }
        return try await onlyIntegrationID(client)
    }

    func onlyIntegrationID(_ client: any TestClientProtocol) async throws -> String {
        let list = try await client.request(.get, "/v1/integrations?provider=fake", key: key)
        guard let data = try list.jsonObject()["data"] as? [[String: Any]], data.count == 1, let id = data[0]["id"] as? String else {
            throw TestFailure("expected one fake integration: \(list.text)")
        }
        return id
    }

    func integration(_ client: any TestClientProtocol, _ id: String) async throws -> [String: Any] {
        try await client.request(.get, "/v1/integrations/\(id)", key: key).jsonObject()
    }

    /// The tenant's events of `type`, through the generated client.
    func events(_ client: any TestClientProtocol, type: String) async throws -> [Components.Schemas.Event] {
        try await client.api(key: key).listEvents(query: .init(_type: type)).ok.body.json.data
    }

    /// Rows of `table` for this tenant, counted as the schema owner sees them.
    func count(_ table: String, where condition: String = "true") async throws -> Int {
        try await environment.withOwnerConnection { connection in
            try await connection.query(
                PostgresQuery(unsafeSQL: "SELECT count(*)::int FROM \(table) WHERE tenant_id = '\(tenantID)' AND \(condition)"),
                logger: environment.logger
            )
            .decode(Int.self).collect().first ?? -1
        }
    }
}

extension TestResponse {
    /// The `Location` header.
    var location: String? { headers[.location] }
}
