import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import SwitchyardAPI
import SwitchyardCore
import SwitchyardMetrics
import SwitchyardPostgres

extension TestEnvironment {
    /// Runs the application exactly as `serve` does, on a real socket on loopback, and passes `body`
    /// the port it listens on. The server is shut down gracefully when `body` returns.
    public func withLiveServer<Result: Sendable>(
        http: HTTPConfiguration = HTTPConfiguration(host: "127.0.0.1", port: 0),
        _ body: @Sendable (Int) async throws -> Result
    ) async throws -> Result {
        var configuration = self.configuration
        configuration.http = http
        let database = try Database(configuration: configuration.database, vault: vault, metrics: nil, logger: logger)
        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        let metrics = MetricsRegistry(version: "test")
        let app = try buildApplication(
            APIDependencies(configuration: configuration, database: database, metrics: metrics, outbound: makeOutboundClient(metrics: metrics)),
            logger: logger,
            onServerRunning: { channel in
                portSink.yield(channel.localAddress?.port ?? 0)
                portSink.finish()
            }
        )
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            defer { Task { await group.triggerGracefulShutdown() } }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next(), port > 0 else { throw TestFailure("the server did not start") }
            let result = try await body(port)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return result
        }
    }
}
