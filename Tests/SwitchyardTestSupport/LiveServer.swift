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
        let metrics = MetricsRegistry(version: "test")
        let dependencies = APIDependencies(
            configuration: configuration,
            database: database,
            metrics: metrics,
            outbound: makeOutboundClient(metrics: metrics)
        )
        return try await withLoopbackApplication(
            logger: logger,
            what: "the server",
            make: { onServerRunning in
                try buildApplication(dependencies, logger: logger, onServerRunning: onServerRunning)
            },
            body
        )
    }
}
