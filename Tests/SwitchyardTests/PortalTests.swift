import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import PostgresNIO
import SwitchyardAPIClient
import SwitchyardAPIContract
import SwitchyardCore
import SwitchyardTestSupport
import Testing

/// The portal over HTTP, as a browser would talk to it (cookies and forms by hand); `PortalBrowserTests` drives it in
/// Chromium.
@Suite("Tenant portal: one-time links, sessions, CSRF, tenant isolation")
struct PortalTests {
    /// A browser's view of the portal: the session cookie and the current page's form token.
    struct Visit {
        let client: any TestClientProtocol
        var cookie: String?

        func get(_ path: String) async throws -> TestResponse {
            var headers = HTTPFields()
            if let cookie { headers[.cookie] = cookie }
            return try await client.execute(uri: path, method: .get, headers: headers, body: nil)
        }

        func post(_ path: String, _ fields: [String: String]) async throws -> TestResponse {
            var headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
            if let cookie { headers[.cookie] = cookie }
            let body = fields.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(
                separator: "&"
            )
            return try await client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer(string: body))
        }

        /// The form token in a page (every form carries the same one).
        static func csrf(in response: TestResponse) throws -> String {
            let html = String(buffer: response.body)
            guard let start = html.range(of: #"name="csrf" value=""#) else { throw TestFailure("no form token in the page:\n\(html.prefix(500))") }
            return String(html[start.upperBound...].prefix { $0 != "\"" })
        }
    }

    static func link(_ client: any TestClientProtocol, key: String) async throws -> (url: String, token: String) {
        let session = try await client.api(key: key).createPortalSession().created.body.json
        return (session.url, String(session.url.split(separator: "/").last ?? ""))
    }

    /// Opens a link; returns the visit holding its session cookie.
    static func open(_ client: any TestClientProtocol, key: String) async throws -> Visit {
        let (_, token) = try await link(client, key: key)
        let opened = try await Visit(client: client).post("/portal/open/\(token)", [:])
        #expect(opened.status == .seeOther)
        let cookie = try #require(opened.headers[.setCookie])
        return Visit(client: client, cookie: String(cookie.prefix { $0 != ";" }))
    }

    static func text(_ response: TestResponse) -> String { String(buffer: response.body) }

