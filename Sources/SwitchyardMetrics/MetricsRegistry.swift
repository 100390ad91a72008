import Prometheus

/// The process's Prometheus registry and the metric families Switchyard defines.
///
/// Every family is created here, with help text, because `promtool check metrics` rejects
/// families without `# HELP`. Components receive the typed groups they record into.
public final class MetricsRegistry: Sendable {
    public let registry: PrometheusCollectorRegistry
    public let http: HTTPMetrics
    public let database: DatabaseMetrics
    public let outbound: OutboundMetrics
    public let jobs: JobMetrics
    public let webhooks: WebhookMetrics
    public let deliveries: DeliveryMetrics
    public let workflows: WorkflowMetrics
    public let rateLimits: RateLimitMetrics

    public init(version: String) {
        let registry = PrometheusCollectorRegistry()
        self.registry = registry
        self.http = HTTPMetrics(registry: registry)
        self.database = DatabaseMetrics(registry: registry)
        self.outbound = OutboundMetrics(registry: registry)
        self.jobs = JobMetrics(registry: registry)
        self.webhooks = WebhookMetrics(registry: registry)
        self.deliveries = DeliveryMetrics(registry: registry)
        self.workflows = WorkflowMetrics(registry: registry)
        self.rateLimits = RateLimitMetrics(registry: registry)
        registry.makeGauge(
            descriptor: .switchyard("build", unit: "info", help: "Build information; the value is always 1."),
            labels: [("version", version), ("swift", Self.swiftVersion)]
        ).set(to: 1.0)
    }

    /// The exposition text (format 0.0.4) of every family.
    public func render() -> [UInt8] {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(16 * 1024)
        registry.emit(into: &buffer)
        return buffer
    }

    private static var swiftVersion: String {
        #if compiler(>=6.3)
        "6.3"
        #elseif compiler(>=6.2)
        "6.2"
        #else
        "6.1"
        #endif
    }
}

extension MetricNameDescriptor {
    static func switchyard(_ name: String, unit: String, help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "switchyard", metricName: name, unitName: unit, helpText: help)
    }
}
