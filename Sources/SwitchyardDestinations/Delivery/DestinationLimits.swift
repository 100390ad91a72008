import Foundation
import SwitchyardCore
import Synchronization

/// A destination's rate and concurrency limits, kept by each executor process for the deliveries it runs.
///
/// A delivery that finds no room is not sent and not waited for (a waiting worker would hold a slot other
/// destinations need): it is deferred, without spending an attempt, until about when room is expected.
public final class DestinationLimits: Sendable {
    /// A permit to send one delivery; give it back with `release` when the attempt ends.
    public struct Permit: Sendable {
        let key: UUID
        let counted: Bool
    }

    struct State {
        var inFlight = 0
        /// The token bucket of the rate limit: tokens available at `refilledAt`.
        var tokens: Double = 0
        var refilledAt: ContinuousClock.Instant?
    }

    private let states = Mutex<[UUID: State]>([:])

    public init() {}

    /// A permit, or how long to wait before trying again.
    public func admit(_ destination: UUID, rateLimitPerSecond: Int?, maxConcurrency: Int?) -> Result<Permit, DeferredAdmission> {
        guard rateLimitPerSecond != nil || maxConcurrency != nil else { return .success(Permit(key: destination, counted: false)) }
        let now = ContinuousClock.now
        return states.withLock { states in
            var state = states[destination] ?? State()
            defer { states[destination] = state }
            if let maxConcurrency, state.inFlight >= maxConcurrency {
                return .failure(
                    DeferredAdmission(
                        after: .milliseconds(Int.random(in: 20...100)),
                        reason: "the destination's concurrency limit (\(maxConcurrency)) is reached"
                    )
                )
            }
            if let rate = rateLimitPerSecond.map(Double.init) {
                // A bucket of one second's worth of tokens, refilled continuously.
                let elapsed = state.refilledAt.map { (now - $0).inSeconds } ?? 1
                state.tokens = min(rate, state.tokens + elapsed * rate)
                state.refilledAt = now
                guard state.tokens >= 1 else {
                    let wait = (1 - state.tokens) / rate
                    return .failure(DeferredAdmission(after: .seconds(wait), reason: "the destination's rate limit (\(Int(rate))/s) is reached"))
                }
                state.tokens -= 1
            }
            state.inFlight += 1
            return .success(Permit(key: destination, counted: true))
        }
    }

    public func release(_ permit: Permit) {
        guard permit.counted else { return }
        states.withLock { states in
            guard var state = states[permit.key] else { return }
            state.inFlight = max(0, state.inFlight - 1)
            // Forget idle destinations whose bucket would be full again anyway (a fresh state starts full).
            if state.inFlight == 0, state.refilledAt.map({ ContinuousClock.now - $0 > .seconds(1) }) ?? true {
                states[permit.key] = nil
            } else {
                states[permit.key] = state
            }
        }
    }
}

/// Why a delivery was not admitted, and when to try again.
public struct DeferredAdmission: Error, Sendable {
    public let after: Duration
    public let reason: String
}
