import Synchronization

/// Combines concurrent reads of one kind into batches, each one statement, so that under load one database round trip
/// serves several requests (issue 18: a round trip costs this process about as much CPU as a whole bare request).
/// The hot single-row reads use it (`Database+CombinedReads.swift`), and so do the API rate limiter's leases
/// (`SharedRateLimiter`), whose "read" of a key takes tokens from its bucket.
///
/// At most `lanes` batches run at once. A read that finds a lane free leads a batch at once, so a read on an idle
/// system waits for nothing but its own statement. Otherwise it queues; when a batch ends, its leader answers the
/// batch's reads and hands its lane to the first queued read, which leads the next batch with up to `batchLimit` - 1
/// reads queued behind it. Reads of one key in a batch share its answer.
///
/// A batch's statement runs in a task of its own, not in the leading read's: cancelling that read (its request went
/// away) must not fail the reads that share its batch. The database's deadlines bound the statement.
///
/// A batch that fails fails each of its reads with that error: a read of one row by key has no failure of its own to
/// tell apart from its batch's (the database, the connection or a deadline is what fails).
package final class BatchCombiner<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    /// Reads a batch of distinct keys; a key without a value in the answer reads `nil`.
    package typealias Batch = @Sendable (_ keys: [Key]) async throws -> [Key: Value]

    private enum Turn: Sendable {
        case answered(Result<Value?, any Error>)
        case lead
    }

    private struct Queued {
        let key: Key
        let turn: CheckedContinuation<Turn, Never>
    }

    private struct State {
        var queued: [Queued] = []
        var running = 0
    }

    let lanes: Int
    let batchLimit: Int
    private let state = Mutex(State())

    package init(lanes: Int, batchLimit: Int) {
        self.lanes = max(1, lanes)
        self.batchLimit = max(1, batchLimit)
    }

    /// Reads waiting for a lane.
    var queuedCount: Int { state.withLock { $0.queued.count } }

    /// The value of `key`, read in a batch by `batch`; `nil` when the batch found none.
    package func read(_ key: Key, batch: @escaping Batch) async throws -> Value? {
        let turn = await withCheckedContinuation { (turn: CheckedContinuation<Turn, Never>) in
            let lead = state.withLock { state in
                guard state.running < lanes else {
                    state.queued.append(Queued(key: key, turn: turn))
                    return false
                }
                state.running += 1
                return true
            }
            if lead { turn.resume(returning: .lead) }
        }
        switch turn {
        case .answered(let result): return try result.get()
        case .lead: return try await lead(key, batch: batch).get()
        }
    }

    /// Runs one batch, `key` and the reads queued first, answers them and passes the lane on.
    private func lead(_ key: Key, batch: @escaping Batch) async -> Result<Value?, any Error> {
        let followers = state.withLock { state in
            let taken = Array(state.queued.prefix(batchLimit - 1))
            state.queued.removeFirst(taken.count)
            return taken
        }
        var distinct = [key]
        var seen: Set<Key> = [key]
        for follower in followers where seen.insert(follower.key).inserted { distinct.append(follower.key) }
        let keys = distinct
        let values = await Task { () -> Result<[Key: Value], any Error> in
            do { return .success(try await batch(keys)) } catch { return .failure(error) }
        }.value
        let next = state.withLock { state -> Queued? in
            guard !state.queued.isEmpty else {
                state.running -= 1
                return nil
            }
            return state.queued.removeFirst()
        }
        for follower in followers { follower.turn.resume(returning: .answered(values.map { $0[follower.key] })) }
        next?.turn.resume(returning: .lead)
        return values.map { $0[key] }
    }
}
