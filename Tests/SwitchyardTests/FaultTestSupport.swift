import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import PostgresNIO
import SwitchyardCore
import SwitchyardDevCluster
import SwitchyardPostgres
import SwitchyardTestSupport
import SwitchyardVault
import Synchronization

/// A durable PostgreSQL of one test's own that the test crashes and restarts on the same port, with a migrated
/// database and the environment child processes are started with.
struct FaultCluster: Sendable {
    let cluster: LocalPostgresCluster
    let environment: TestEnvironment
    let logger: Logger

    /// Runs `body` with a new cluster, then stops it and deletes its files.
    static func with<Result: Sendable>(_ name: String, _ body: (FaultCluster) async throws -> Result) async throws -> Result {
        let logger = Logger(label: "switchyard.tests.faults")
        let directory = ClusterDirectory.scratch("faults-\(name)")
        let options = LocalPostgresCluster.Options(directory: directory, durable: true)
        return try await LocalPostgresCluster.withStarted(options, removingFiles: true, logger: logger) { cluster in
            let urls = try await cluster.provisionDatabase(named: "switchyard_faults", logger: logger)
            _ = try await Migrator(logger: logger).run(url: urls.owner)
            return try await body(
                FaultCluster(cluster: cluster, environment: .make(owner: urls.owner, application: urls.application, logger: logger), logger: logger)
            )
        }
    }

    /// `pg_ctl stop -m immediate`: every backend dies at once, nothing is checkpointed.
    func crash() async {
        await cluster.crash()
    }

    /// Starts the crashed server again on its port; it recovers from the WAL.
    func restart() async throws {
        try await cluster.restart(logger: logger)
    }

    /// A query as the owner on a connection of its own (the cluster may have restarted since anything else connected).
    func ownerQuery<Row: Sendable>(_ query: PostgresQuery, as type: Row.Type) async throws -> [Row] where Row: PostgresDecodable {
        try await TestEnvironment.withConnection(to: environment.ownerURL, logger: logger) { connection in
            try await connection.query(query, logger: logger).decode(Row.self).collect()
        }
    }
}

extension HTTPClient {
    /// A client for load on loopback: as many connections as senders (the default of 8 per host would queue the
    /// rest inside the client, where a request's timeout runs before it is even sent).
    static func forLoad(connections: Int = 64) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = connections
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }
}

/// Plain HTTP calls to a child process on loopback.
struct LoopbackHTTP: Sendable {
    let client: HTTPClient
    let port: Int

    struct Answer: Sendable {
        let status: Int
        let body: String
        let elapsed: Duration
    }

    func send(
        _ method: HTTPMethod,
        _ path: String,
        headers: [(String, String)] = [],
        body: String? = nil,
        timeout: Duration = .seconds(15)
    ) async throws -> Answer {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(string: body)) }
        let started = ContinuousClock.now
        let response = try await client.execute(request, timeout: .init(timeout))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        return Answer(status: Int(response.status.code), body: String(buffer: bytes), elapsed: ContinuousClock.now - started)
    }

    /// POSTs a JSON body and returns the `id` of what it created (for bodies the generated client cannot build
    /// simply, such as a webhook source's scheme).
    func createdID(_ path: String, key: String, body: String) async throws -> String {
        struct Created: Decodable { let id: String }
        let answer = try await send(.POST, path, headers: [("Authorization", "Bearer \(key)"), ("Content-Type", "application/json")], body: body)
        guard answer.status == 201 else { throw TestFailure("POST \(path) answered \(answer.status): \(answer.body)") }
        return try JSONDecoder().decode(Created.self, from: Data(answer.body.utf8)).id
    }

    /// The value of an unlabelled metric on `/metrics`, or `nil` when the process does not answer.
    func metric(_ name: String) async -> Double? {
        guard let answer = try? await send(.GET, "/metrics", timeout: .seconds(2)), answer.status == 200 else { return nil }
        for line in answer.body.split(separator: "\n") where line.hasPrefix(name + " ") {
            return Double(line.dropFirst(name.count + 1))
        }
        return nil
    }

    /// Waits until `/readyz` answers 200; returns how long that took.
    @discardableResult
    func waitUntilReady(timeout: Duration = .seconds(60)) async throws -> Duration {
        let started = ContinuousClock.now
        while ContinuousClock.now - started < timeout {
            if let answer = try? await send(.GET, "/readyz", timeout: .seconds(2)), answer.status == 200 { return ContinuousClock.now - started }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestFailure("127.0.0.1:\(port) was not ready within \(timeout)")
    }
}

extension Duration {
    var milliseconds: Int { Int(components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000) }
}
