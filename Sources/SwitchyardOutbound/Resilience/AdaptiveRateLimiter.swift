import Synchronization

/// Keeps each destination within the quota its responses announce, so that callers wait a little
/// instead of collecting 429s.
///
/// Per key it learns limit, remaining and reset time from the rate-limit headers. While the remaining
/// budget is comfortable requests go straight through; once it is low (``Settings/lowQuotaFraction``
/// of the limit) requests are spaced so that what remains lasts until the reset; at zero they wait for
/// the reset. A 429 (or a 503 with `Retry-After`) blocks the key for the announced time.
///
/// The first request of a key, and the first after each reset, goes alone: it learns how much of the
/// new window is left (including requests other clients of the same account made) before others follow.
/// Quotas are per process here; requests that name their tenant also pass ``SharedProviderQuota``, which spends
/// one provider account's quota together with the other processes (issue 18).
final class AdaptiveRateLimiter: Sendable {
    struct Settings: Sendable {
        /// Below this fraction of the limit, requests are spaced out to last until the reset.
        var lowQuotaFraction: Double = 0.2
        /// Added to every announced reset: provider clocks and rounding make the exact instant uncertain.
        var resetMargin: Duration = .milliseconds(250)
        /// How often a waiting request looks again while the key's first request is still learning.
        var learningPoll: Duration = .milliseconds(20)
        /// Assumed block when a 429 says nothing about how long to wait.
        var defaultBlock: Duration = .seconds(1)
        /// Most keys remembered at once.
        var capacity: Int = 10_000
    }

    /// Leave to send one request; hand it back with ``complete(_:status:announcement:retryAfter:)``.
    struct Permit: Sendable {
        let key: String
        let startedAt: ContinuousClock.Instant
        let isProbe: Bool
    }

    enum Decision: Sendable {
        case proceed(Permit)
        case wait(Duration)
    }

    private enum Phase {
        /// Nothing known for the current window: one probe at a time.
        case learning
        /// Responses carry no quota: no limiting beyond 429 blocks.
        case unmetered
        /// `remaining` and `resetAt` are known for the current window.
        case metered
    }

    private struct KeyState {
        var phase = Phase.learning
        var probeInFlight = false
        var inFlight = 0
        var limit: Int?
        var remaining: Int?
        var resetAt: ContinuousClock.Instant?
        /// Responses to requests started before this describe an earlier window and are ignored.
        var windowStartedAt: ContinuousClock.Instant
        var blockedUntil: ContinuousClock.Instant?
        var lastStart: ContinuousClock.Instant?
    }

    let settings: Settings
    private let clock = ContinuousClock()
    private let states: Mutex<BoundedKeyTable<KeyState>>

    init(settings: Settings = Settings()) {
        self.settings = settings
        self.states = Mutex(BoundedKeyTable(capacity: settings.capacity))
    }

    /// Keys currently remembered.
    var trackedKeys: Int { states.withLock { $0.count } }

    /// Waits (cancellably) until a request for `key` may go out; throws ``OutboundError/Kind/rateLimited(retryAfter:)``
    /// as soon as it is clear that the wait would exceed `maxWait`. Returns the permit and the time waited.
    func acquire(_ key: String, maxWait: Duration) async throws -> (permit: Permit, waited: Duration) {
        let start = clock.now
        let deadline = start + maxWait
        while true {
            let now = clock.now
            switch decide(key, now: now) {
            case .proceed(let permit):
                return (permit, now - start)
            case .wait(let delay):
                guard now + delay <= deadline else {
                    throw OutboundError(.rateLimited(retryAfter: delay))
                }
                try await Task.sleep(until: now + delay, clock: clock)
            }
        }
    }

    /// The decision for a request to `key` at `now`; `proceed` counts the request as sent.
    func decide(_ key: String, now: ContinuousClock.Instant) -> Decision {
        states.withLock { table in
            table.update(key, now: now, make: { KeyState(windowStartedAt: now) }, canEvict: { $0.inFlight == 0 }) { state in
                decide(&state, key: key, now: now)
            }
        }
    }

