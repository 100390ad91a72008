import AsyncHTTPClient
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import SwitchyardCore
import SwitchyardMetrics
import Synchronization

#if canImport(FoundationEssentials)
import struct FoundationEssentials.Date
#else
import struct Foundation.Date
#endif

/// The one way Switchyard calls third-party APIs: the integration proxy, syncs, workflows and webhook deliveries.
///
/// Every request is checked by the SSRF guard, waits for its destination's quota (``AdaptiveRateLimiter``, and
/// ``SharedProviderQuota`` across processes when it names its tenant and the client has a shared store),
/// passes its circuit breaker, and is retried on transient failures according to its ``RetryPolicy``.
/// Redirects are returned, never followed; bodies are read up to a cap; nothing secret is logged.
///
/// One instance per process, shared; it is a `Service` so that the `ServiceGroup` shuts its connection
/// pool down after the services that use it (list it before them).
public final class OutboundClient: Service, Sendable {
    public let configuration: OutboundConfiguration
    /// The guard applied to every request, also usable on its own (e.g. when a webhook destination is saved).
    public let ssrfGuard: SSRFGuard
    let http: HTTPClient
    let clock = ContinuousClock()
    private let limiter: AdaptiveRateLimiter
    /// The quotas shared with the other processes, for requests that name their tenant; `nil` limits per process.
    private let sharedQuota: SharedProviderQuota?
    private let breaker: CircuitBreaker
    private let metrics: OutboundMetrics?
    private let unitRandom: @Sendable () -> Double
    private let isShutDown = Mutex(false)

    /// - Parameters:
    ///   - metrics: `MetricsRegistry.outbound`, or `nil` to record nothing.
    ///   - sharedQuota: where the processes calling one provider account spend its quota together (issue 18), or
    ///     `nil` to limit each account in this process alone.
    ///   - eventLoopGroup: NIO's shared singleton unless the process has its own.
    public convenience init(
        configuration: OutboundConfiguration = OutboundConfiguration(),
        metrics: OutboundMetrics?,
        sharedQuota: (any SharedQuotaStore)? = nil,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.init(
            configuration: configuration,
            metrics: metrics,
            sharedQuota: sharedQuota,
            eventLoopGroup: eventLoopGroup,
            ssrfGuard: SSRFGuard(allowList: configuration.plainHTTPAllowList),
            unitRandom: { Double.random(in: 0..<1) }
        )
    }

