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
    /// How long before an entry expires a read of it starts its rebuild in the background and is still answered from it
    /// (`nil`: never): a key read steadily then never waits for a rebuild, while no entry is served past its time to live.
    public let refreshAhead: Duration?
    public let capacity: Int
    private let entries = Mutex<[Key: Entry]>([:])
    /// The builds in progress (`value(for:building:)`), one per key. Lock order: `builds`, then `entries`.
    private let builds = Mutex(Builds())

    private struct Builds {
        var running: [Key: Build] = [:]
        var started: UInt64 = 0
    }

    /// A build in progress; `generation` tells it from a later build of the same key after a `remove`.
    private struct Build {
        let generation: UInt64
        let task: Task<Value, any Error>
    }

    public init(timeToLive: Duration?, refreshAhead: Duration? = nil, capacity: Int) {
        self.timeToLive = timeToLive
        self.refreshAhead = refreshAhead
        self.capacity = max(1, capacity)
    }

    /// The value stored for `key`, unless it is missing or expired at `now`.
    public func value(for key: Key, now: @autoclosure () -> ContinuousClock.Instant = .now) -> Value? {
        guard let entry = entries.withLock({ $0[key] }), !isExpired(entry, at: now()) else { return nil }
        return entry.value
    }

    /// The value for `key`, built by `build` and stored when it is missing or expired. Callers that miss the same key
    /// while it is being built wait for that one build and share its value or its error: when an entry of a busy key
    /// expires, hundreds of concurrent callers would otherwise each build it (`bench fanout` read each destination
    /// about 60 times a second with a 2 s time to live, instead of once every 2 s). Within `refreshAhead` of its
    /// expiry, an entry is returned and its rebuild starts in the background (one at a time); a rebuild that fails
    /// leaves the entry to expire.
    public func value(
        for key: Key,
        now: ContinuousClock.Instant = .now,
        building build: @escaping @Sendable () async throws -> Value
    ) async throws -> Value {
        if let entry = entries.withLock({ $0[key] }), !isExpired(entry, at: now) {
            if isDueForRefresh(entry, at: now) {
                _ = startOrJoinBuild(of: key, build, unlessStored: { !isDueForRefresh($0, at: now) })
            }
            return entry.value
        }
        switch startOrJoinBuild(of: key, build, unlessStored: { !isExpired($0, at: now) }) {
        case .stored(let value): return value
        case .building(let build): return try await build.value
        }
    }

    private func isExpired(_ entry: Entry, at now: ContinuousClock.Instant) -> Bool {
        guard let timeToLive else { return false }
        return now - entry.storedAt >= timeToLive
    }

    private func isDueForRefresh(_ entry: Entry, at now: ContinuousClock.Instant) -> Bool {
        guard let timeToLive, let refreshAhead else { return false }
        return now - entry.storedAt >= timeToLive - refreshAhead
    }

    /// The build of `key` in progress, or a new one, unless an entry that `isCurrent` was stored meanwhile (a build
    /// ends by storing its value, then leaving `builds`: one that ended since the caller looked stored it).
    private func startOrJoinBuild(
        of key: Key,
        _ build: @escaping @Sendable () async throws -> Value,
        unlessStored isCurrent: (Entry) -> Bool
    ) -> Found {
        builds.withLock { builds -> Found in
            if let running = builds.running[key] { return .building(running.task) }
            if let stored = entries.withLock({ $0[key] }), isCurrent(stored) { return .stored(stored.value) }
            builds.started += 1
            let generation = builds.started
            let started = Task {
                let now = ContinuousClock.now
                do {
                    let value = try await build()
                    self.finish(key, generation: generation) { self.store(value, for: key, now: now) }
                    return value
                } catch {
                    self.finish(key, generation: generation) {}
                    throw error
                }
            }
            builds.running[key] = Build(generation: generation, task: started)
            return .building(started)
        }
    }

    /// Ends build `generation` of `key`: runs `store` and leaves `builds` unless a `remove` dropped the build while it
    /// ran (it read what the removal is about, say an API key being revoked: its callers get its value, the cache does
    /// not keep it).
    private func finish(_ key: Key, generation: UInt64, store: () -> Void) {
        builds.withLock { builds in
            guard builds.running[key]?.generation == generation else { return }
            store()
            builds.running.removeValue(forKey: key)
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

    /// Forgets `key`, and a build of it in progress will not be stored: the next reader rebuilds it.
    public func remove(_ key: Key) {
        builds.withLock { builds in
            builds.running.removeValue(forKey: key)
            _ = entries.withLock { $0.removeValue(forKey: key) }
        }
    }

    /// Forgets every entry whose value `matches`, and every build in progress (whose value is not known yet).
    public func removeAll(where matches: (Value) -> Bool) {
        builds.withLock { builds in
            builds.running.removeAll()
            entries.withLock { entries in entries = entries.filter { !matches($0.value.value) } }
        }
    }

    public var count: Int { entries.withLock { $0.count } }
}
