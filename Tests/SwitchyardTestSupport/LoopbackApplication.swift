import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// Runs an application made by `make` (given the callback that reports its bound port) in a service group,
/// passes `body` the port, then shuts it down gracefully: the fakes and the live server share this.
func withLoopbackApplication<Result: Sendable>(
    logger: Logger,
    what: String,
    make: (@escaping @Sendable (any Channel) async -> Void) throws -> any Service,
    _ body: (Int) async throws -> Result
) async throws -> Result {
    let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
    let app = try make { channel in
        portSink.yield(channel.localAddress?.port ?? 0)
        portSink.finish()
    }
    let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        defer { Task { await group.triggerGracefulShutdown() } }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else { throw TestFailure("\(what) did not start") }
        let result = try await body(port)
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
        return result
    }
}
