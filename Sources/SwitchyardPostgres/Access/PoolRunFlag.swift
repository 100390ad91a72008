import Synchronization

/// Set by `Database.run()` just before it runs a `PostgresClient`'s pool. A lease asked for before that waits for
/// it (within the lease's acquire deadline): postgres-nio would serve it too, once the pool runs, but warns that
/// `run()` has not been called yet, which every process start and every `keys` command printed (issue 12, item 14).
///
/// The flag is set on the line before `run()`, which marks postgres-nio's own flag first thing; a thread descheduled
/// between the two let a lease through unannounced on a loaded machine (a full test run beside a release build).
/// Leases therefore wait until the flag has been set for `settling` as well: only the first moments of a process.
final class PoolRunFlag: Sendable {
    /// Nanoseconds of `ContinuousClock` since `origin` when the flag was set, or -1 before.
    private let markedAt = Atomic<Int64>(-1)
    private let settled = Atomic(false)
    private let origin = ContinuousClock.now
    private static let settling: Duration = .milliseconds(20)

    var isRunning: Bool { settled.load(ordering: .acquiring) || hasSettled() }

    func markRunning() { markedAt.store(Self.nanoseconds(origin.duration(to: .now)), ordering: .releasing) }

    /// Returns once the pool runs; polls, because only the first moments of a process ever wait here.
    func waitUntilRunning() async throws {
        while !isRunning { try await Task.sleep(for: .milliseconds(1)) }
    }

    private func hasSettled() -> Bool {
        let marked = markedAt.load(ordering: .acquiring)
        guard marked >= 0, Self.nanoseconds(origin.duration(to: .now)) - marked >= Self.nanoseconds(Self.settling) else { return false }
        settled.store(true, ordering: .releasing)
        return true
    }

    private static func nanoseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
    }
}
