import Logging
import SwitchyardCore
import SwitchyardMetrics
import Synchronization

/// A provider account's learned quota spent together by every process calling it (issue 18), on top of each
/// process's ``AdaptiveRateLimiter``: N executors spend one quota, not N.
///
/// **Leases.** Once a response has announced the window's `remaining`, a request goes out only with a token leased
/// from the shared store (``SharedQuotaStore``). A lease takes an eighth of what is left (at least 1, at most
/// ``Settings/maxLease``), so that the processes share the end of a window one token at a time; the tokens are used
/// from memory until spent or the window ends, so a busy key costs one store round trip per lease, not per request.
/// Together the processes therefore send at most the announced `remaining` before the window ends, plus the probes
/// that learn a new window (one per process, counted by the provider in the announcements that follow). Tokens still
/// held at the window's end are lost, which errs on the side of sending less.
///
/// **Window ends.** A response tells when its window ends only within the request's round trip (the provider counted it
/// somewhere between its sending and its answer), so each window has two instants (``AnnouncedQuotaWindow``): tokens
/// are spent only until its earliest possible end, less ``Settings/resetMargin``, and the next window is probed only
/// after its latest, plus the margin. Between the two the key waits. A request in flight across the end is thus counted
/// in the window that granted it, or before the probe whose announcement opens the next one, unless it took longer
/// than the margin to reach the provider.
///
/// **Batched reports.** What the responses announce is not written per response: the lowest `remaining` seen and the
/// requests sent without a token travel with the next lease. A 429 (or 503 with `Retry-After`) is written at once, so
/// that every process waits it out from its next lease on (a process holding tokens may still spend them first).
///
/// **When the store fails** (PostgreSQL unreachable), every key is limited by this process alone, as before issue 18:
/// requests are never held back because the store is down. The failure is logged once, recovery once, and the store
/// is tried again every ``Settings/retryInterval``.
final class SharedProviderQuota: Sendable {
    struct Settings: Sendable {
        /// Most tokens one lease takes.
        var maxLease = 8
        /// How long a key with no known quota is sent without asking the store again: what a provider that announces
        /// no quota costs (a transaction per key and process every 30 s), and how late such a key learns of a 429 that
        /// another process met. A key whose responses announce a quota asks at once (see `step`).
        var unknownRecheck: Duration = .seconds(30)
        /// How long every key is decided locally after the store failed, before it is tried again.
        var retryInterval: Duration = .seconds(5)
        /// Taken off a window's earliest end and added to its latest: provider clocks and rounding make the instants
        /// uncertain, and a request sent before the earliest end still has to reach the provider.
        var resetMargin: Duration = .milliseconds(250)
        /// Assumed window when an announcement of `remaining` says nothing of its reset.
        var defaultWindow: Duration = .seconds(1)
        var capacity = 10_000
    }

    private enum Phase {
        /// No quota known: send (counting the requests) until `recheckAt` or until a response announces one.
        case unknown(recheckAt: ContinuousClock.Instant)
        case leased(tokens: Int, spendUntil: ContinuousClock.Instant)
        case exhausted(until: ContinuousClock.Instant)
        /// A lease is being asked for; requests of the key wait for it.
        case leasing(Task<Void, Never>)
    }

    /// What responses announced of a window since the last lease: its lowest `remaining`, and when it ends at the
    /// earliest (`spendUntil`, the margin taken off) and at the latest (`endsAt`, the margin added).
    private struct Announced {
        var remaining: Int
        var spendUntil: ContinuousClock.Instant
        var endsAt: ContinuousClock.Instant

        /// Two announcements whose windows end within a second of each other describe one window (their round trips
        /// differ): the lowest `remaining` and the widest bounds hold. Otherwise the later window is the current one.
        func merged(with other: Announced) -> Announced {
            let (earlier, later) = endsAt < other.endsAt ? (self, other) : (other, self)
            guard later.endsAt - earlier.endsAt <= .seconds(1) else { return later }
            return Announced(
                remaining: min(remaining, other.remaining),
                spendUntil: min(spendUntil, other.spendUntil),
                endsAt: max(endsAt, other.endsAt)
            )
        }
    }

