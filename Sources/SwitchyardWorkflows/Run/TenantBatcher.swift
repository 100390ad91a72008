import Foundation
import Logging
import SwitchyardCore
import SwitchyardPostgres
import Synchronization

/// Group commit per tenant: the requests of one tenant that arrive together are written in one batch (one
/// transaction, set-based statements), and each caller returns once the batch that holds its request is done.
///
/// No thread of its own and no artificial wait: the first request to arrive when nothing is being written for its
/// tenant is written at once; those arriving meanwhile queue, and when that batch is done the caller of the oldest
/// of them writes the queue (up to `maxBatch`) for all, and so on. So batches grow exactly when commits are the
/// bottleneck, each caller writes at most one batch, and a lone request is written at once.
public final class TenantBatcher<Request: Sendable, Response: Sendable>: Sendable {
    /// Writes a batch: one result per request, in order.
    public typealias Write = @Sendable (_ tenant: TenantID, _ batch: [Request], _ logger: Logger) async -> [Result<Response, any Error>]

    private struct Pending: Sendable {
        let request: Request
        let outcome: BatchOutcome<Response>
    }

    private struct TenantQueue {
        var pending: [Pending] = []
        /// A batch of this tenant is being written: arrivals queue. Never true with an empty queue and no writer.
        var writing = false
    }

    private let maxBatch: Int
    private let writeBatch: Write
    private let queues = Mutex<[TenantID: TenantQueue]>([:])
    private let batchCount = Atomic<Int>(0)

    public init(maxBatch: Int = 100, write: @escaping Write) {
        self.maxBatch = maxBatch
        self.writeBatch = write
    }

    /// Batches written since start.
    public var batchesWritten: Int { batchCount.load(ordering: .relaxed) }

    /// The requests of `tenant` waiting for a batch, and whether one of its batches is being written.
    public func state(of tenant: TenantID) -> (queued: Int, writing: Bool) {
        queues.withLock { ($0[tenant]?.pending.count ?? 0, $0[tenant]?.writing ?? false) }
    }

    /// Writes `request` with whatever else of `tenant` is queued, returning its response once its batch is done.
    public func submit(_ request: Request, tenant: TenantID, logger: Logger) async throws -> Response {
        let mine = BatchOutcome<Response>()
        let leads = queues.withLock { queues in
            queues[tenant, default: TenantQueue()].pending.append(Pending(request: request, outcome: mine))
            if queues[tenant]!.writing { return false }
            queues[tenant]!.writing = true
            return true
        }
        if leads { await writeOldest(of: tenant, logger: logger) }
        while true {
            switch await mine.wait() {
            case .written(let result): return try result.get()
            case .lead: await writeOldest(of: tenant, logger: logger)
            }
        }
    }

    /// Writes the oldest queued requests (the caller's among them), resolves them, and hands the queue to its oldest
    /// remaining request, or marks the tenant idle.
    private func writeOldest(of tenant: TenantID, logger: Logger) async {
        let batch = queues.withLock { queues in
            let taken = Array((queues[tenant]?.pending ?? []).prefix(maxBatch))
            queues[tenant]?.pending.removeFirst(taken.count)
            return taken
        }
        batchCount.add(1, ordering: .relaxed)
        let results = await writeBatch(tenant, batch.map(\.request), logger)
        for (index, pending) in batch.enumerated() {
            pending.outcome.resolve(.written(index < results.count ? results[index] : .failure(SwitchyardError.internal("a batch lost a result"))))
        }
        let next = queues.withLock { queues -> BatchOutcome<Response>? in
            guard let first = queues[tenant]?.pending.first else {
                queues[tenant] = nil
                return nil
            }
            return first.outcome
        }
        next?.resolve(.lead)
    }
}

/// What a queued request's caller learns: its request was written (or not), or it is to write the next batch.
private final class BatchOutcome<Response: Sendable>: Sendable {
    enum Signal: Sendable {
        case written(Result<Response, any Error>)
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
