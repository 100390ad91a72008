import Synchronization

/// The metric for `key` in `cache`, created with `make` on first use (each labelled series is registered once).
func cachedMetric<Key: Hashable & Sendable, Metric: Sendable>(
    _ cache: borrowing Mutex<[Key: Metric]>,
    _ key: Key,
    _ make: () -> Metric
) -> Metric {
    cache.withLock { cache in
        if let existing = cache[key] { return existing }
        let created = make()
        cache[key] = created
        return created
    }
}
