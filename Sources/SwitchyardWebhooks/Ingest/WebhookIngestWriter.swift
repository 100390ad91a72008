import Logging
import ServiceLifecycle
import SwitchyardCore
import SwitchyardMetrics
import SwitchyardPostgres
import Synchronization

/// Group commit for verified deliveries: concurrent deliveries are gathered into one multi-row insert and
/// one commit, and each caller resumes only after the commit that holds its event (REQUIREMENTS WH-7).
///
/// There is no artificial wait: a flusher takes everything queued (up to `maxBatch`) as soon as it is free,
/// so batches grow exactly when commits are the bottleneck and a lone delivery is committed at once.
/// `flushers` commits may run at a time, each on its own connection.
public final class WebhookIngestWriter: Service, Sendable {
    /// Whether the event was new or a redelivery of one already recorded.
    public enum Outcome: Sendable, Equatable {
        case recorded
        case duplicate
    }

    private struct Pending {
        let event: NewWebhookEvent
        let continuation: CheckedContinuation<Outcome, any Error>
    }

    private struct State {
        var queue: [Pending] = []
        var idleFlushers: [CheckedContinuation<Void, Never>] = []
        var stopping = false
    }

    private let database: Database
    private let metrics: WebhookMetrics?
    private let logger: Logger
    private let maxBatch: Int
    private let flushers: Int
    private let state = Mutex(State())

    public init(database: Database, metrics: WebhookMetrics?, logger: Logger, maxBatch: Int = 256, flushers: Int = Database.ingestConnections) {
        self.database = database
        self.metrics = metrics
        self.logger = logger
        self.maxBatch = maxBatch
        self.flushers = flushers
    }

    /// Records `event`, returning once it is committed (or known to be a duplicate). Throws when the commit failed:
    /// the delivery must then not be acknowledged.
    public func record(_ event: NewWebhookEvent) async throws -> Outcome {
        try await withCheckedThrowingContinuation { continuation in
            let (accepted, idle) = state.withLock { state -> (Bool, CheckedContinuation<Void, Never>?) in
                guard !state.stopping else { return (false, nil) }
                state.queue.append(Pending(event: event, continuation: continuation))
                return (true, state.idleFlushers.popLast())
            }
            guard accepted else {
                continuation.resume(
                    throwing: SwitchyardError(.unavailable, code: "shutting-down", detail: "The server is shutting down; retry the delivery.")
                )
                return
            }
            idle?.resume()
        }
    }

    public func run() async throws {
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<flushers {
                    group.addTask { await self.flushLoop() }
                }
            }
        } onGracefulShutdown: {
            let idle = self.state.withLock { state -> [CheckedContinuation<Void, Never>] in
                state.stopping = true
                defer { state.idleFlushers.removeAll() }
                return state.idleFlushers
            }
            for flusher in idle { flusher.resume() }
        }
    }

    /// Takes batches until shutdown has been asked for and the queue is empty: nothing accepted is dropped.
    private func flushLoop() async {
        while true {
            let batch = state.withLock { state -> [Pending] in
                let count = min(state.queue.count, maxBatch)
                defer { state.queue.removeFirst(count) }
                return Array(state.queue.prefix(count))
            }
            if batch.isEmpty {
                if state.withLock({ $0.stopping }) { return }
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let resumeNow = state.withLock { state -> Bool in
                        if !state.queue.isEmpty || state.stopping { return true }
                        state.idleFlushers.append(continuation)
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
                continue
            }
            await flush(batch)
        }
    }

    private func flush(_ batch: [Pending]) async {
        do {
            let inserted = try await database.withIngest(logger: logger) {
                try await $0.insertWebhookEvents(batch.map(\.event), processing: WebhookProcessPayload.self)
            }
            metrics?.recordBatch(size: batch.count)
            for pending in batch {
                let outcome: Outcome = inserted.contains(pending.event.id) ? .recorded : .duplicate
                pending.continuation.resume(returning: outcome)
            }
        } catch  where isDeterministicDatabaseFailure(error) && batch.count > 1 {
            // One delivery is refused for what it holds: store the others one by one, so only that one is answered
            // with an error. Verification keeps ids and types storable, so this is a safety net, not a path.
            logger.error(
                "webhook batch refused by the database; committing its deliveries one by one",
                metadata: [
                    "batch_size": "\(batch.count)", "error": "\(loggableDescription(of: error))",
                ]
            )
            for pending in batch { await flush([pending]) }
        } catch {
            logger.error(
                "webhook batch commit failed; deliveries will be retried by their senders",
                metadata: [
                    "batch_size": "\(batch.count)", "error": "\(loggableDescription(of: error))",
                ]
            )
            let failure =
                isDeterministicDatabaseFailure(error)
                ? SwitchyardError.validation(
                    "The delivery was verified but cannot be stored: \(operatorDescription(of: error) ?? "refused by the database")."
                )
                : SwitchyardError(.unavailable, code: "service-unavailable", detail: "The delivery could not be stored; retry it.")
            for pending in batch { pending.continuation.resume(throwing: failure) }
        }
    }
}