    /// Tests may inject the guard (with a fake resolver) and the jitter source.
    package init(
        configuration: OutboundConfiguration,
        metrics: OutboundMetrics?,
        sharedQuota: (any SharedQuotaStore)? = nil,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        ssrfGuard: SSRFGuard,
        unitRandom: @escaping @Sendable () -> Double
    ) {
        self.configuration = configuration
        self.ssrfGuard = ssrfGuard
        self.metrics = metrics
        self.unitRandom = unitRandom
        self.limiter = AdaptiveRateLimiter(
            settings: .init(
                lowQuotaFraction: configuration.lowQuotaFraction,
                resetMargin: configuration.rateLimitResetMargin,
                capacity: configuration.maxTrackedKeys
            )
        )
        self.sharedQuota = sharedQuota.map {
            SharedProviderQuota(
                store: $0,
                settings: .init(resetMargin: configuration.rateLimitResetMargin, capacity: configuration.maxTrackedKeys),
                metrics: metrics
            )
        }
        self.breaker = CircuitBreaker(
            settings: .init(
                failureThreshold: configuration.breakerFailureThreshold,
                coolDown: configuration.breakerCoolDown,
                capacity: configuration.maxTrackedKeys
            ),
            observer: { provider, from, to in
                metrics?.circuitChanged(provider: provider, from: from.rawValue, to: to.rawValue)
            }
        )

        var http = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: TimeAmount(configuration.connectTimeout), read: TimeAmount(configuration.readTimeout)),
            connectionPool: .init(
                idleTimeout: TimeAmount(configuration.idleConnectionTimeout),
                concurrentHTTP1ConnectionsPerHostSoftLimit: configuration.maxConnectionsPerHost
            ),
            decompression: .disabled  // the size cap applies to what is on the wire; no decompression bombs
        )
        // Connection failures surface at once (our retry policy owns retrying), and the SSRF connect-time
        // check's refusal reaches the caller instead of being retried by the pool until the connect timeout.
        http.connectionPool.retryConnectionEstablishment = false
        http.dnsOverride = configuration.dnsOverride
        http.http1_1ConnectionDebugInitializer = ssrfGuard.connectionCheck
        http.http2ConnectionDebugInitializer = ssrfGuard.connectionCheck
        self.http = HTTPClient(
            eventLoopGroup: eventLoopGroup,
            configuration: http,
            backgroundActivityLogger: Logger(label: "switchyard.outbound.pool", factory: { _ in SwiftLogNoOpLogHandler() })
        )
    }

    /// Waits for graceful shutdown, then closes the connection pool.
    public func run() async throws {
        try? await gracefulShutdown()
        try await shutdown()
    }

    /// Closes the connection pool; requests after this fail with `connectionFailed`. Safe to call twice.
    public func shutdown() async throws {
        let first = isShutDown.withLock { done in
            defer { done = true }
            return !done
        }
        if first { try await http.shutdown() }
    }

    /// The circuit breaker state of `breakerKey`, e.g. for an integration's health.
    public func circuitState(for breakerKey: String) -> CircuitState {
        breaker.state(of: breakerKey)
    }

    /// How many keys the rate limiter and the circuit breaker remember (bounded by `maxTrackedKeys`).
    package var trackedKeys: (limiter: Int, breaker: Int) {
        (limiter.trackedKeys, breaker.trackedKeys)
    }

    /// Sends `request`, waiting for its quota and retrying per its policy, and returns the provider's last answer.
    ///
    /// Any status comes back as a response (check ``OutboundResponse/outcome``). Throws ``OutboundError`` when no
    /// response could be had (refused, timed out, connection failed, body over the cap), or `CancellationError`.
    public func send(_ request: OutboundRequest, logger: Logger) async throws -> OutboundResponse {
        var log = OutboundRequestLog(logger: logger, request: request)

        do {
            _ = try await ssrfGuard.check(request.url)
        } catch {
            metrics?.recordAttempt(provider: request.provider, outcome: OutboundOutcome.blocked.label, duration: nil)
            log.warning("outbound request blocked", metadata: ["reason": "\(error.description)"])
            throw OutboundError(.blocked(error.reason))
        }

        let mayRepeat = RetryPolicy.isIdempotent(request.method) || request.retry.retryNonIdempotent
        let maxWait = request.maxRateLimitWait ?? configuration.maxRateLimitWait
        var waitedBetweenAttempts = Duration.zero
        var attempt = 0
        while true {
            attempt += 1
            log.attempt = attempt
            let (ticket, permit) = try await admit(request, attempt: attempt, maxWait: maxWait, log: log)

            let started = clock.now
            let result: Result<AttemptResponse, AttemptFailure>
            do {
                result = .success(try await performAttempt(request))
            } catch let failure as AttemptFailure {
                result = .failure(failure)
            } catch {
                limiter.complete(permit, status: nil, announcement: nil, retryAfter: nil)
                breaker.record(ticket, .neutral)
                throw error
            }
            let duration = clock.now - started

            let delay: Duration
            switch result {
            case .success(let answer):
                let unixTime = Date().timeIntervalSince1970
                let retryAfter = RetryAfter.delay(in: answer.headers, unixTime: unixTime)
                let announcement = request.rateLimitHeaders.announcement(in: answer.headers, unixTime: unixTime)
                limiter.complete(permit, status: answer.status, announcement: announcement, retryAfter: retryAfter)
                if let sharedQuota, let tenant = request.tenant {
                    sharedQuota.observe(tenant: tenant, key: request.limiterKey, announcement: announcement, sentAt: started)
                    if let block = limiter.block(status: answer.status, announcement: announcement, retryAfter: retryAfter) {
                        await sharedQuota.block(tenant: tenant, key: request.limiterKey, for: block, logger: logger)
                    }
                }
                breaker.record(ticket, answer.status >= 500 || answer.status == 408 ? .failure : .success)
                let response = OutboundResponse(status: .init(code: answer.status), headers: answer.headers, body: answer.body, attempts: attempt)
                metrics?.recordAttempt(provider: request.provider, outcome: response.outcome.label, duration: duration)
                log.debug(
                    "outbound attempt answered",
                    metadata: ["status": "\(answer.status)", "outcome": "\(response.outcome.label)", "duration_ms": "\(duration.wholeMilliseconds)"]
                )
                guard response.outcome.isRetryable, mayRepeat,
                    let next = request.retry.delay(
                        beforeRetry: attempt,
                        retryAfter: retryAfter,
                        waitedSoFar: waitedBetweenAttempts,
                        unitRandom: unitRandom()
                    )
                else {
                    if response.outcome != .success {
                        log.info("outbound request answered with an error", metadata: ["status": "\(answer.status)"])
                    }
                    return response
                }
                delay = next
                log.info("retrying outbound request", metadata: ["status": "\(answer.status)", "delay_ms": "\(delay.wholeMilliseconds)"])

            case .failure(let failure):
                limiter.complete(permit, status: nil, announcement: nil, retryAfter: nil)
                switch failure.kind {
                case .timeout, .connectionFailed: breaker.record(ticket, .failure)
                case .responseTooLarge: breaker.record(ticket, .success)
                case .blocked, .invalidRequest, .rateLimited, .circuitOpen: breaker.record(ticket, .neutral)
                }
                let error = OutboundError(failure.kind, attempts: attempt)
                metrics?.recordAttempt(provider: request.provider, outcome: error.outcome.label, duration: duration)
                log.debug(
                    "outbound attempt failed",
                    metadata: ["error": "\(error.description)", "duration_ms": "\(duration.wholeMilliseconds)"]
                )
                // A request that never reached a connection may be repeated whatever its method.
                guard error.outcome.isRetryable, mayRepeat || !failure.mayHaveBeenSent,
                    let next = request.retry.delay(
                        beforeRetry: attempt,
                        retryAfter: nil,
                        waitedSoFar: waitedBetweenAttempts,
                        unitRandom: unitRandom()
                    )
                else {
                    log.warning("outbound request failed", metadata: ["error": "\(error.description)"])
                    throw error
                }
                delay = next
                log.info("retrying outbound request", metadata: ["error": "\(error.description)", "delay_ms": "\(delay.wholeMilliseconds)"])
            }
            try await Task.sleep(for: delay)
            waitedBetweenAttempts += delay
        }
    }

    /// Passes the circuit breaker, then waits for the rate limiter; records and logs a refusal by either.
    private func admit(
        _ request: OutboundRequest,
        attempt: Int,
        maxWait: Duration,
        log: OutboundRequestLog
    ) async throws -> (CircuitBreaker.Ticket, AdaptiveRateLimiter.Permit) {
        let ticket: CircuitBreaker.Ticket
        do {
            ticket = try breaker.admit(request.breakerKey, provider: request.provider)
        } catch {
            metrics?.recordAttempt(provider: request.provider, outcome: OutboundOutcome.circuitOpen.label, duration: nil)
            log.warning("outbound request refused: circuit open", metadata: ["breaker_key": "\(request.breakerKey)"])
            throw OutboundError(error.kind, attempts: attempt - 1)
        }
        do {
            let start = clock.now
            var (permit, waited) = try await limiter.acquire(request.limiterKey, maxWait: maxWait)
            // After the local limiter, so that a new window is probed by one request of this process, and the rest
            // lease their tokens from what that probe's response announced.
            if let sharedQuota, let tenant = request.tenant {
                do {
                    waited += try await sharedQuota.admit(tenant: tenant, key: request.limiterKey, deadline: start + maxWait, logger: log.logger)
                } catch {
                    limiter.complete(permit, status: nil, announcement: nil, retryAfter: nil)
                    throw error
                }
            }
            metrics?.recordRateLimitWait(provider: request.provider, duration: waited)
            if waited > .zero {
                log.debug("outbound request waited for the rate limit", metadata: ["wait_ms": "\(waited.wholeMilliseconds)"])
            }
            return (ticket, permit)
        } catch let error as OutboundError {
            breaker.record(ticket, .neutral)
            metrics?.recordAttempt(provider: request.provider, outcome: OutboundOutcome.rateLimited.label, duration: nil)
            log.warning("outbound request refused: rate limit wait too long", metadata: ["limiter_key": "\(request.limiterKey)"])
            throw OutboundError(error.kind, attempts: attempt - 1)
        } catch {
            breaker.record(ticket, .neutral)
            throw error
        }
    }
}
