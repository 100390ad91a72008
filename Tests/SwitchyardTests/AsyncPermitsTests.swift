import SwitchyardCore
import Synchronization
import Testing

@Suite("AsyncPermits: a bound on the deliveries fan-outs have in flight")
struct AsyncPermitsTests {
    @Test("no more than the limit hold a permit at once, and every task gets one in the end")
    func boundsHolders() async throws {
        let permits = AsyncPermits(limit: 3)
        let counts = Holders()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<40 {
                group.addTask {
                    try await permits.withPermit {
                        counts.state.withLock {
                            $0.holding += 1
                            $0.most = max($0.most, $0.holding)
                        }
                        try await Task.sleep(for: .milliseconds(2))
                        counts.state.withLock {
                            $0.holding -= 1
                            $0.done += 1
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        let final = counts.state.withLock { $0 }
        #expect(final.most == 3 && final.done == 40 && final.holding == 0)
    }

    @Test("a task cancelled while it waits stops waiting with CancellationError; the permits stay whole")
    func cancelledWaiter() async throws {
        let permits = AsyncPermits(limit: 1)
        let (holding, holder) = AsyncStream.makeStream(of: Void.self)
        let (release, releaser) = AsyncStream.makeStream(of: Void.self)
        let holderTask = Task {
            try await permits.withPermit {
                holder.yield()
                for await _ in release { break }
            }
        }
        for await _ in holding { break }
        let waiter = Task { try await permits.withPermit { "got one" } }
        try await Task.sleep(for: .milliseconds(50))
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        releaser.yield()
        try await holderTask.value
        // The cancelled waiter took nothing: the one permit is free again.
        #expect(try await permits.withPermit { "free" } == "free")
    }
}

private final class Holders: Sendable {
    let state = Mutex((holding: 0, most: 0, done: 0))
}
