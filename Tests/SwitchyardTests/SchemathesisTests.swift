import AsyncHTTPClient
import Foundation
import Logging
import SwitchyardAPIClient
import SwitchyardAPIContract
import SwitchyardTestSupport
import Testing

/// The API document and the server agree (issue 12, item 15): schemathesis generates requests from
/// `openapi/openapi.yaml`, valid and invalid, sends them to a live server, and checks every answer against the
/// document (status codes, bodies, headers, content types, 5xx, valid data refused, invalid data accepted).
@Suite("openapi/openapi.yaml against a live server (schemathesis)")
struct SchemathesisTests {
    /// Examples per operation: about 25 s for the 70-odd operations here; the seed changes every run, and a failure
    /// prints it with a `st replay` line for each case.
    static let examplesPerOperation = 25

    @Test("schemathesis finds no disagreement between the document and the server, under every check")
    func documentAndServerAgree() async throws {
        // The destinations' operations get one that points at an allow-listed loopback address.
        let environment = try await DestinationsAPITests.environment()
        let st = try await Schemathesis.executable(logger: environment.logger)
        try await environment.withLiveServer { port in
            let client = HTTPClient(eventLoopGroupProvider: .singleton)
            let run: (Int32, String)
            do {
                let http = LoopbackHTTP(client: client, port: port)
                let (_, key) = try await client.makeTenant(port: port, slug: "conformance", scopes: [.read, .write, .credentials_colon_read])
                func create(_ path: String, _ body: String) async throws -> String {
                    try await http.createdID(path, key: key, body: body)
                }
                let integration = try await create("/v1/integrations", #"{"provider":"stripe","credentials":{"api_key":"sk_test_conformance"}}"#)
                // The syncs' operations get an integration of their own, which no case deletes or disconnects, and a queued
                // run of its built-in `customers` sync (no executor runs here, so it stays queued).
                let syncing = try await create("/v1/integrations", #"{"provider":"stripe","credentials":{"api_key":"sk_test_conformance"}}"#)
                let destination = try await create("/v1/destinations", #"{"url":"\#(DestinationsAPITests.receiverURL)"}"#)
                let syncRun = try await client.api(port: port, key: key)
                    .triggerIntegrationSync(path: .init(integrationId: syncing, syncName: "customers")).accepted.body.json.id
                // (path regex, parameters): records for the operations that take an id, so they reach more than their 404
                // (the proxy's are left out: they would call the provider).
                let records = [
                    ("^/v1/integrations/\\{integration_id\\}(/credentials|/refresh|/disconnect)?$", "integration_id = \"\(integration)\""),
                    ("^/v1/integrations/\\{integration_id\\}/syncs", "integration_id = \"\(syncing)\", sync_name = \"customers\""),
                    ("^/v1/providers/\\{provider_id\\}/syncs", "provider_id = \"stripe\""),
                    ("^/v1/sync-runs/\\{run_id\\}", "run_id = \"\(syncRun)\""),
                    (
                        "^/(v1/webhook-sources|webhooks)/\\{source_id\\}",
                        "source_id = \"\(try await create("/v1/webhook-sources", #"{"name":"gh","scheme":{"type":"github"},"secret":"conformance-secret"}"#))\""
                    ),
                    (
                        "^/v1/schedules/\\{schedule_id\\}",
                        "schedule_id = \"\(try await create("/v1/schedules", #"{"name":"tick","kind":"noop","interval_seconds":3600}"#))\""
                    ),
                    (
                        "^/v1/destinations/\\{destination_id\\}",
                        "destination_id = \"\(destination)\""
                    ),
                    (
                        "^/v1/deliveries/\\{delivery_id\\}",
                        "delivery_id = \"\(try await client.api(port: port, key: key).testDestination(path: .init(destinationId: destination)).accepted.body.json.id)\""
                    ),
                    (
                        "^/v1/jobs/\\{job_id\\}",
                        "job_id = \"\(try await create("/v1/jobs", #"{"kind":"noop","run_at":"2100-01-01T00:00:00Z"}"#))\""
                    ),
                ]
                let root = Schemathesis.packageRoot
                var configuration = try String(contentsOf: root.appending(path: "Tests/Conformance/schemathesis.toml"), encoding: .utf8)
                for (paths, parameters) in records {
                    configuration += "\n[[operations]]\ninclude-path-regex = '\(paths)'\nparameters = { \(parameters) }\n"
                }
                let configurationFile = FileManager.default.temporaryDirectory.appending(path: "schemathesis-\(UUID().uuidString).toml")
                try configuration.write(to: configurationFile, atomically: true, encoding: .utf8)
                defer { try? FileManager.default.removeItem(at: configurationFile) }
                // At the lowest CPU priority: generating cases is CPU-heavy, and at full priority it starved the suites
                // running beside it of the CPU their connection deadlines assume (acquire timeouts, 503s).
                run = try await ChildProcess.run(
                    [
                        "/usr/bin/nice", "-n", "19", st, "--config-file", configurationFile.path,
                        "run", root.appending(path: "openapi/openapi.yaml").path, "--url", "http://127.0.0.1:\(port)",
                        "--max-examples", "\(Self.examplesPerOperation)", "--request-timeout", "20", "--no-color",
                    ],
                    environment: ["SWITCHYARD_TENANT_KEY": key, "SWITCHYARD_ADMIN_KEY": TestEnvironment.adminKey]
                )
            } catch {
                try? await client.shutdown()
                throw error
            }
            try await client.shutdown()
            let (status, output) = run
            #expect(status == 0, "schemathesis reported disagreements:\n\(output.suffix(20_000))")
            #expect(output.contains("passed"), "\(output.suffix(2_000))")
        }
    }
}
