import NIOCore
import PostgresNIO
import SwitchyardMetrics
import Synchronization

/// Connections of the application pool kept leased between calls, so that a call takes one and gives it back
/// without going through postgres-nio's pool.
///
/// A lease from that pool costs a child task (the only way to withdraw a lease waiting past its deadline is to cancel
/// the task that waits: `PostgresClient.withConnection(deadlines:...)`), the pool's state machine, and the
/// keep-alive and idle timers it sets each time a connection goes back: `bench api` measured the authenticated read
/// path 12-22 % faster with a shelf in front of it. The pool still makes, checks and closes the connections:
/// each shelved connection is held by a holder task that leased it, and the holder gives it back when the
/// connection closes (the server went away, a call deadline closed it), when nobody used it for `idleLimit` (so a quiet
/// process returns its connections, and the pool's keep-alive and idle timeout apply again), or at shutdown.
///
/// Holders start on demand, up to `capacity`: a call that finds no idle connection waits (within its acquire deadline)
/// for the next one given back or leased, and starts a holder when fewer than `capacity` run. While the database is
/// down the holders wait in the pool's lease queue and callers time out at their acquire deadline, as with the pool.
final class ConnectionShelf: Sendable {
    /// A shelved connection, lent to one call at a time.
    struct Slot: Sendable {
        let connection: PostgresConnection
        fileprivate let holder: CheckedContinuation<Void, Never>
        fileprivate var idleSince: ContinuousClock.Instant
    }

    /// The acquire deadline passed before a connection came.
    struct Expired: Error {}

    /// The shelf stopped (the pool shuts down).
    struct Stopped: Error {}

    private struct State {
        var idle: [Slot] = []
        var waiters: [Ticket] = []
        /// Holders started and not yet finished: leasing, holding an idle connection, or lending one.
        var holders = 0
        var stopped = false
    }

    let capacity: Int
    let idleLimit: Duration
    private let state = Mutex(State())
    private let holderRequests: AsyncStream<Void>
    private let requestHolder: AsyncStream<Void>.Continuation

    init(capacity: Int, idleLimit: Duration = .seconds(10)) {
        self.capacity = max(1, capacity)
        self.idleLimit = idleLimit
        (holderRequests, requestHolder) = AsyncStream.makeStream(bufferingPolicy: .unbounded)
    }

    /// Runs the holders until cancelled, then gives every connection back. `lease` leases a connection from the pool
    /// and calls its argument with it, keeping the lease until that returns.
    func run(lease: @escaping @Sendable (_ hold: (PostgresConnection) async -> Void) async throws -> Void) async {
        await withTaskCancellationHandler {
            await withDiscardingTaskGroup { group in
                group.addTask { await self.retireIdle() }
                for await _ in holderRequests {
                    group.addTask { await self.hold(lease) }
                }
            }
        } onCancel: {
            stop()
        }
    }

    /// Takes a connection: an idle one at once, else the next one given back or leased, within `acquire`.
    func take(within acquire: Duration, timerLoop: any EventLoop, metrics: DatabaseMetrics?) async throws -> Slot {
        let (slot, closed) = state.withLock { state in Self.popOpen(&state) }
        for stale in closed { stale.holder.resume() }
        if let slot { return slot }

        let ticket = Ticket()
        let (ready, stale, startHolder, stopped) = state.withLock { state -> (Slot?, [Slot], Bool, Bool) in
            if state.stopped { return (nil, [], false, true) }
            let (slot, closed) = Self.popOpen(&state)
            if let slot { return (slot, closed, false, false) }
            if state.waiters.count >= 4 * capacity { state.waiters.removeAll(where: \.isResolved) }
            state.waiters.append(ticket)
            guard state.holders < capacity else { return (nil, closed, false, false) }
            state.holders += 1
            return (nil, closed, true, false)
        }
        for slot in stale { slot.holder.resume() }
        if stopped { throw Stopped() }
        if let ready { return ready }
        if startHolder { requestHolder.yield() }

        let timer = DeadlineTimer(after: acquire, on: timerLoop) { ticket.resolve(.failure(Expired())) }
        metrics?.leaseWaitStarted()
        defer {
            timer.cancel()
            metrics?.leaseWaitEnded()
        }
        return try await withTaskCancellationHandler {
            try await ticket.wait()
        } onCancel: {
            ticket.resolve(.failure(CancellationError()))
        }
    }

    /// Gives back a connection taken with `take`: to the next waiter or the shelf when `reusable` and still open,
    /// else to the pool (which notices a closed connection and replaces it).
    func giveBack(_ slot: Slot, reusable: Bool) {
        guard reusable, !slot.connection.isClosed else {
            slot.holder.resume()
            return
        }
        offer(slot)
    }

