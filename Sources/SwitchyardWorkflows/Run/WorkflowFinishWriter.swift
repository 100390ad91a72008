import Foundation
import Logging
import SwitchyardCore
import SwitchyardPostgres
import Synchronization

/// Group commit for the ends of runs: the runs of one tenant that end at the same time are written (their last
/// steps, final status and event) in one transaction and one statement, and each attempt returns once the commit
/// that holds its run is done.
///
/// No thread of its own and no artificial wait: the first attempt to arrive when nothing is being written for its
/// tenant writes its run at once; those arriving meanwhile queue, and when that write is done the oldest of them
/// writes the queue (up to `maxBatch`) for all, and so on. So batches grow exactly when commits are the bottleneck,
/// each attempt writes at most one batch, and a lone run is written at once.
public final class WorkflowFinishWriter: Sendable {
    private struct Pending: Sendable {
        let finish: WorkflowRunFinish
        let outcome: FinishOutcome
    }

    private struct TenantQueue {
        var pending: [Pending] = []
        /// A batch of this tenant is being written: arrivals queue. Never true with an empty queue and no writer.
        var writing = false
    }

    private let database: Database
    private let maxBatch: Int
    private let queues = Mutex<[TenantID: TenantQueue]>([:])
    private let batchCount = Atomic<Int>(0)

    public init(database: Database, maxBatch: Int = 100) {
        self.database = database
        self.maxBatch = maxBatch
    }

    /// Batches written since start (each one transaction, or several when its statement failed).
    public var batchesWritten: Int { batchCount.load(ordering: .relaxed) }

    /// The runs of `tenant` waiting for a batch, and whether one of its batches is being written.
    public func state(of tenant: TenantID) -> (queued: Int, writing: Bool) {
        queues.withLock { ($0[tenant]?.pending.count ?? 0, $0[tenant]?.writing ?? false) }
    }

    /// Writes `finish`, returning once it is committed; throws what the write threw.
    public func write(_ finish: WorkflowRunFinish, tenant: TenantID, logger: Logger) async throws {
        let mine = FinishOutcome()
        let leads = queues.withLock { queues in
            queues[tenant, default: TenantQueue()].pending.append(Pending(finish: finish, outcome: mine))
            if queues[tenant]!.writing { return false }
            queues[tenant]!.writing = true
            return true
        }
        if leads { await writeBatch(of: tenant, logger: logger) }
        while true {
            switch await mine.wait() {
            case .written(let result): return try result.get()
            case .lead: await writeBatch(of: tenant, logger: logger)
            }
        }
    }

    /// Writes the oldest queued runs (the caller's among them), resolves them, and hands the queue to its oldest
    /// remaining run, or marks the tenant idle.
    private func writeBatch(of tenant: TenantID, logger: Logger) async {
        let batch = queues.withLock { queues in
            let pending = queues[tenant]?.pending ?? []
            let taken = Array(pending.prefix(maxBatch))
            queues[tenant]?.pending.removeFirst(taken.count)
            return taken
        }
        batchCount.add(1, ordering: .relaxed)
        for (pending, result) in zip(batch, await results(of: batch.map(\.finish), tenant: tenant, logger: logger)) {
            pending.outcome.resolve(.written(result))
        }
        let next = queues.withLock { queues -> FinishOutcome? in
            guard let first = queues[tenant]?.pending.first else {
                queues[tenant] = nil
                return nil
            }
            return first.outcome
        }
        next?.resolve(.lead)
    }

    /// One statement for all; when it fails and there were several, each alone, so that one run's bad write fails
    /// only that run.
    private func results(of finishes: [WorkflowRunFinish], tenant: TenantID, logger: Logger) async -> [Result<Void, any Error>] {
        do {
            try await database.withTenant(tenant, logger: logger) { try await $0.finishWorkflowRuns(finishes) }
            return finishes.map { _ in .success(()) }
        } catch {
            guard finishes.count > 1, !(error is CancellationError) else { return finishes.map { _ in .failure(error) } }
            var results: [Result<Void, any Error>] = []
            for finish in finishes {
                do {
                    try await database.withTenant(tenant, logger: logger) { try await $0.finishWorkflowRuns([finish]) }
                    results.append(.success(()))
                } catch {
                    results.append(.failure(error))
                }
            }
            return results
        }
    }
}

/// What a queued run's attempt learns: its run was written (or not), or it is to write the next batch.
private final class FinishOutcome: Sendable {
    enum Signal: Sendable {
        case written(Result<Void, any Error>)
        case lead
    }

    private let state = Mutex<(signal: Signal?, waiter: CheckedContinuation<Signal, Never>?)>((nil, nil))

    func resolve(_ signal: Signal) {
        let waiter = state.withLock { state -> CheckedContinuation<Signal, Never>? in
            guard let waiter = state.waiter else {
                state.signal = signal
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume(returning: signal)
    }

    func wait() async -> Signal {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> Signal? in
                if let signal = state.signal {
                    state.signal = nil
                    return signal
                }
                state.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}
