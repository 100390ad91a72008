import Synchronization

/// Set by `Database.run()` just before it runs a `PostgresClient`'s pool. A lease asked for before that waits for
/// it (within the lease's acquire deadline): postgres-nio would serve it too, once the pool runs, but warns that
/// `run()` has not been called yet, which every process start and every `keys` command printed (issue 12, item 14).
final class PoolRunFlag: Sendable {
    private let running = Atomic(false)

    var isRunning: Bool { running.load(ordering: .acquiring) }

    func markRunning() { running.store(true, ordering: .releasing) }

    /// Returns once the pool runs; polls, because only the first moments of a process ever wait here.
    func waitUntilRunning() async throws {
        while !isRunning { try await Task.sleep(for: .milliseconds(1)) }
    }
}
