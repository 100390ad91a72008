import AsyncHTTPClient
import Foundation
import NIOCore
import PostgresNIO
import SwitchyardAPIContract
import SwitchyardCore
import SwitchyardJobs
import SwitchyardOAuth
import SwitchyardPostgres
import SwitchyardTestSupport
import Testing

@Suite("Tenant portal in a real browser")
struct PortalBrowserTests {
    @Test(
        "headless Chromium: a link opens the portal, an integration degrades, a dead letter is redriven, a destination is managed; other tenants and used links are refused"
    )
    func portalInHeadlessChromium() async throws {
        let port = try ChildProcess.freePort()
        var configured = try await DestinationsAPITests.environment()
        configured.configuration.oauth.publicURL = "http://127.0.0.1:\(port)"
        let environment = configured
        let logger = environment.logger
        try await environment.withLiveServer(http: HTTPConfiguration(host: "127.0.0.1", port: port)) { port in
            let http = HTTPClient(eventLoopGroupProvider: .singleton)
            defer { Task { try? await http.shutdown() } }
            let raw = LoopbackHTTP(client: http, port: port)
            let (acmeID, key) = try await http.makeTenant(port: port, slug: "portal-browser")
            let (_, otherKey) = try await http.makeTenant(port: port, slug: "portal-browser-other")
            let tenant = TenantID(try #require(UUID(uuidString: acmeID)))
            let integration = try await raw.createdID(
                "/v1/integrations",
                key: key,
                body: #"{"provider":"stripe","credentials":{"api_key":"sk_test_portal"}}"#
            )
            let integrationID = try #require(UUID(uuidString: integration))
            let theirs = try await raw.createdID("/v1/destinations", key: otherKey, body: #"{"url":"\#(DestinationsAPITests.receiverURL)"}"#)

            try await environment.withDatabase(maxConnections: 8) { database in
                let scoring = IntegrationHealthScoring(database: database, metrics: nil)
                let registry = JobQueueTests.registry()
                // Healthy to begin with: ten jobs of the integration succeed.
                _ = try await database.withTenant(tenant, logger: logger) {
                    try await $0.enqueue(batch: Array(repeating: try NewJob(NoopPayload(), integrationID: integrationID), count: 10))
                }
                try await database.withExecutor(registry: registry, logger: logger) {
                    try await eventually("ten jobs succeed") { try await database.count(.succeeded, of: tenant, logger: logger) == 10 }
                }
                try await scoring.run(logger: logger)

                let api = http.api(port: port, key: key)
                let link = try await api.createPortalSession().created.body.json.url
                let expired = try await api.createPortalSession().created.body.json.url
                try await environment.withOwnerConnection { connection in
                    let token = String(expired.split(separator: "/").last ?? "")
                    let hash = ByteBuffer(bytes: OpaqueToken(value: token).hash)
                    try await connection.query(
                        "UPDATE portal_links SET expires_at = now() - interval '1 second' WHERE token_hash = \(hash)",
                        logger: logger
                    )
                }
                let handshake = FileManager.default.temporaryDirectory.appending(path: "portal-handshake-\(UUID().uuidString)").path
                defer { try? FileManager.default.removeItem(atPath: handshake) }
                let screenshots = URL(filePath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                    .appending(path: ".build/screenshots").path

                let browser = HeadlessBrowser.start(
                    script: "portal_flow.py",
                    arguments: [link, expired, "http://127.0.0.1:\(port)/portal/destinations/\(theirs)", integration, handshake, screenshots],
                    logger: logger
                )
                // Once the browser has seen the integration healthy, three of its jobs fail for good: it goes down.
                try await eventually("the browser sees the integration healthy", timeout: .seconds(120)) {
                    if FileManager.default.fileExists(atPath: handshake) { return true }
                    if let ended = browser.ended { throw TestFailure("the browser script ended before it saw the integration: \(ended)") }
                    return false
                }
                _ = try await database.withTenant(tenant, logger: logger) {
                    try await $0.enqueue(
                        batch: Array(repeating: try NewJob(FlakyPayload(failures: 100), integrationID: integrationID, maxAttempts: 1), count: 3)
                    )
                }
                try await database.withExecutor(registry: registry, logger: logger) {
                    try await eventually("three dead jobs") { try await database.count(.dead, of: tenant, logger: logger) == 3 }
                }
                #expect(try await scoring.run(logger: logger) == 1)

                #expect(try await browser.output().contains("portal flow completed"))
                // What the browser did, as the database has it.
                #expect(try await database.count(.dead, of: tenant, logger: logger) == 2)
                #expect(try await database.count(.queued, of: tenant, logger: logger) >= 1)
                let destinations = try await api.listDestinations().ok.body.json.data
                #expect(destinations.count == 1)
                #expect(destinations.first?.description == "From the portal" && destinations.first?.enabled == true)
                #expect(destinations.first?.secrets.count == 2)  // rotated: the old one signs through its grace period
            }
        }
    }
}
