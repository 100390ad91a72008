import Logging
import ServiceLifecycle
import SwitchyardAPI
import SwitchyardCore
import SwitchyardMetrics
import SwitchyardOutbound
import SwitchyardPostgres

/// The API server as `serve` builds it, on a free loopback port, for a benchmark's load.
enum BenchmarkServer {
    /// Starts the server over `database` (whose pool it runs, so that pool must not be running yet), runs `body` with its
    /// port, then shuts the server down and waits for it.
    static func run<Result: Sendable>(
        configuration: SwitchyardConfiguration,
        database: Database,
        metrics: MetricsRegistry,
        logger: Logger,
        _ body: (Int) async throws -> Result
    ) async throws -> Result {
        var configuration = configuration
        configuration.http = HTTPConfiguration(host: "127.0.0.1", port: 0)
        let dependencies = APIDependencies(
            configuration: configuration,
            database: database,
            metrics: metrics,
            outbound: OutboundClient(configuration: OutboundConfiguration(configuration.outbound), metrics: nil),
            logger: logger
        )
        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        var quiet = logger
        quiet.logLevel = .error
        let app = try buildApplication(
            dependencies,
            logger: quiet,
            onServerRunning: { channel in
                portSink.yield(channel.localAddress?.port ?? 0)
                portSink.finish()
            }
        )
        let group = ServiceGroup(configuration: .init(services: [app], logger: quiet))
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            defer { Task { await group.triggerGracefulShutdown() } }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next(), port > 0 else { throw BenchmarkFailure("the server did not start") }
            let result = try await body(port)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return result
        }
    }
}
