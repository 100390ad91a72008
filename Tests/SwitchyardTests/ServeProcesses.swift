import AsyncHTTPClient
import Foundation
import SwitchyardDevCluster
import SwitchyardTestSupport
import Testing

/// `serve` processes of one environment on free loopback ports, as a deployment's replicas (issue 18's tests).
enum ServeProcesses {
    /// Starts `count` processes with `settings` (each also given its port), waits until all are ready, runs `body`
    /// with a load client and the ports, then stops the processes with SIGTERM.
    static func with<Result: Sendable>(
        _ count: Int,
        environment: TestEnvironment,
        settings: [String: String],
        _ body: (HTTPClient, [Int]) async throws -> Result
    ) async throws -> Result {
        let ports = try (0..<count).map { _ in try LocalPostgresCluster.freeLoopbackPort() }
        let processes = try ports.map { port in
            try SwitchyardProcess(["serve"], environment: environment, settings: settings.merging(["SWITCHYARD_HTTP_PORT": "\(port)"]) { $1 })
        }
        let client = HTTPClient.forLoad(connections: 16)
        let result: Result
        do {
            for (port, process) in zip(ports, processes) {
                do {
                    try await LoopbackHTTP(client: client, port: port).waitUntilReady()
                } catch {
                    Issue.record("serve on \(port) did not become ready: \(process.output.suffix(2000))")
                    throw error
                }
            }
            result = try await body(client, ports)
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
        for process in processes {
            process.signal(SIGTERM)
            _ = try await process.waitForExit()
        }
        return result
    }
}
