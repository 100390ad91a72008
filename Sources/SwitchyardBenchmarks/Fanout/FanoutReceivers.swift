import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// Loopback webhook receivers for `bench fanout`: each listens on a port of its own and answers every request 200 at
/// once. They count requests and, while asked to, note when each (receiver, webhook-id) first arrived.
final class FanoutReceivers: Sendable {
    struct Arrival: Hashable {
        let port: Int
        let webhookID: String
    }

    private let ports = Mutex<[Int]>([])
    private let received = Atomic<Int>(0)
    private let arrivals = Mutex<[Arrival: ContinuousClock.Instant]?>(nil)
    private static let webhookID = HTTPField.Name("webhook-id")!

    var boundPorts: [Int] { ports.withLock { $0 } }
    var requests: Int { received.load(ordering: .relaxed) }

    /// Starts noting first arrivals (and forgets earlier ones).
    func startRecording() {
        arrivals.withLock { $0 = [:] }
    }

    /// Stops noting and returns what was noted.
    func stopRecording() -> [Arrival: ContinuousClock.Instant] {
        arrivals.withLock { arrivals in
            defer { arrivals = nil }
            return arrivals ?? [:]
        }
    }

    static func withRunning<Result: Sendable>(count: Int, _ body: @Sendable (FanoutReceivers) async throws -> Result) async throws -> Result {
        let receivers = FanoutReceivers()
        let logger = Logger(label: "switchyard.bench.receivers", factory: { _ in SwiftLogNoOpLogHandler() })
        let (bound, sink) = AsyncStream.makeStream(of: Int.self)
        let applications = (0..<count).map { _ in
            Application(
                responder: CallbackResponder<BasicRequestContext> { request, _ in try await receivers.respond(to: request) },
                configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0), serverName: "fanout-receiver"),
                onServerRunning: { channel in sink.yield(channel.localAddress?.port ?? 0) },
                logger: logger
            )
        }
        let group = ServiceGroup(configuration: .init(services: applications, logger: logger))
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            defer { Task { await group.triggerGracefulShutdown() } }
            var ports: [Int] = []
            for await port in bound {
                guard port > 0 else { throw BenchmarkFailure("a receiver did not start") }
                ports.append(port)
                if ports.count == count { break }
            }
            receivers.ports.withLock { $0 = ports }
            let result = try await body(receivers)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return result
        }
    }

    private func respond(to request: Request) async throws -> Response {
        let now = ContinuousClock.now
        _ = try await request.body.collect(upTo: 1 << 20)
        received.wrappingAdd(1, ordering: .relaxed)
        if let id = request.headers[Self.webhookID], let port = request.head.authority?.split(separator: ":").last.flatMap({ Int($0) }) {
            arrivals.withLock { arrivals in
                let key = Arrival(port: port, webhookID: id)
                if arrivals != nil, arrivals?[key] == nil { arrivals?[key] = now }
            }
        }
        return Response(status: .ok)
    }
}