    private func decide(_ state: inout KeyState, key: String, now: ContinuousClock.Instant) -> Decision {
        if let blockedUntil = state.blockedUntil {
            if now < blockedUntil { return .wait(blockedUntil - now) }
            state.blockedUntil = nil
        }
        if state.phase == .metered, let resetAt = state.resetAt, now >= resetAt {
            state.phase = .learning
            state.remaining = nil
            state.resetAt = nil
            state.lastStart = nil
            state.windowStartedAt = now
        }
        var isProbe = false
        switch state.phase {
        case .learning:
            if state.probeInFlight { return .wait(settings.learningPoll) }
            isProbe = true
            state.probeInFlight = true
        case .unmetered:
            break
        case .metered:
            if let remaining = state.remaining, let resetAt = state.resetAt {
                if remaining <= 0 { return .wait(resetAt - now) }
                if remaining <= lowQuotaThreshold(limit: state.limit ?? remaining), let lastStart = state.lastStart {
                    // Spread the remaining requests evenly over the time left: the next one may go once
                    // (now + w) - lastStart >= (resetAt - now - w) / remaining, solved for w.
                    let wait = ((resetAt - now) / remaining - (now - lastStart)) * remaining / (remaining + 1)
                    if wait > .zero { return .wait(wait) }
                }
                state.remaining = remaining - 1
            }
        }
        state.inFlight += 1
        state.lastStart = now
        return .proceed(Permit(key: key, startedAt: now, isProbe: isProbe))
    }

    /// Hands a permit back with what the response said; `status` is `nil` when there was no response.
    func complete(_ permit: Permit, status: Int?, announcement: RateLimitHeaders.Announcement?, retryAfter: Duration?) {
        let now = clock.now
        states.withLock { table in
            _ = table.modifyIfPresent(permit.key) { state in
                complete(&state, permit: permit, status: status, announcement: announcement, retryAfter: retryAfter, now: now)
            }
        }
    }

    private func complete(
        _ state: inout KeyState,
        permit: Permit,
        status: Int?,
        announcement: RateLimitHeaders.Announcement?,
        retryAfter: Duration?,
        now: ContinuousClock.Instant
    ) {
        state.inFlight = max(0, state.inFlight - 1)
        if permit.isProbe { state.probeInFlight = false }
        guard let status else { return }

        if let block = block(status: status, announcement: announcement, retryAfter: retryAfter) {
            let until = now + block
            state.blockedUntil = max(state.blockedUntil ?? until, until)
            if status == 429, state.phase == .metered {
                state.remaining = 0
                state.resetAt = max(state.resetAt ?? until, until)
            }
            return
        }
        // A response to a request sent before the last reset describes the old window.
        guard permit.startedAt >= state.windowStartedAt else { return }
        if let limit = announcement?.limit { state.limit = limit }
        guard let remaining = announcement?.remaining else {
            if state.phase == .learning { state.phase = .unmetered }
            return
        }
        // Requests still in flight may not be counted in `remaining` yet: assume they will be.
        let estimate = remaining - state.inFlight
        let resetAt = now + (announcement?.resetAfter ?? settings.defaultBlock) + settings.resetMargin
        switch state.phase {
        case .learning, .unmetered:
            state.phase = .metered
            state.remaining = estimate
            state.resetAt = resetAt
        case .metered:
            // Responses can arrive out of order: the lowest remaining seen in this window is the truth.
            state.remaining = min(state.remaining ?? estimate, estimate)
            if state.resetAt == nil { state.resetAt = resetAt }
        }
    }

    /// How long a response blocks its key: a 429 (or a 503 with `Retry-After`) for the announced time; `nil` otherwise.
    func block(status: Int, announcement: RateLimitHeaders.Announcement?, retryAfter: Duration?) -> Duration? {
        guard status == 429 || (status == 503 && retryAfter != nil) else { return nil }
        let exhaustedReset = announcement?.remaining == 0 ? announcement?.resetAfter : nil
        return retryAfter ?? exhaustedReset ?? settings.defaultBlock
    }

    private func lowQuotaThreshold(limit: Int) -> Int {
        max(1, Int((Double(limit) * settings.lowQuotaFraction).rounded(.up)))
    }
}
