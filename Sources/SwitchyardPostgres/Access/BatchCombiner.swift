import Synchronization

/// Combines concurrent reads of one kind into batches, each one statement, so that under load one database round trip
/// serves several requests (issue 18: a round trip costs this process about as much CPU as a whole bare request).
/// The hot single-row reads use it (`Database+CombinedReads.swift`), and so do the API rate limiter's leases
/// (`SharedRateLimiter`), whose "read" of a key takes tokens from its bucket.
///
/// At most `lanes` batches run at once. A read that finds a lane free starts a task that runs batches back to back:
/// the first with that read and up to `batchLimit` - 1 reads queued behind it, then each with the reads queued
/// meanwhile, until none is left; then it frees the lane. Otherwise the read queues. So a read on an idle system waits
/// for nothing but its own statement, and under load the next batch starts as soon as one ends, without waiting for a
/// queued read's task to be scheduled to lead it, as an earlier version did (`bench api`, two pairs at 64
/// connections: `/v1/integrations/{id}` at 0.39 / 0.38 of `/healthz` against 0.37 / 0.37, credentials 0.20 / 0.20
/// against 0.19 / 0.19, `/v1/me` the same). Reads of one key in a batch share its answer; a batch runs with the batch
/// function of its first read.
///
/// The batches run in a task of their own, not in a read's: cancelling a read (its request went away) must not fail
/// the reads that share its batch. The database's deadlines bound each statement.
///
/// A batch that fails fails each of its reads with that error: a read of one row by key has no failure of its own to
/// tell apart from its batch's (the database, the connection or a deadline is what fails).
package final class BatchCombiner<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    /// Reads a batch of distinct keys; a key without a value in the answer reads `nil`.
    package typealias Batch = @Sendable (_ keys: [Key]) async throws -> [Key: Value]

    private struct Queued {
        let key: Key
        let batch: Batch
        let answer: CheckedContinuation<Result<Value?, any Error>, Never>
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
        try await withCheckedContinuation { (answer: CheckedContinuation<Result<Value?, any Error>, Never>) in
            let read = Queued(key: key, batch: batch, answer: answer)
            let start = state.withLock { state in
                guard state.running < lanes else {
                    state.queued.append(read)
                    return false
                }
                state.running += 1
                return true
            }
            if start { Task { await drain(first: read) } }
        }.get()
    }

    /// Runs batches back to back, the first with `first` and the reads queued behind it, then each with the reads
    /// queued meanwhile, until none is left; then frees the lane.
    private func drain(first: Queued) async {
        var members = [first] + takeQueued(upTo: batchLimit - 1, freeingTheLane: false)
        while !members.isEmpty {
            var distinct: [Key] = []
            var seen: Set<Key> = []
            for member in members where seen.insert(member.key).inserted { distinct.append(member.key) }
            let values: Result<[Key: Value], any Error>
            do { values = .success(try await members[0].batch(distinct)) } catch { values = .failure(error) }
            for member in members { member.answer.resume(returning: values.map { $0[member.key] }) }
            members = takeQueued(upTo: batchLimit, freeingTheLane: true)
        }
    }

    /// Up to `limit` queued reads, oldest first; when none is queued and `freeingTheLane`, frees the lane (in the same
    /// step, so that a read queued after it finds the lane free and starts a batch of its own).
    private func takeQueued(upTo limit: Int, freeingTheLane: Bool) -> [Queued] {
        state.withLock { state in
            let taken = Array(state.queued.prefix(limit))
            state.queued.removeFirst(taken.count)
            if taken.isEmpty && freeingTheLane { state.running -= 1 }
            return taken
        }
    }
}
