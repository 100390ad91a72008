import SwitchyardCore

/// Why an outbound request produced no response to hand back.
///
/// A response from the provider, whatever its status, is returned as an ``OutboundResponse`` rather
/// than thrown; these errors are for requests that were refused, or that failed before a complete
/// response arrived. The description never contains the URL, headers or body.
public struct OutboundError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The destination's quota would have required waiting longer than the request allows.
        case rateLimited(retryAfter: Duration)
        /// The destination's circuit breaker is open.
        case circuitOpen(retryAfter: Duration)
        /// The SSRF guard refused the destination.
        case blocked(SSRFViolation.Reason)
        /// No complete response within the connect timeout, the read timeout or the per-attempt deadline.
        case timeout(TimeoutPhase)
        /// The connection could not be made or broke (refused, reset, TLS failure, unresolvable name).
        case connectionFailed
        /// The response body exceeded the cap; reading stopped there and the connection was closed.
        case responseTooLarge(limit: Int)
        /// The request cannot be sent as given (malformed URL or header).
        case invalidRequest(String)
    }

    public enum TimeoutPhase: String, Sendable, Equatable {
        case connect, read, write, deadline
    }

    public var kind: Kind
    /// Attempts that reached the point of sending (or trying to connect), including the last one.
    public var attempts: Int

    public init(_ kind: Kind, attempts: Int = 0) {
        self.kind = kind
        self.attempts = attempts
    }

    /// The outcome class of this failure (RL-4), for metrics and for callers deciding whether to retry later.
    public var outcome: OutboundOutcome {
        switch kind {
        case .rateLimited: .rateLimited
        case .circuitOpen: .circuitOpen
        case .blocked: .blocked
        case .timeout, .connectionFailed: .transient
        case .responseTooLarge, .invalidRequest: .permanent
        }
    }

    public var description: String {
        switch kind {
        case .rateLimited(let wait): "the provider's rate limit requires waiting \(wait.roundedUpSeconds) s, longer than this request may wait"
        case .circuitOpen(let wait): "calls to this destination are suspended after repeated failures; retry in \(wait.roundedUpSeconds) s"
        case .blocked(let reason): SSRFViolation(reason).description
        case .timeout(let phase): "the provider did not answer in time (\(phase.rawValue) timeout)"
        case .connectionFailed: "the connection to the provider failed"
        case .responseTooLarge(let limit): "the provider's response exceeded \(limit) bytes"
        case .invalidRequest(let detail): "the outbound request is invalid: \(detail)"
        }
    }

    /// The problem to report to the API caller who asked for this request (for the proxy).
    public var problem: SwitchyardError {
        switch kind {
        case .rateLimited(let wait):
            SwitchyardError(.rateLimited(retryAfterSeconds: wait.retryAfterSeconds), code: "provider-rate-limited", detail: description)
        case .circuitOpen:
            SwitchyardError(.unavailable, code: "provider-unavailable", detail: description)
        case .blocked:
            SwitchyardError(.forbidden, code: "destination-not-allowed", detail: description)
        case .timeout:
            SwitchyardError(.gatewayTimeout, code: "provider-timeout", detail: description)
        case .connectionFailed:
            SwitchyardError(.badGateway, code: "provider-unreachable", detail: description)
        case .responseTooLarge:
            SwitchyardError(.badGateway, code: "provider-response-too-large", detail: description)
        case .invalidRequest:
            SwitchyardError(.badRequest, code: "invalid-outbound-request", detail: description)
        }
    }
}

extension OutboundError: SwitchyardErrorConvertible {
    public var switchyardError: SwitchyardError { problem }
}