    private struct KeyState {
        var phase: Phase
        var announced: Announced?
        var sentUnleased = 0
    }

    private struct State {
        var keys: BoundedKeyTable<KeyState>
        /// Set while the store does not answer: when to try it again, and whether a try is under way.
        var outage: (retryAt: ContinuousClock.Instant, probing: Bool)?
    }

    private enum Step {
        case proceed
        case wait(Task<Void, Never>)
        case sleep(until: ContinuousClock.Instant)
    }

    let settings: Settings
    private let store: any SharedQuotaStore
    private let metrics: OutboundMetrics?
    private let clock = ContinuousClock()
    private let state: Mutex<State>

    init(store: any SharedQuotaStore, settings: Settings = Settings(), metrics: OutboundMetrics?) {
        self.store = store
        self.settings = settings
        self.metrics = metrics
        self.state = Mutex(State(keys: BoundedKeyTable(capacity: settings.capacity)))
    }

    /// Waits (cancellably) until the shared quota lets one request of `key` go out; throws
    /// ``OutboundError/Kind/rateLimited(retryAfter:)`` as soon as the wait would end after `deadline`. Returns how
    /// long it waited (for a lease or the quota), zero when the request went out from memory.
    func admit(tenant: TenantID, key: String, deadline: ContinuousClock.Instant, logger: Logger) async throws -> Duration {
        let name = Self.name(tenant, key)
        let start = clock.now
        var waited = false
        while true {
            switch step(name, tenant: tenant, key: key, logger: logger) {
            case .proceed:
                return waited ? clock.now - start : .zero
            case .wait(let leasing):
                waited = true
                await leasing.value
                try Task.checkCancellation()
            case .sleep(let until):
                waited = true
                let now = clock.now
                guard until <= deadline else { throw OutboundError(.rateLimited(retryAfter: until - now)) }
                try await Task.sleep(until: until, clock: clock)
            }
        }
    }

    /// Keeps what the response to a request sent at `sentAt` announced, for the next lease.
    func observe(tenant: TenantID, key: String, announcement: RateLimitHeaders.Announcement?, sentAt: ContinuousClock.Instant) {
        guard let remaining = announcement?.remaining else { return }
        let resetAfter = announcement?.resetAfter ?? settings.defaultWindow
        let seen = Announced(
            remaining: remaining,
            spendUntil: sentAt + resetAfter - settings.resetMargin,
            endsAt: clock.now + resetAfter + settings.resetMargin
        )
        state.withLock { state in
            _ = state.keys.modifyIfPresent(Self.name(tenant, key)) { keyState in
                keyState.announced = keyState.announced.map { $0.merged(with: seen) } ?? seen
            }
        }
    }

    /// Blocks `key` for every process for `duration` (a 429's wait); this process waits at once.
    func block(tenant: TenantID, key: String, for duration: Duration, logger: Logger) async {
        let until = clock.now + duration
        state.withLock { state in
            _ = state.keys.modifyIfPresent(Self.name(tenant, key)) { keyState in
                if case .leasing = keyState.phase { return }
                keyState.phase = .exhausted(until: until)
            }
        }
        guard state.withLock({ $0.outage == nil }) else { return }
        do {
            try await store.block(tenant: tenant, key: key, for: duration)
        } catch {
            failed(error, logger: logger)
        }
    }

    private func step(_ name: String, tenant: TenantID, key: String, logger: Logger) -> Step {
        let now = clock.now
        return state.withLock { state -> Step in
            if let outage = state.outage {
                if !outage.probing && now >= outage.retryAt {
                    state.outage?.probing = true
                    _ = startLease(&state, name, tenant: tenant, key: key, now: now, logger: logger)
                }
                return .proceed
            }
            let decided = state.keys.update(
                name,
                now: now,
                make: { KeyState(phase: .unknown(recheckAt: now)) },
                canEvict: {
                    if case .leasing = $0.phase { return false }
                    return true
                }
            ) { keyState -> Step? in
                switch keyState.phase {
                case .leasing(let task):
                    return .wait(task)
                case .exhausted(let until) where until > now:
                    return .sleep(until: until)
                case .leased(let tokens, let spendUntil) where tokens > 0 && spendUntil > now:
                    keyState.phase = .leased(tokens: tokens - 1, spendUntil: spendUntil)
                    return .proceed
                case .unknown(let recheckAt) where recheckAt > now && keyState.announced == nil:
                    keyState.sentUnleased += 1
                    return .proceed
                default:
                    return nil
                }
            }
            if let decided { return decided }
            return .wait(startLease(&state, name, tenant: tenant, key: key, now: now, logger: logger))
        }
    }