    @Test("a link opens once into an HttpOnly, SameSite session; a used, unknown or expired link is refused")
    func linksOpenOnce() async throws {
        let environment = try await TestEnvironment.make()
        try await environment.withApp(.router) { (client: any TestClientProtocol) async throws in
            let tenant = try await client.makeTenant(slug: "portal-links")
            let (url, token) = try await Self.link(client, key: tenant.key)
            #expect(url.hasSuffix("/portal/open/\(token)") && token.hasPrefix("pl_"))

            let browser = Visit(client: client)
            // Looking at the link (a previewer does) does not use it.
            for _ in 0..<2 {
                let landing = try await browser.get("/portal/open/\(token)")
                #expect(landing.status == .ok)
                #expect(Self.text(landing).contains("Open the portal"))
            }
            let opened = try await browser.post("/portal/open/\(token)", [:])
            #expect(opened.status == .seeOther)
            #expect(opened.headers[.location] == "/portal")
            let cookie = try #require(opened.headers[.setCookie])
            for attribute in ["HttpOnly", "SameSite=Lax", "Path=/portal", "Max-Age=3600"] { #expect(cookie.contains(attribute)) }
            #expect(!cookie.contains("Secure"))  // no TLS here
            let session = Visit(client: client, cookie: String(cookie.prefix { $0 != ";" }))
            let overview = try await session.get("/portal")
            #expect(overview.status == .ok)
            #expect(Self.text(overview).contains("<h1>Overview</h1>"))
            #expect(overview.headers[HTTPField.Name("Content-Security-Policy")!]?.contains("form-action 'self'") == true)

            // Used, unknown, expired.
            #expect(try await browser.post("/portal/open/\(token)", [:]).status == .notFound)
            #expect(try await browser.get("/portal/open/\(token)").status == .notFound)
            #expect(try await browser.post("/portal/open/pl_not-a-link", [:]).status == .notFound)
            let (_, stale) = try await Self.link(client, key: tenant.key)
            try await environment.withOwnerConnection { connection in
                try await connection.query(
                    "UPDATE portal_links SET expires_at = now() - interval '1 second' WHERE used_at IS NULL",
                    logger: environment.logger
                )
            }
            #expect(try await browser.post("/portal/open/\(stale)", [:]).status == .notFound)

            // No cookie, or a made-up one: the session has ended.
            #expect(try await browser.get("/portal").status == .unauthorized)
            #expect(try await Visit(client: client, cookie: "switchyard_portal=ps_forged").get("/portal/webhooks").status == .unauthorized)
            #expect(try await browser.post("/portal/logout", [:]).status == .unauthorized)
            // Only a tenant key with write scope makes links.
            #expect(try await client.request(.post, "/v1/portal-sessions").status == .unauthorized)
            let reader = try await client.makeTenant(slug: "portal-reader", scopes: [.read])
            #expect(try await client.request(.post, "/v1/portal-sessions", key: reader.key).status == .forbidden)
        }
    }

    @Test("forms need the session's token; another tenant's ids are 404; a destination added here is signed and shown once; logout ends it")
    func formsAndIsolation() async throws {
        let environment = try await DestinationsAPITests.environment()
        try await environment.withApp(.router) { (client: any TestClientProtocol) async throws in
            let acme = try await client.makeTenant(slug: "portal-acme")
            let globex = try await client.makeTenant(slug: "portal-globex")
            let theirs = try await DestinationsAPITests.create(client, key: globex.key).id
            let session = try await Self.open(client, key: acme.key)

            let list = try await session.get("/portal/destinations")
            let csrf = try Visit.csrf(in: list)
            let form = ["url": DestinationsAPITests.receiverURL, "description": "Backend", "event_types": "integration.*, webhook.received"]
            #expect(try await session.post("/portal/destinations", form).status == .forbidden)
            #expect(try await session.post("/portal/destinations", form.merging(["csrf": "forged"]) { $1 }).status == .forbidden)
            let added = try await session.post("/portal/destinations", form.merging(["csrf": csrf]) { $1 })
            #expect(added.status == .ok)
            let page = Self.text(added)
            #expect(page.contains("whsec_"))
            #expect(added.headers[.cacheControl] == "no-store")
            let destinations = try await client.api(key: acme.key).listDestinations().ok.body.json.data
            #expect(destinations.count == 1)
            #expect(destinations.first?.description == "Backend")
            #expect(destinations.first?.filter.eventTypes == ["integration.*", "webhook.received"])
            // The secret is not on the page once it is reloaded.
            let id = try #require(destinations.first?.id)
            #expect(!Self.text(try await session.get("/portal/destinations/\(id)")).contains("whsec_"))

            // A URL the API refuses is refused here with the API's reason, on the page.
            let refused = try await session.post("/portal/destinations", ["csrf": csrf, "url": "ftp://example.com/x"])
            #expect(refused.status == .unprocessableContent)
            #expect(Self.text(refused).contains("role=\"alert\""))

            // Another tenant's destination, and ids that do not exist, are not found, whatever the action.
            #expect(try await session.get("/portal/destinations/\(theirs)").status == .notFound)
            #expect(try await session.post("/portal/destinations/\(theirs)/disable", ["csrf": csrf]).status == .notFound)
            #expect(try await session.post("/portal/dead-letters/\(UUID().lowercasedString)/redrive", ["csrf": csrf]).status == .notFound)
            #expect(try await session.get("/portal/integrations/\(UUID().lowercasedString)").status == .notFound)
            #expect(try await session.get("/portal/integrations/not-a-uuid").status == .notFound)
            #expect(try await client.api(key: globex.key).getDestination(path: .init(destinationId: theirs)).ok.body.json.enabled)

            // Disable and enable through the portal, then leave.
            let disabled = try await session.post("/portal/destinations/\(id)/disable", ["csrf": csrf])
            #expect(disabled.status == .seeOther)
            #expect(try await client.api(key: acme.key).getDestination(path: .init(destinationId: id)).ok.body.json.enabled == false)
            #expect(try await session.post("/portal/destinations/\(id)/test", ["csrf": csrf]).status == .conflict)
            #expect(try await session.post("/portal/destinations/\(id)/enable", ["csrf": csrf]).status == .seeOther)
            #expect(try await session.post("/portal/destinations/\(id)/test", ["csrf": csrf]).status == .seeOther)
            let audit = try await client.api(key: acme.key).listAuditEvents(query: .init()).ok.body.json.data
            #expect(audit.contains { $0.action == "destination.created" && $0.actor.hasPrefix("portal:") })

            #expect(try await session.post("/portal/logout", ["csrf": csrf]).status == .ok)
            #expect(try await session.get("/portal").status == .unauthorized)
        }
    }
}
