import Synchronization

/// The state of one destination's circuit breaker.
public enum CircuitState: String, Sendable, Hashable {
    /// Requests flow; consecutive failures are counted.
    case closed
    /// Requests are refused without being sent until the cool-down ends.
    case open
    /// The cool-down ended: one probe request is in flight or may go; the others are refused.
    case halfOpen = "half_open"
}

/// One circuit breaker per key (integration or destination, RL-7): after `failureThreshold` consecutive
/// destination failures (5xx, 408, timeouts, connection errors) it opens and refuses requests at once;
/// after `coolDown` a single probe is let through, whose success closes it and whose failure reopens it.
///
/// Answers that show the destination is up, even unwelcome ones (4xx, 429), count as successes here:
/// the rate limiter, not the breaker, deals with quotas.
final class CircuitBreaker: Sendable {
    struct Settings: Sendable {
        var failureThreshold: Int = 5
        var coolDown: Duration = .seconds(30)
        /// Most keys remembered at once.
        var capacity: Int = 10_000
    }

    /// Leave to send one request; hand it back with ``record(_:_:)``.
    struct Ticket: Sendable {
        let key: String
        let isProbe: Bool
    }

    enum Result: Sendable {
        /// The destination answered.
        case success
        /// The destination failed (5xx, 408, timeout, connection error).
        case failure
        /// Nothing was learned (cancelled, refused by the rate limiter).
        case neutral
    }

    private enum State {
        case closed(failures: Int)
        case open(until: ContinuousClock.Instant)
        case halfOpen(probeInFlight: Bool)

        var summary: CircuitState {
            switch self {
            case .closed: .closed
            case .open: .open
            case .halfOpen: .halfOpen
            }
        }
    }

    private struct Entry {
        var state = State.closed(failures: 0)
        var provider: String
    }

    /// Called after every change of state, outside the lock, with the entry's provider (for metrics).
    typealias TransitionObserver = @Sendable (_ provider: String, _ from: CircuitState, _ to: CircuitState) -> Void

    let settings: Settings
    private let clock = ContinuousClock()
    private let entries: Mutex<BoundedKeyTable<Entry>>
    private let observer: TransitionObserver

    init(settings: Settings = Settings(), observer: @escaping TransitionObserver = { _, _, _ in }) {
        self.settings = settings
        self.entries = Mutex(BoundedKeyTable(capacity: settings.capacity))
        self.observer = observer
    }

    /// Keys currently remembered.
    var trackedKeys: Int { entries.withLock { $0.count } }

    /// The current state of `key` (closed when unknown), e.g. for health reporting.
    func state(of key: String) -> CircuitState {
        entries.withLock { $0.peek(key)?.state.summary ?? .closed }
    }

    /// Lets a request for `key` through, or throws ``OutboundError/Kind/circuitOpen(retryAfter:)``.
    func admit(_ key: String, provider: String) throws(OutboundError) -> Ticket {
        let now = clock.now
        var transitions: [(String, CircuitState, CircuitState)] = []
        let decision: Swift.Result<Ticket, OutboundError> = entries.withLock { table in
            table.update(
                key,
                now: now,
                make: { Entry(provider: provider) },
                canEvict: { if case .halfOpen(true) = $0.state { false } else { true } },
                onEvict: { evicted in
                    if evicted.state.summary != .closed { transitions.append((evicted.provider, evicted.state.summary, .closed)) }
                }
            ) { entry in
                switch entry.state {
                case .closed:
                    return .success(Ticket(key: key, isProbe: false))
                case .open(let until):
                    guard now >= until else {
                        return .failure(OutboundError(.circuitOpen(retryAfter: until - now)))
                    }
                    entry.state = .halfOpen(probeInFlight: true)
                    transitions.append((entry.provider, .open, .halfOpen))
                    return .success(Ticket(key: key, isProbe: true))
                case .halfOpen(let probeInFlight):
                    if probeInFlight {
                        return .failure(OutboundError(.circuitOpen(retryAfter: .seconds(1))))
                    }
                    entry.state = .halfOpen(probeInFlight: true)
                    return .success(Ticket(key: key, isProbe: true))
                }
            }
        }
        notify(transitions)
        return try decision.get()
    }

    /// Records how the request admitted by `ticket` went.
    func record(_ ticket: Ticket, _ result: Result) {
        let now = clock.now
        let transition: (String, CircuitState, CircuitState)? = entries.withLock { table in
            table.modifyIfPresent(ticket.key) { entry -> (String, CircuitState, CircuitState)? in
                let before = entry.state.summary
                switch (entry.state, ticket.isProbe, result) {
                case (.halfOpen, true, .success):
                    entry.state = .closed(failures: 0)
                case (.halfOpen, true, .failure):
                    entry.state = .open(until: now + settings.coolDown)
                case (.halfOpen, true, .neutral):
                    entry.state = .halfOpen(probeInFlight: false)
                case (.closed, false, .success):
                    entry.state = .closed(failures: 0)
                case (.closed(let failures), false, .failure):
                    entry.state =
                        failures + 1 >= settings.failureThreshold
                        ? .open(until: now + settings.coolDown) : .closed(failures: failures + 1)
                default:
                    // A late answer to a request admitted in an earlier state changes nothing.
                    break
                }
                let after = entry.state.summary
                return before == after ? nil : (entry.provider, before, after)
            } ?? nil
        }
        if let transition { notify([transition]) }
    }

    private func notify(_ transitions: [(String, CircuitState, CircuitState)]) {
        for (provider, from, to) in transitions {
            observer(provider, from, to)
        }
    }
}
