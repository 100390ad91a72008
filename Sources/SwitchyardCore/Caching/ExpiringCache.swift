import Synchronization

/// A small, bounded table of values that are cheap to rebuild but costly to rebuild per request (a destination's
/// opened secrets, a checked URL), shared by the tasks of a process.
///
/// An entry is served for `timeToLive` after it was stored (for ever when `nil`). Past `capacity` entries the whole
/// table starts over, which costs one rebuild per key still in use: simpler and cheaper than tracking recency for
/// tables whose working set is far below their capacity.
public final class ExpiringCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private struct Entry {
        let value: Value
        let storedAt: ContinuousClock.Instant
    }

    public let timeToLive: Duration?
    public let capacity: Int
    private let entries = Mutex<[Key: Entry]>([:])
    /// The builds in progress (`value(for:building:)`), one per key.
    private let builds = Mutex<[Key: Task<Value, any Error>]>([:])

    public init(timeToLive: Duration?, capacity: Int) {
        self.timeToLive = timeToLive
        self.capacity = max(1, capacity)
    }

    /// The value stored for `key`, unless it is missing or expired at `now`.
    public func value(for key: Key, now: @autoclosure () -> ContinuousClock.Instant = .now) -> Value? {
        guard let entry = entries.withLock({ $0[key] }) else { return nil }
        if let timeToLive, now() - entry.storedAt >= timeToLive { return nil }
        return entry.value
    }

    /// The value for `key`, built by `build` and stored when it is missing or expired. Callers that miss the same key
    /// while it is being built wait for that one build and share its value or its error: when an entry of a busy key
    /// expires, hundreds of concurrent callers would otherwise each build it (`bench fanout` read each destination
    /// about 60 times a second with a 2 s time to live, instead of once every 2 s).
    public func value(for key: Key, building build: @escaping @Sendable () async throws -> Value) async throws -> Value {
        if let value = value(for: key) { return value }
        let found = builds.withLock { builds -> Found in
            if let running = builds[key] { return .building(running) }
            // A build ends by storing its value, then leaving `builds`: one that ended since the check above stored it.
            if let stored = value(for: key) { return .stored(stored) }
            let started = Task {
                defer { _ = self.builds.withLock { $0.removeValue(forKey: key) } }
                let now = ContinuousClock.now
                let value = try await build()
                self.store(value, for: key, now: now)
                return value
            }
            builds[key] = started
            return .building(started)
        }
        switch found {
        case .stored(let value): return value
        case .building(let build): return try await build.value
        }
    }

    private enum Found {
        case stored(Value)
        case building(Task<Value, any Error>)
    }

    /// Stores `value` for `key`, as of `now`.
    public func store(_ value: Value, for key: Key, now: ContinuousClock.Instant = .now) {
        entries.withLock { entries in
            if entries[key] == nil, entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[key] = Entry(value: value, storedAt: now)
        }
    }

    /// Forgets `key`: the next reader rebuilds it.
    public func remove(_ key: Key) {
        _ = entries.withLock { $0.removeValue(forKey: key) }
    }

    /// Forgets every entry whose value `matches`.
    public func removeAll(where matches: (Value) -> Bool) {
        entries.withLock { entries in entries = entries.filter { !matches($0.value.value) } }
    }

    public var count: Int { entries.withLock { $0.count } }
}
