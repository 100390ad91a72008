import Synchronization

/// Hands delivery numbers 0..<count to a generator's connections: all at once (closed loop), or each at its due time
/// `started + index / pace`, released by one pacing loop that wakes at most every millisecond. One timer for the whole
/// generator instead of a sleep per delivery: with a sleep per delivery, the paced generator spent about three times
/// the CPU per delivery of the closed loop, on two cores it shares with the server.
final class PacedTickets: Sendable {
    private struct State {
        var next = 0
        var released: Int
        var waiting: [CheckedContinuation<Int?, Never>] = []
        /// The pacing loop stopped early (the phase failed): no more deliveries, so no connection waits forever.
        var stopped = false
    }

    let count: Int
    let pace: Double?
    let started: ContinuousClock.Instant
    private let state: Mutex<State>

    init(count: Int, pace: Double?, started: ContinuousClock.Instant) {
        self.count = count
        self.pace = pace
        self.started = started
        state = Mutex(State(released: pace == nil ? count : 0))
    }

    /// When delivery `index` is due: now for the closed loop.
    func due(_ index: Int) -> ContinuousClock.Instant {
        pace.map { started + .seconds(Double(index) / $0) } ?? .now
    }

    /// The next delivery to send, once it is due; nil when every delivery has been handed out.
    func take() async -> Int? {
        await withCheckedContinuation { continuation in
            let ticket = state.withLock { state -> Int?? in
                if state.next < state.released {
                    defer { state.next += 1 }
                    return .some(state.next)
                }
                if state.next >= count || state.stopped { return .some(nil) }
                state.waiting.append(continuation)
                return .none
            }
            if case .some(let ticket) = ticket { continuation.resume(returning: ticket) }
        }
    }

    /// Releases deliveries as they fall due until all are out, then tells the connections still waiting that there
    /// are no more. Runs beside the connections when paced; returns at once for the closed loop.
    func pace() async throws {
        guard let pace else { return }
        do {
            while true {
                let dueNow = min(count, Int(((ContinuousClock.now - started).inSeconds * pace).rounded(.down)) + 1)
                release(upTo: dueNow)
                if dueNow >= count { return }
                try await Task.sleep(until: max(due(dueNow), .now + .milliseconds(1)), tolerance: .zero)
            }
        } catch {
            let waiting = state.withLock { state in
                state.stopped = true
                defer { state.waiting.removeAll() }
                return state.waiting
            }
            for continuation in waiting { continuation.resume(returning: nil) }
            throw error
        }
    }

    /// Hands the deliveries before `dueNow` to the connections waiting for one; once all are out, the rest learn so.
    private func release(upTo dueNow: Int) {
        let handed = state.withLock { state -> [(CheckedContinuation<Int?, Never>, Int?)] in
            state.released = dueNow
            var handed: [(CheckedContinuation<Int?, Never>, Int?)] = []
            while !state.waiting.isEmpty, state.next < state.released {
                handed.append((state.waiting.removeFirst(), state.next))
                state.next += 1
            }
            if state.next >= count {
                handed += state.waiting.map { ($0, nil) }
                state.waiting.removeAll()
            }
            return handed
        }
        for (continuation, ticket) in handed { continuation.resume(returning: ticket) }
    }
}
