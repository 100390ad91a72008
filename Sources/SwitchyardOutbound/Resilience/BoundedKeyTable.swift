/// Per-key state with a cap on the number of keys, so that many integrations cannot grow memory without bound.
///
/// When the cap is passed, the least recently used tenth of the entries that are idle (`canEvict`) is
/// dropped in one sweep, which keeps the cost amortised O(1) per insert. An evicted key starts afresh,
/// which errs on the permissive side (a forgotten breaker is closed, a forgotten quota is re-learned).
struct BoundedKeyTable<Value> {
    private struct Entry {
        var value: Value
        var lastUsed: ContinuousClock.Instant
    }

    private var entries: [String: Entry] = [:]
    let capacity: Int

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    var count: Int { entries.count }

    func peek(_ key: String) -> Value? {
        entries[key]?.value
    }

    /// Runs `body` on the value for `key`, creating it with `make` if absent, and marks it used at `now`.
    mutating func update<Result>(
        _ key: String,
        now: ContinuousClock.Instant,
        make: () -> Value,
        canEvict: (Value) -> Bool,
        onEvict: (Value) -> Void = { _ in },
        _ body: (inout Value) -> Result
    ) -> Result {
        if entries[key] == nil {
            if entries.count >= capacity {
                evict(canEvict: canEvict, onEvict: onEvict)
            }
            entries[key] = Entry(value: make(), lastUsed: now)
        }
        entries[key]!.lastUsed = now
        return body(&entries[key]!.value)
    }

    /// Changes the value for `key` if it exists, without marking it used.
    mutating func modifyIfPresent<Result>(_ key: String, _ body: (inout Value) -> Result) -> Result? {
        guard entries[key] != nil else { return nil }
        return body(&entries[key]!.value)
    }

    private mutating func evict(canEvict: (Value) -> Bool, onEvict: (Value) -> Void) {
        let target = max(1, capacity / 10)
        let victims = entries.filter { canEvict($0.value.value) }
            .sorted { $0.value.lastUsed < $1.value.lastUsed }
            .prefix(target)
        for (key, entry) in victims {
            entries.removeValue(forKey: key)
            onEvict(entry.value)
        }
        // When every entry is busy the table grows past the cap: busy entries are bounded by concurrency.
    }
}
