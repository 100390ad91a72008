import Synchronization

/// At most `limit` tasks hold a permit at once; the others wait for one, first come, first served. A task cancelled
/// while it waits stops waiting with `CancellationError`.
public final class AsyncPermits: Sendable {
    private struct Waiter {
        let id: UInt64
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var available: Int
        var waiters: [Waiter] = []
        /// Waiters between their first look and their place in line.
        var arriving: Set<UInt64> = []
        /// Arriving waiters that were cancelled: they leave as soon as they get to the line.
        var cancelledEarly: Set<UInt64> = []
        var nextID: UInt64 = 0
    }

    private let state: Mutex<State>

    public init(limit: Int) {
        state = Mutex(State(available: max(1, limit)))
    }

    /// Runs `body` holding a permit.
    public func withPermit<Result>(_ body: () async throws -> Result) async throws -> Result {
        try await acquire()
        defer { release() }
        return try await body()
    }

    private func acquire() async throws {
        let id: UInt64? = state.withLock { state in
            if state.available > 0 {
                state.available -= 1
                return nil
            }
            state.nextID += 1
            state.arriving.insert(state.nextID)
            return state.nextID
        }
        guard let id else { return }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                enum Now { case wait, go, cancelled }
                let now: Now = state.withLock { state in
                    state.arriving.remove(id)
                    if state.cancelledEarly.remove(id) != nil { return .cancelled }
                    // A permit given back since the first look, when nobody was in line to take it.
                    if state.available > 0 {
                        state.available -= 1
                        return .go
                    }
                    state.waiters.append(Waiter(id: id, continuation: continuation))
                    return .wait
                }
                switch now {
                case .wait: break
                case .go: continuation.resume()
                case .cancelled: continuation.resume(throwing: CancellationError())
                }
            }
        } onCancel: {
            let waiting: CheckedContinuation<Void, any Error>? = state.withLock { state in
                if let index = state.waiters.firstIndex(where: { $0.id == id }) {
                    return state.waiters.remove(at: index).continuation
                }
                // Not in line: still arriving (it leaves when it gets there), or already given its permit (it keeps it).
                if state.arriving.contains(id) { state.cancelledEarly.insert(id) }
                return nil
            }
            waiting?.resume(throwing: CancellationError())
        }
    }

    /// The ids kept for waiters that are on their way to the line or were cancelled on the way (for the tests: none
    /// once every task has its answer).
    package var idsInTransit: Int { state.withLock { $0.arriving.count + $0.cancelledEarly.count } }

    private func release() {
        let next: CheckedContinuation<Void, any Error>? = state.withLock { state in
            guard !state.waiters.isEmpty else {
                state.available += 1
                return nil
            }
            return state.waiters.removeFirst().continuation
        }
        next?.resume()
    }
}