    // MARK: Holders

    private func hold(_ lease: @Sendable (_ hold: (PostgresConnection) async -> Void) async throws -> Void) async {
        do {
            try await lease { connection in
                if !connection.isClosed {
                    await withCheckedContinuation { holder in
                        offer(Slot(connection: connection, holder: holder, idleSince: .now))
                    }
                }
                // A closed connection goes back once the pool has seen it close (its close handler runs before ours):
                // given back earlier, the pool takes it for an idle one and lends it again, to the next call to fail.
                if connection.isClosed { try? await connection.closeFuture.get() }
            }
        } catch {
            // The pool is shutting down or failed the lease: wait a little, so that a failing pool is not asked again
            // in a tight loop by the callers waiting here.
            try? await Task.sleep(for: .milliseconds(100))
        }
        let replace = state.withLock { state -> Bool in
            state.holders -= 1
            guard !state.stopped, state.waiters.contains(where: { !$0.isResolved }), state.holders < capacity else { return false }
            state.holders += 1
            return true
        }
        if replace { requestHolder.yield() }
    }

    /// Hands `slot` to the first caller still waiting, or shelves it.
    private func offer(_ slot: Slot) {
        var slot = slot
        let giveUp = state.withLock { state -> Bool in
            if state.stopped { return true }
            while !state.waiters.isEmpty {
                if state.waiters.removeFirst().resolve(.success(slot)) { return false }
            }
            slot.idleSince = .now
            state.idle.append(slot)
            return false
        }
        if giveUp { slot.holder.resume() }
    }

    /// Every second, gives back to the pool the connections nobody took for `idleLimit`.
    private func retireIdle() async {
        while (try? await Task.sleep(for: .seconds(1))) != nil {
            let cutoff = ContinuousClock.now - idleLimit
            let retired = state.withLock { state -> [Slot] in
                // Connections are shelved at the end and taken from there: the ones idle longest are at the front.
                let count = state.idle.prefix(while: { $0.idleSince < cutoff }).count
                defer { state.idle.removeFirst(count) }
                return Array(state.idle.prefix(count))
            }
            for slot in retired { slot.holder.resume() }
        }
    }

    private func stop() {
        let (idle, waiters) = state.withLock { state -> ([Slot], [Ticket]) in
            state.stopped = true
            defer {
                state.idle = []
                state.waiters = []
            }
            return (state.idle, state.waiters)
        }
        requestHolder.finish()
        for slot in idle { slot.holder.resume() }
        for ticket in waiters { ticket.resolve(.failure(Stopped())) }
    }

    /// The open connection shelved last, and the closed ones found after it (to give back to the pool). The most
    /// recent one keeps the calls on few server backends, whose caches stay warm, and leaves the others idle at the
    /// front of the shelf until `retireIdle` gives them back (`bench api` 4 % and `bench fanout` about 10 % faster
    /// than taking them in turn). The queue machinery's calls, which that put on one event loop, no longer come here.
    private static func popOpen(_ state: inout State) -> (Slot?, [Slot]) {
        var closed: [Slot] = []
        while !state.idle.isEmpty {
            let slot = state.idle.removeLast()
            if slot.connection.isClosed {
                closed.append(slot)
                continue
            }
            return (slot, closed)
        }
        return (nil, closed)
    }
}

/// One caller's wait for a shelved connection: resolved once, by a connection, the deadline or a cancellation,
/// whichever comes first, before or after the caller starts waiting.
private final class Ticket: Sendable {
    private struct State {
        var outcome: Result<ConnectionShelf.Slot, any Error>?
        var waiter: CheckedContinuation<ConnectionShelf.Slot, any Error>?
    }

    private let state = Mutex(State())

    var isResolved: Bool { state.withLock { $0.outcome != nil } }

    /// Whether this call resolved the ticket (a connection offered to a resolved ticket must go elsewhere).
    @discardableResult
    func resolve(_ outcome: Result<ConnectionShelf.Slot, any Error>) -> Bool {
        let (accepted, waiter) = state.withLock { state -> (Bool, CheckedContinuation<ConnectionShelf.Slot, any Error>?) in
            guard state.outcome == nil else { return (false, nil) }
            state.outcome = outcome
            defer { state.waiter = nil }
            return (true, state.waiter)
        }
        waiter?.resume(with: outcome)
        return accepted
    }

    func wait() async throws -> ConnectionShelf.Slot {
        try await withCheckedThrowingContinuation { waiter in
            let outcome = state.withLock { state -> Result<ConnectionShelf.Slot, any Error>? in
                if let outcome = state.outcome { return outcome }
                state.waiter = waiter
                return nil
            }
            if let outcome { waiter.resume(with: outcome) }
        }
    }
}
