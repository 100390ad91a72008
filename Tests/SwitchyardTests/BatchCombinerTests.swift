import Synchronization
import Testing

@testable import SwitchyardPostgres

/// `BatchCombiner`: how reads are grouped into batches, driven by batches that wait until the test lets them end.
@Suite("Combined reads (issue 18)")
struct BatchCombinerTests {
    /// The batches a combiner ran, in order; a batch ends when `release` is called for it.
    final class Batches: Sendable {
        private let state = Mutex<(seen: [[Int]], released: Int)>(([], 0))

        var seen: [[Int]] { state.withLock { $0.seen } }

        func release() { state.withLock { $0.released += 1 } }

        /// Records `keys` and waits until the test releases this batch; fails when `keys` contains a negative key.
        func run(_ keys: [Int]) async throws -> [Int: String] {
            let number = state.withLock { state in
                state.seen.append(keys)
                return state.seen.count
            }
            while state.withLock({ $0.released < number }) { try await Task.sleep(for: .milliseconds(1)) }
            struct Refused: Error {}
            if keys.contains(where: { $0 < 0 }) { throw Refused() }
            // Keys above 100 have no value.
            return Dictionary(uniqueKeysWithValues: keys.filter { $0 <= 100 }.map { ($0, "value \($0)") })
        }
    }

    static func waitUntil(_ condition: () -> Bool) async throws {
        while !condition() { try await Task.sleep(for: .milliseconds(1)) }
    }

    @Test("a read on an idle combiner runs at once, alone; reads queued behind a batch go together in the next, one key read once")
    func batching() async throws {
        let combiner = BatchCombiner<Int, String>(lanes: 1, batchLimit: 64)
        let batches = Batches()
        try await withThrowingTaskGroup(of: (Int, String?).self) { group in
            group.addTask { (1, try await combiner.read(1, batch: batches.run)) }
            try await Self.waitUntil { batches.seen.count == 1 }
            for key in [2, 3, 3, 101] {
                group.addTask { (key, try await combiner.read(key, batch: batches.run)) }
            }
            try await Self.waitUntil { combiner.queuedCount == 4 }
            batches.release()
            try await Self.waitUntil { batches.seen.count == 2 }
            batches.release()
            var answers: [(Int, String?)] = []
            for try await answer in group { answers.append(answer) }
            #expect(answers.sorted { $0.0 < $1.0 }.map(\.1) == ["value 1", "value 2", "value 3", "value 3", nil])
        }
        #expect(batches.seen.count == 2)
        #expect(batches.seen.first == [1])
        #expect(batches.seen.last.map { Set($0) } == [2, 3, 101] && batches.seen.last?.count == 3)
        #expect(combiner.queuedCount == 0)
    }

    @Test("a batch reads at most batchLimit reads; the rest go in the batches after it")
    func batchLimit() async throws {
        let combiner = BatchCombiner<Int, String>(lanes: 1, batchLimit: 2)
        let batches = Batches()
        try await withThrowingTaskGroup(of: String?.self) { group in
            group.addTask { try await combiner.read(1, batch: batches.run) }
            try await Self.waitUntil { batches.seen.count == 1 }
            for key in 2...6 { group.addTask { try await combiner.read(key, batch: batches.run) } }
            try await Self.waitUntil { combiner.queuedCount == 5 }
            for number in 1...4 {
                batches.release()
                if number < 4 { try await Self.waitUntil { batches.seen.count == number + 1 } }
            }
            var answered = 0
            for try await answer in group where answer != nil { answered += 1 }
            #expect(answered == 6)
        }
        #expect(batches.seen.map(\.count) == [1, 2, 2, 1])
    }

    @Test("cancelling the first read of a batch fails none of the reads in it: the batches run in a task of their own")
    func firstReadCancelled() async throws {
        let combiner = BatchCombiner<Int, String>(lanes: 1, batchLimit: 64)
        let batches = Batches()
        let first = Task { try await combiner.read(1, batch: batches.run) }
        try await Self.waitUntil { batches.seen.count == 1 }
        let firstOfNext = Task { try await combiner.read(2, batch: batches.run) }
        try await Self.waitUntil { combiner.queuedCount == 1 }
        let follower = Task { try await combiner.read(3, batch: batches.run) }
        try await Self.waitUntil { combiner.queuedCount == 2 }
        // The first batch ends: the next reads 2, then 3.
        batches.release()
        try await Self.waitUntil { batches.seen.count == 2 }
        #expect(batches.seen.last == [2, 3])
        firstOfNext.cancel()
        // Long enough for a batch running in the cancelled task to see it (`Batches.run` sleeps, which throws then).
        try await Task.sleep(for: .milliseconds(20))
        batches.release()
        #expect(try await first.value == "value 1")
        #expect(try await follower.value == "value 3")
        #expect(try await firstOfNext.value == "value 2")
    }

    @Test("two lanes run two batches at once; a failed batch fails its own reads only, and the combiner goes on")
    func lanesAndFailures() async throws {
        let combiner = BatchCombiner<Int, String>(lanes: 2, batchLimit: 64)
        let batches = Batches()
        try await withThrowingTaskGroup(of: Result<String?, any Error>.self) { group in
            func read(_ key: Int) {
                group.addTask {
                    do { return .success(try await combiner.read(key, batch: batches.run)) } catch { return .failure(error) }
                }
            }
            read(-1)
            read(2)
            try await Self.waitUntil { batches.seen.count == 2 }
            read(-3)
            read(4)
            try await Self.waitUntil { combiner.queuedCount == 2 }
            // The first batch ends (with -1 or 2, whichever led first); its lane takes both queued reads.
            batches.release()
            try await Self.waitUntil { batches.seen.count == 3 }
            batches.release()
            batches.release()
            var failures = 0
            var values: [String?] = []
            for try await outcome in group {
                switch outcome {
                case .success(let value): values.append(value)
                case .failure: failures += 1
                }
            }
            #expect(failures == 3, "-1, and -3 with 4 in its batch")
            #expect(values == ["value 2"])
        }
        #expect(Set(batches.seen.prefix(2)) == [[-1], [2]])
        #expect(batches.seen.last.map { Set($0) } == [-3, 4])
    }
}
