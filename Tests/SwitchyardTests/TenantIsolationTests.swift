import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import PostgresNIO
import SwitchyardAPI
import SwitchyardAPIClient
import SwitchyardAPIContract
import SwitchyardCore
import SwitchyardPostgres
import SwitchyardTestSupport
import Testing

@Suite("Tenant isolation (REQUIREMENTS PG-1..PG-4, API-1)")
struct TenantIsolationTests {
    /// How to make tenant B own the resource a `{...}` route names. A new route with a path
    /// parameter must be added here, or `everyResourceRouteIsCovered` fails.
    static let resourceMakers: [String: @Sendable (any TestClientProtocol, String) async throws -> String] = [
        "key_id": { client, key in
            try await client.api(key: key).createAPIKey(body: .json(.init(name: "b-owned"))).created.body.json.value1.id
        },
        "integration_id": { client, key in
            try await client.api(key: key).createIntegration(
                body: .json(.init(provider: "stripe", credentials: .init(additionalProperties: ["api_key": "sk_test_b_owned"])))
            ).created.body.json.id
        },
        "provider_id": { client, key in
            // An OAuth provider of B's own with B's own OAuth app: both provider routes and app routes name it.
            let id = "b-custom-\(UUID().uuidString.prefix(8).lowercased())"
            let saved = try await client.request(.put, "/v1/providers/\(id)", key: key, json: CustomProviderFixture.oauthJSON(id: id))
            #expect(saved.status == .created, "\(saved.text)")
            let app = try await client.request(.put, "/v1/oauth-apps/\(id)", key: key, json: #"{"client_id":"b-client","client_secret":"b-secret"}"#)
            #expect(app.status == .created, "\(app.text)")
            // And a sync of B's own for it, named as `sync_name` names it.
            let sync = try await client.request(.put, "/v1/providers/\(id)/syncs/customers", key: key, json: SyncsAPITests.definitionJSON())
            #expect(sync.status == .created, "\(sync.text)")
            return id
        },
        // B's custom provider above has its own sync `customers`, and B's stripe integration the built-in one.
        "sync_name": { _, _ in "customers" },
        "run_id": { client, key in
            let integration = try await IntegrationsAPITests.createStripe(client, key: key)
            return try await client.api(key: key).triggerIntegrationSync(path: .init(integrationId: integration, syncName: "customers"))
                .accepted.body.json.id
        },
        "job_id": { client, key in
            // Due far in the future, so no executor changes it while the test runs.
            try await client.api(key: key).createJob(body: .json(.init(kind: "noop", runAt: JobsAPITests.later))).created.body.json.id
        },
        "schedule_id": { client, key in
            try await client.api(key: key).createSchedule(body: .json(.init(name: "b-\(UUID().uuidString)", kind: "noop", intervalSeconds: 3600)))
                .created.body.json.id
        },
        // The proxied path itself names nothing; the integration in front of it is what is isolated.
        "path": { _, _ in "v1/customers" },
        "source_id": { client, key in try await WebhookFixture.makeSource(client, key: key).id },
        "secret_id": { client, key in
            let source = try await WebhookFixture.makeSource(client, key: key)
            let shown = try await client.api(key: key).getWebhookSource(path: .init(sourceId: source.id)).ok.body.json
            return try #require(shown.secrets.first?.id)
        },
        "destination_id": { client, key in try await DestinationsAPITests.create(client, key: key).id },
        "delivery_id": { client, key in
            let destination = try await DestinationsAPITests.create(client, key: key)
            return try await client.api(key: key).testDestination(path: .init(destinationId: destination.id)).accepted.body.json.id
        },
        "workflow_id": { client, key in try await WorkflowsAPITests.createMapOnly(client, key: key).id },
        // B's workflow above has its version 1.
        "version": { _, _ in "1" },
        "workflow_run_id": { client, key in
            // No executor runs here: the run stays queued.
            let workflow = try await WorkflowsAPITests.createMapOnly(client, key: key)
            return try await client.api(key: key).startWorkflowRun(path: .init(workflowId: workflow.id), body: .json(.init())).created.body.json.id
        },
        "event_id": { client, key in
            let source = try await WebhookFixture.makeSource(client, key: key)
            let delivered = try await WebhookFixture.deliverGitHub(client, source: source.id, secret: source.secret, deliveryID: "b-owned")
            return try #require(try WebhookFixture.receipt(delivered).id, "\(delivered.text)")
        },
    ]

    /// Routes that create or replace at a client-chosen id: another tenant's call makes its own resource
    /// at that id, so isolation means the owner's resource is untouched rather than a 404.
    static let upsertRoutes: Set<String> = ["PUT /v1/providers/{provider_id}", "PUT /v1/oauth-apps/{provider_id}"]

    /// Valid bodies, so that the answer is about the resource and not about the body (default `{}`).
    static let bodies: [String: String] = [
        "PATCH /v1/integrations/{integration_id}": #"{"display_name":"renamed"}"#,
        "PATCH /v1/schedules/{schedule_id}": #"{"name":"renamed"}"#,
        "PATCH /v1/webhook-sources/{source_id}": #"{"name":"renamed"}"#,
        "PATCH /v1/workflows/{workflow_id}": #"{"name":"renamed"}"#,
    ]

    @Test("tenant A's key on every tenant route naming tenant B's resource answers 404")
    func crossTenantAccessIsNotFound() async throws {
        // Destinations point at an allow-listed loopback address (`DestinationsAPITests.receiverURL`).
        let environment = try await DestinationsAPITests.environment()
        try await environment.withApp { (client: any TestClientProtocol) async throws in
            let a = try await client.makeTenant(slug: "tenant-a", scopes: APIKeyScope.allCases)
            let b = try await client.makeTenant(slug: "tenant-b", scopes: APIKeyScope.allCases)
            let routes = try await Self.tenantResourceRoutes(environment)
            #expect(!routes.isEmpty)
            for route in routes {
                var path = route.template
                for (parameter, make) in Self.resourceMakers where path.contains("{\(parameter)}") {
                    path = path.replacingOccurrences(of: "{\(parameter)}", with: try await make(client, b.key))
                }
                let method = try #require(HTTPRequest.Method(route.method))
                if Self.upsertRoutes.contains("\(route.method) \(route.template)") {
                    let before = try await client.request(.get, path, key: b.key).text
                    _ = try await client.request(method, path, key: a.key, json: "{}")
                    #expect(try await client.request(.get, path, key: b.key).text == before, "\(route.template): A changed B's resource")
                    continue
                }
                let json: String? = ["POST", "PATCH", "PUT"].contains(route.method) ? Self.bodies["\(route.method) \(route.template)"] ?? "{}" : nil
                let response = try await client.request(method, path, key: a.key, json: json)
                #expect(response.status == .notFound, "\(route.method) \(route.template) answered \(response.status) to another tenant's key")
                // And the owner still reaches it (the 404 is isolation, not a broken route). Proxied GETs
                // would leave this machine, so they are left to the proxy tests.
                if route.method == "GET" && !route.template.contains("/proxy/") {
                    #expect(try await client.request(method, path, key: b.key).status != .notFound, "\(route.template) is not found by its owner")
                }
            }
        }
    }

    @Test("every tenant route with a path parameter has a resource maker")
    func everyResourceRouteIsCovered() async throws {
        let routes = try await Self.tenantResourceRoutes(try await TestEnvironment.make())
        for route in routes {
            let parameters = route.template.split(separator: "/").filter { $0.hasPrefix("{") }.map { String($0.dropFirst().dropLast()) }
            for parameter in parameters {
                #expect(Self.resourceMakers[parameter] != nil, "no resource maker for {\(parameter)} in \(route.template)")
            }
        }
    }

    /// Tenant-key routes (not the operator's `/v1/tenants` and `/v1/platform/...`) that name a resource.
    static func tenantResourceRoutes(_ environment: TestEnvironment) async throws -> [RouteTable.Route] {
        return try await environment.routeTable().routes.filter {
            $0.template.hasPrefix("/v1/") && !$0.template.hasPrefix("/v1/tenants") && !$0.template.hasPrefix("/v1/platform/")
                && $0.template.contains("{")
        }
    }

    @Test("every tenant table enables and forces row-level security with a policy; the app role is no owner, superuser or BYPASSRLS")
    func catalog() async throws {
        let environment = try await TestEnvironment.make()
        try await environment.withDatabase { (database: Database) async throws in
            try await database.withCatalog(logger: environment.logger) { (catalog: CatalogReader) async throws in
                let tables = try await catalog.tenantTables()
                #expect(Set(tables.map(\.name)).isSuperset(of: ["tenants", "api_keys", "idempotency_keys"]))
                for table in tables {
                    #expect(table.rowSecurityEnabled, "\(table.name) does not enable RLS")
                    #expect(table.rowSecurityForced, "\(table.name) does not force RLS")
                    #expect(table.policyCount > 0, "\(table.name) has no policy")
                }
                let role = try await catalog.currentRole()
                #expect(!role.isSuperuser)
                #expect(!role.bypassesRowSecurity)
                #expect(role.ownedTableCount == 0)
                #expect(role.isolationViolation == nil)
            }
        }
    }

    @Test("a pooled connection carries no tenant after commit and after rollback")
    func noTenantAfterTransaction() async throws {
        let environment = try await TestEnvironment.make()
        try await environment.withDatabase(maxConnections: 1) { (database: Database) async throws in
            let tenant = try await database.withOperator(logger: environment.logger) { try await $0.createTenant(slug: "pooled", name: "Pooled") }
            try await database.withTenant(tenant.id, logger: environment.logger) { (transaction: TenantTransaction) async throws in
                #expect(try await transaction.currentTenant() != nil)
            }
            #expect(try await database.withCatalog(logger: environment.logger) { try await $0.currentTenantSetting() } == nil)
            struct Boom: Error {}
            await #expect(throws: Boom.self) {
                try await database.withTenant(tenant.id, logger: environment.logger) { _ in throw Boom() }
            }
            #expect(try await database.withCatalog(logger: environment.logger) { try await $0.currentTenantSetting() } == nil)
        }
    }

