import Logging
import NIOCore
import PostgresNIO
import SwitchyardCore
import SwitchyardMetrics
import Synchronization

/// How long a database call may wait and run (REQUIREMENTS RL-8).
///
/// postgres-nio gives neither bound itself: a lease waits for a connection as long as the pool keeps failing
/// to connect (its breaker trips only after a minute), and a query sent on a socket whose server died may never be
/// answered. A `statement_timeout` is enforced by a server that may be gone, so it bounds neither.
public struct DatabaseDeadlines: Sendable {
    /// How long a call waits for a pooled connection before failing with 503 `service-unavailable`.
    public var acquire: Duration
    /// How long a call may hold its connection; past it the connection is closed, which fails whatever the call
    /// was waiting for, and the call fails with 503 `database-timeout`. `nil` for a connection held on purpose for
    /// as long as its holder runs (a listener, a leader lock), which bounds its own queries.
    public var call: Duration?

    public init(acquire: Duration, call: Duration?) {
        self.acquire = acquire
        self.call = call
    }

    public init(_ configuration: DatabaseConfiguration) {
        self.init(acquire: .milliseconds(configuration.acquireTimeoutMilliseconds), call: .milliseconds(configuration.callTimeoutMilliseconds))
    }
}

extension SwitchyardError {
    static let databaseTimeout = Self(
        .unavailable,
        code: "database-timeout",
        detail: "The database did not answer in time. Retry later."
    )
}

extension PostgresClient {
    /// Leases a connection within `deadlines.acquire` and runs `body` on it within `deadlines.call`.
    ///
    /// postgres-nio can withdraw a waiting lease only by cancelling the task that waits, so the lease is taken by
    /// a child task that lends the connection to this one and holds the lease until `body` is done; `body` itself
    /// runs here, so it need not be `Sendable`. The call deadline is a timer on the connection's event loop that
    /// closes the connection: every query waiting on it is then released at once (`guardedQuery`), whatever state
    /// the socket is in.
    func withConnection<Result>(
        deadlines: DatabaseDeadlines,
        metrics: DatabaseMetrics?,
        running: PoolRunFlag,
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        let handoff = ConnectionHandoff()
        metrics?.leaseWaitStarted()
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                do {
                    try await running.waitUntilRunning()
                    try await self.withConnection { connection in await handoff.lend(connection) }
                } catch {
                    handoff.failed(error)
                }
            }
            let acquireTimer = DeadlineTimer(after: deadlines.acquire, on: Self.timerLoop) { handoff.expire() }
            let connection: PostgresConnection
            do {
                defer {
                    acquireTimer.cancel()
                    metrics?.leaseWaitEnded()
                }
                connection = try await handoff.connection()
            } catch {
                group.cancelAll()
                if error is ConnectionHandoff.Expired {
                    metrics?.acquireTimedOut()
                    throw SwitchyardError.databaseUnavailable
                }
                throw error
            }
            defer { handoff.giveBack() }
            return try await connection.withinCallDeadline(deadlines.call, metrics: metrics, body).result.get()
        }
    }

    /// Acquire timers need an event loop before there is a connection; any will do.
    static var timerLoop: any EventLoop { PostgresClient.defaultEventLoopGroup.any() }
}

extension PostgresConnection {
    /// Runs `body` on this connection within `deadline` (none when `nil`): past it the connection is closed, which
    /// fails whatever `body` waits for, and the call fails with 503 `database-timeout`. Returns the outcome, and whether
    /// the connection may serve another call (it may not once the deadline closed it).
    func withinCallDeadline<Result>(
        _ deadline: Duration?,
        metrics: DatabaseMetrics?,
        _ body: (PostgresConnection) async throws -> Result
    ) async -> (result: Swift.Result<Result, any Error>, reusable: Bool) {
        let expired = Atomic<Bool>(false)
        let callTimer = deadline.map { closing(after: $0) { expired.store(true, ordering: .sequentiallyConsistent) } }
        defer { callTimer?.cancel() }
        do {
            return (.success(try await body(self)), true)
        } catch {
            guard expired.load(ordering: .sequentiallyConsistent) else { return (.failure(error), true) }
            // Given back before its close completes, the pool would take the connection for an idle one and lend it
            // again (seen in a loop of the shelf's call deadline test): wait until the pool has seen it close.
            try? await closeFuture.get()
            metrics?.callTimedOut()
            return (.failure(SwitchyardError.databaseTimeout), false)
        }
    }

