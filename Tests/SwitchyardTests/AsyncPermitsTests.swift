import SwitchyardCore
import SwitchyardTestSupport
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

    @Test("waiters cancelled at any moment, in line, on their way to it or just served, leave no bookkeeping behind")
    func cancellationLeavesNothing() async throws {
        let permits = AsyncPermits(limit: 2)
        for _ in 0..<20 {
            let tasks = (0..<50).map { _ in Task { try await permits.withPermit { await Task.yield() } } }
            for (index, task) in tasks.enumerated() where index.isMultiple(of: 2) {
                await Task.yield()
                task.cancel()
            }
            for task in tasks { _ = try? await task.value }
        }
        #expect(permits.idsInTransit == 0)
        // Every permit is back.
        try await withThrowingTaskGroup(of: Void.self) { group in
            let gate = Gate()
            let holding = SharedCounter()
            for _ in 0..<2 {
                group.addTask {
                    try await permits.withPermit {
                        holding.add()
                        try await gate.wait()
                    }
                }
            }
            try await eventually("both permits are taken at once") { holding.value == 2 }
            gate.release()
            try await group.waitForAll()
        }
    }
}

private final class Holders: Sendable {
    let state = Mutex((holding: 0, most: 0, done: 0))
}