    @Test("with no tenant set, the application role reads nothing and cannot write")
    func noTenantNoRows() async throws {
        let environment = try await TestEnvironment.make()
        try await environment.withDatabase { (database: Database) async throws in
            _ = try await database.withOperator(logger: environment.logger) { try await $0.createTenant(slug: "hidden", name: "Hidden") }
        }
        let url = environment.applicationURL
        let connection = try await PostgresConnection.connect(
            configuration: .init(
                host: url.host,
                port: url.port,
                username: url.username,
                password: url.password,
                database: url.database,
                tls: .disable
            ),
            id: 1,
            logger: environment.logger
        )
        let count = try await connection.query("SELECT count(*)::int FROM tenants", logger: environment.logger)
            .decode(Int.self).first(where: { _ in true })
        #expect(count == 0)
        await #expect(throws: PSQLError.self) {
            try await connection.query(
                "INSERT INTO tenants (id, slug, name) VALUES (gen_random_uuid(), 'sneaky', 'Sneaky')",
                logger: environment.logger
            )
        }
        try await connection.close()
    }

    @Test("one tenant's transaction cannot see another's rows even without a WHERE clause")
    func rowSecurityFiltersUnqualifiedQueries() async throws {
        let environment = try await TestEnvironment.make()
        try await environment.withApp { (client: any TestClientProtocol) async throws in
            let a = try await client.makeTenant(slug: "alpha")
            let b = try await client.makeTenant(slug: "beta")
            let idsA = Set(try await client.api(key: a.key).listAPIKeys().ok.body.json.data.map(\.id))
            let idsB = Set(try await client.api(key: b.key).listAPIKeys().ok.body.json.data.map(\.id))
            #expect(idsA.count == 1)
            #expect(idsB.count == 1)
            #expect(idsA.isDisjoint(with: idsB))
        }
    }
}

/// A valid custom provider definition, as a tenant would send it.
enum CustomProviderFixture {
    static func oauthJSON(id: String, baseURL: String = "https://api.acme-crm.example") -> String {
        """
        {"id":"\(id)","display_name":"Acme OAuth","auth_type":"oauth2","api_base_url":"\(baseURL)/v1",
         "oauth2":{"authorize_url":"\(baseURL)/oauth/authorize","token_url":"\(baseURL)/oauth/token",
                   "default_scopes":["read"],"scope_separator":"space","pkce":"supported",
                   "token_endpoint_auth_method":"client_secret_basic","token_request_encoding":"form",
                   "extra_authorize_parameters":{}}}
        """
    }

    static func json(id: String, baseURL: String = "https://api.acme-crm.example/v1") -> String {
        """
        {"id":"\(id)","display_name":"Acme CRM","auth_type":"api_key",
         "credentials":{"fields":[{"name":"api_key","description":"The account's API key","secret":true}],
                        "injection":{"type":"header","name":"Authorization","value":"Bearer {api_key}"}},
         "api_base_url":"\(baseURL)"}
        """
    }
}
