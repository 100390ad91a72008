import Foundation
import HummingbirdTesting
import Logging
import PostgresNIO
import SwitchyardCore
import SwitchyardDevCluster
import SwitchyardPostgres
import SwitchyardTestSupport
import Testing

@Suite("Webhook durability")
struct WebhookDurabilityTests {
    @Test("every acknowledged delivery is still there after PostgreSQL crashes and recovers")
    func acknowledgedSurvivesCrash() async throws {
        let logger = Logger(label: "switchyard.tests.durability")
        // A cluster of this test's own, with synchronous commit on (the shared test cluster has it off): a commit is
        // acknowledged once its WAL is written out of PostgreSQL's memory, which a crash of its processes does not lose.
        let directory = ClusterDirectory.scratch("durability")
        try await LocalPostgresCluster.withStarted(.init(directory: directory, durable: true), removingFiles: true, logger: logger) { cluster in
            let urls = try await cluster.provisionDatabase(named: "switchyard_durability", logger: logger)
            _ = try await Migrator(logger: logger).run(url: urls.owner)
            let environment = TestEnvironment.make(owner: urls.owner, application: urls.application)

            let acknowledged = try await environment.withApp { (client: any TestClientProtocol) async throws in
                let tenant = try await client.makeTenant(slug: "durable")
                let source = try await WebhookFixture.makeSource(client, key: tenant.key)
                return try await withThrowingTaskGroup(of: String?.self) { group in
                    for index in 0..<40 {
                        group.addTask {
                            // As a provider does: a 503 (the commit missed its deadline on a busy machine, fsync on) is
                            // retried; what this test is about is that nothing answered 200 is lost.
                            for _ in 0..<10 {
                                let response = try await WebhookFixture.deliverGitHub(
                                    client,
                                    source: source.id,
                                    secret: source.secret,
                                    deliveryID: "crash-\(index)"
                                )
                                if response.status == .ok { return "crash-\(index)" }
                                guard response.status == .serviceUnavailable else { return nil }
                                try await Task.sleep(for: .milliseconds(200))
                            }
                            return nil
                        }
                    }
                    var delivered: [String] = []
                    for try await id in group { if let id { delivered.append(id) } }
                    return delivered
                }
            }
            #expect(acknowledged.count == 40)

            await cluster.crash()
            let restarted = try await cluster.restart(logger: logger)
            let recovered = try await restarted.provisionDatabase(named: "switchyard_durability", logger: logger)
            let stored = try await TestEnvironment.withConnection(to: recovered.owner, logger: logger) { connection in
                try await connection.query("SELECT event_id FROM webhook_events", logger: logger).decode(String.self).collect()
            }
            #expect(Set(stored) == Set(acknowledged))
        }
    }
}