    /// A deadline: closes the connection after `duration` unless cancelled first, which releases every query waiting
    /// on it (`guardedQuery`) whatever state its socket is in.
    func closing(after duration: Duration, onClose: @escaping @Sendable () -> Void = {}) -> DeadlineTimer {
        DeadlineTimer(after: duration, on: eventLoop) { [self] in
            onClose()
            close().whenComplete { _ in }
        }
    }
}

/// Passes a leased connection from the task that holds the lease to the task that uses it, and back.
///
/// Either side may come first; the user may give up (acquire deadline) before the lease arrives, in which case a
/// late lease is returned at once.
final class ConnectionHandoff: Sendable {
    struct Expired: Error {}

    private struct State {
        var outcome: Result<PostgresConnection, any Error>?
        var user: CheckedContinuation<PostgresConnection, any Error>?
        var lender: CheckedContinuation<Void, Never>?
        var returned = false
    }

    private let state = Mutex(State())

    /// The lender's side: hands `connection` over and waits until it is given back.
    func lend(_ connection: PostgresConnection) async {
        await withCheckedContinuation { (lender: CheckedContinuation<Void, Never>) in
            let (user, returnAtOnce) = state.withLock { state -> (CheckedContinuation<PostgresConnection, any Error>?, Bool) in
                if state.returned || state.outcome != nil { return (nil, true) }
                state.outcome = .success(connection)
                state.lender = lender
                defer { state.user = nil }
                return (state.user, false)
            }
            if returnAtOnce { lender.resume() }
            user?.resume(returning: connection)
        }
    }

    /// The lease failed (pool shut down, request cancelled).
    func failed(_ error: any Error) {
        resolve(.failure(error))
    }

    /// The acquire deadline passed.
    func expire() {
        resolve(.failure(Expired()))
    }

    private func resolve(_ outcome: Result<PostgresConnection, any Error>) {
        let user = state.withLock { state -> CheckedContinuation<PostgresConnection, any Error>? in
            guard state.outcome == nil else { return nil }
            state.outcome = outcome
            if case .failure = outcome { state.returned = true }
            defer { state.user = nil }
            return state.user
        }
        user?.resume(with: outcome)
    }

    /// The user's side: waits for the connection (or the failure).
    func connection() async throws -> PostgresConnection {
        try await withCheckedThrowingContinuation { user in
            let outcome = state.withLock { state -> Result<PostgresConnection, any Error>? in
                if let outcome = state.outcome { return outcome }
                state.user = user
                return nil
            }
            if let outcome { user.resume(with: outcome) }
        }
    }

    /// The user is done: the lender may release the lease.
    func giveBack() {
        let lender = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.returned = true
            defer { state.lender = nil }
            return state.lender
        }
        lender?.resume()
    }
}

/// A timer on an event loop for a deadline that is almost always cancelled in time. Every database call sets two and
/// cancels them from another thread; a `scheduleTask` timer allocates a promise, and cancelling it fails that promise
/// on the loop (a hop onto the loop, and a wake-up of its thread, per timer). A scheduled callback has no promise and
/// is cancelled under the loop's lock alone. On a loop that has shut down the timer is not set, as `scheduleTask`'s
/// task would not have run either.
struct DeadlineTimer: Sendable {
    private let scheduled: NIOScheduledCallback?

    init(after duration: Duration, on loop: any EventLoop, _ fire: @escaping @Sendable () -> Void) {
        scheduled = try? loop.scheduleCallback(in: .init(duration), handler: Fire(action: fire))
    }

    func cancel() {
        scheduled?.cancel()
    }

    private struct Fire: NIOScheduledCallbackHandler, Sendable {
        let action: @Sendable () -> Void

        func handleScheduledCallback(eventLoop: some EventLoop) { action() }
    }
}