    /// Asks the store for a lease of `name`, reporting what was seen since the last one. The task is not a child of
    /// the request that started it, so that the requests waiting for it get their answer even when that request is
    /// cancelled; the store's deadlines bound it.
    private func startLease(
        _ state: inout State,
        _ name: String,
        tenant: TenantID,
        key: String,
        now: ContinuousClock.Instant,
        logger: Logger
    ) -> Task<Void, Never> {
        let takeReport = { (keyState: inout KeyState) -> SharedQuotaLeaseRequest in
            var request = SharedQuotaLeaseRequest(
                tenant: tenant,
                key: key,
                want: self.settings.maxLease,
                announced: nil,
                sentUnleased: keyState.sentUnleased
            )
            // An announcement of a window that has ended says nothing of the next one.
            if let announced = keyState.announced, announced.endsAt > now {
                request.announced = AnnouncedQuotaWindow(
                    remaining: announced.remaining,
                    spendableFor: announced.spendUntil - now,
                    endsIn: announced.endsAt - now
                )
            }
            keyState.announced = nil
            keyState.sentUnleased = 0
            return request
        }
        let request = state.keys.update(name, now: now, make: { KeyState(phase: .unknown(recheckAt: now)) }, canEvict: { _ in false }, takeReport)
        let task = Task {
            let outcome: Result<SharedQuotaLease, any Error>
            do {
                outcome = .success(try await store.lease(request))
            } catch {
                outcome = .failure(error)
            }
            record(outcome, for: name, askedAt: now, logger: logger)
        }
        _ = state.keys.modifyIfPresent(name) { $0.phase = .leasing(task) }
        return task
    }

    /// Keeps a lease asked for at `askedAt`. Its durations count from the store's clock somewhere in between: a grant
    /// is spent until `askedAt` plus its duration (no later than the store meant), a wait lasts from now.
    private func record(_ outcome: Result<SharedQuotaLease, any Error>, for name: String, askedAt: ContinuousClock.Instant, logger: Logger) {
        let now = clock.now
        switch outcome {
        case .success(let lease):
            switch lease {
            case .unknown: metrics?.recordQuotaLease(.unknown)
            case .granted: metrics?.recordQuotaLease(.granted)
            case .exhausted: metrics?.recordQuotaLease(.exhausted)
            }
            let phase: Phase =
                switch lease {
                case .unknown: .unknown(recheckAt: now + settings.unknownRecheck)
                case .granted(let tokens, let spendableFor): .leased(tokens: tokens, spendUntil: askedAt + spendableFor)
                case .exhausted(let retryIn): .exhausted(until: now + retryIn)
                }
            let recovered = state.withLock { state in
                _ = state.keys.modifyIfPresent(name) { $0.phase = phase }
                defer { state.outage = nil }
                return state.outage != nil
            }
            if recovered { logger.notice("the shared provider quotas answer again; provider accounts are limited across processes") }
        case .failure(let error):
            metrics?.recordQuotaLease(.failed)
            state.withLock { state in
                _ = state.keys.modifyIfPresent(name) { $0.phase = .unknown(recheckAt: now + settings.retryInterval) }
            }
            failed(error, logger: logger)
        }
    }

    private func failed(_ error: any Error, logger: Logger) {
        let retryAt = clock.now + settings.retryInterval
        let first = state.withLock { state in
            defer { state.outage = (retryAt: retryAt, probing: false) }
            return state.outage == nil
        }
        if first {
            logger.error(
                "the shared provider quotas did not answer; each process limits provider accounts on its own until they do",
                metadata: ["error": "\(error)", "retry_in": "\(settings.retryInterval)"]
            )
        }
    }

    private static func name(_ tenant: TenantID, _ key: String) -> String {
        "\(tenant)|\(key)"
    }
}
