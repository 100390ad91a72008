import Prometheus
import Synchronization

/// Request count, latency and concurrency of the HTTP API, labelled by route template
/// (never the raw path, whose ids would explode the label space) and status class.
public final class HTTPMetrics: Sendable {
    private struct SeriesKey: Hashable {
        let route: String
        let method: String
        let statusClass: String
    }

    private struct Series {
        let requests: Counter
        let duration: DurationHistogram
    }

    /// Requests being handled right now.
    public let inFlight: Gauge
    private let registry: PrometheusCollectorRegistry
    private let series = Mutex<[SeriesKey: Series]>([:])

    static let buckets: [Duration] = [
        .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
        .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
    ]

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        self.inFlight = registry.makeGauge(
            descriptor: .switchyard("http_requests_in_flight", unit: "", help: "HTTP requests currently being handled.")
        )
    }

    /// Records one finished request. `route` is the matched template, e.g. `/v1/api-keys/{key_id}`.
    public func record(route: String, method: String, status: Int, duration: Duration) {
        let key = SeriesKey(route: route, method: method, statusClass: "\(status / 100)xx")
        let series = self.series.withLock { cache in
            if let existing = cache[key] { return existing }
            let labels = [("route", key.route), ("method", key.method), ("status_class", key.statusClass)]
            let created = Series(
                requests: registry.makeCounter(
                    descriptor: .switchyard(
                        "http_requests",
                        unit: "total",
                        help: "HTTP requests handled, by route template, method and status class."
                    ),
                    labels: labels
                ),
                duration: registry.makeDurationHistogram(
                    descriptor: .switchyard(
                        "http_request_duration",
                        unit: "seconds",
                        help: "Time from request head to response head, by route template, method and status class."
                    ),
                    labels: labels,
                    buckets: Self.buckets
                )
            )
            cache[key] = created
            return created
        }
        series.requests.increment()
        series.duration.record(duration)
    }
}

/// Connection pool usage: how many connections are leased for transactions, how many callers wait for one, the
/// pool's cap, and the deadlines that fired (REQUIREMENTS RL-8).
public final class DatabaseMetrics: Sendable {
    let inUse: Gauge
    let maxConnections: Gauge
    let waiting: Gauge
    let acquireTimeouts: Counter
    let callTimeouts: Counter
    let reachable: Gauge
    private let registry: PrometheusCollectorRegistry

    public func connectionLeased() { inUse.increment() }
    public func connectionReturned() { inUse.decrement() }
    public func setPoolSize(_ size: Int) { maxConnections.set(to: Double(size)) }
    public func leaseWaitStarted() { waiting.increment() }
    public func leaseWaitEnded() { waiting.decrement() }
    public func acquireTimedOut() { acquireTimeouts.increment() }
    public func callTimedOut() { callTimeouts.increment() }
    /// The outcome of the probe's database check, made at every `/readyz` and every scrape of `/metrics`.
    public func setReachable(_ isReachable: Bool) { reachable.set(to: isReachable ? 1 : 0) }

    /// A stored secret that did not open (tampered with or copied), by sealed field (`table.column`: a fixed set).
    public func secretUnreadable(field: String) {
        registry.makeCounter(
            descriptor: .switchyard(
                "secrets_unreadable",
                unit: "total",
                help: "Stored secrets that failed to open (altered, or copied from another record), by sealed field."
            ),
            labels: [("field", field)]
        ).increment()
    }

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        self.waiting = registry.makeGauge(
            descriptor: .switchyard("db_pool_waiters", unit: "", help: "Database calls waiting for a pooled connection.")
        )
        self.acquireTimeouts = registry.makeCounter(
            descriptor: .switchyard(
                "db_acquire_timeouts",
                unit: "total",
                help: "Database calls that gave up waiting for a connection (the database was unreachable or the pool exhausted)."
            )
        )
        self.callTimeouts = registry.makeCounter(
            descriptor: .switchyard(
                "db_call_timeouts",
                unit: "total",
                help: "Database calls whose connection was closed because they ran past their deadline."
            )
        )
        self.inUse = registry.makeGauge(
            descriptor: .switchyard("db_pool_connections_in_use", unit: "", help: "Database connections currently leased from the pool.")
        )
        self.maxConnections = registry.makeGauge(
            descriptor: .switchyard("db_pool_connections_max", unit: "", help: "Maximum size of the database connection pool.")
        )
        self.reachable = registry.makeGauge(
            descriptor: .switchyard(
                "database_up",
                unit: "",
                help:
                    "1 when this process's last database check (made at every scrape of /metrics and every /readyz) answered within a second, else 0 (the database unreachable, or no pooled connection free)."
            )
        )
    }
}
