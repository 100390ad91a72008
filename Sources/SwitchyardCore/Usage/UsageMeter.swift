import Foundation
import Synchronization

/// What a tenant's usage is counted in (`GET /v1/metrics/usage`), and what each metric's dimension holds.
public enum UsageMetric: String, Sendable, CaseIterable, Codable {
    /// Authenticated API requests; dimension: the status class (`2xx`, `4xx`, `5xx`).
    case apiRequests = "api.requests"
    /// Webhooks verified and recorded; dimension: the source's provider.
    case webhooksReceived = "webhooks.received"
    /// Webhooks refused (bad signature, stale timestamp, too large, ...); dimension: the reason.
    case webhooksRejected = "webhooks.rejected"
    /// Finished job attempts; dimension: the outcome (`succeeded`, `retry`, `dead`, ...).
    case jobs
    /// Calls to providers through the proxy; dimension: `provider/status class` (`github/2xx`).
    case proxyCalls = "proxy.calls"
    /// Records a sync wrote (added, updated or deleted); dimension: the model.
    case syncRecords = "sync.records"
    /// Delivery attempts to destinations; dimension: the outcome (`delivered`, `failed`, `dead`).
    case deliveries
    /// Workflow runs that finished; dimension: the outcome (`succeeded`, `failed`, `cancelled`).
    case workflowRuns = "workflow.runs"
}

/// One counter's increment for one tenant and one hour.
public struct UsageCount: Sendable, Hashable {
    public var tenantID: TenantID
    /// The start of the hour (UTC) the count belongs to.
    public var bucket: Date
    public var metric: UsageMetric
    public var dimension: String
    public var value: Int64

    public init(tenantID: TenantID, bucket: Date, metric: UsageMetric, dimension: String, value: Int64) {
        self.tenantID = tenantID
        self.bucket = bucket
        self.metric = metric
        self.dimension = dimension
        self.value = value
    }
}

/// Counts usage in memory, per tenant, hour, metric and dimension, until a flusher takes the counts to the database.
///
/// Recording is a dictionary increment under a lock: cheap enough for the hot paths (webhook ingest, every API
/// request), and the database sees one row per counter per flush rather than one per event.
public final class UsageMeter: Sendable {
    private struct Key: Hashable {
        let tenantID: TenantID
        let hour: Int64
        let metric: UsageMetric
        let dimension: String
    }

    /// The longest dimension kept; longer ones are cut (a provider id is at most 64 characters).
    public static let maxDimensionLength = 200
    private let counts = Mutex<[Key: Int64]>([:])
    private let now: @Sendable () -> Date

    public init(now: @escaping @Sendable () -> Date = { Date() }) {
        self.now = now
    }

    /// Adds `count` to `metric` of `tenant` in the current hour.
    public func record(_ metric: UsageMetric, tenant: TenantID, dimension: String = "", count: Int = 1) {
        guard count > 0 else { return }
        let hour = Int64((now().timeIntervalSince1970 / 3600).rounded(.down))
        let dimension = dimension.count > Self.maxDimensionLength ? String(dimension.prefix(Self.maxDimensionLength)) : dimension
        let key = Key(tenantID: tenant, hour: hour, metric: metric, dimension: dimension)
        counts.withLock { $0[key, default: 0] += Int64(count) }
    }

    /// Takes every count recorded so far.
    public func drain() -> [UsageCount] {
        let taken = counts.withLock { counts in
            defer { counts.removeAll(keepingCapacity: true) }
            return counts
        }
        return taken.map { key, value in
            UsageCount(
                tenantID: key.tenantID,
                bucket: Date(timeIntervalSince1970: TimeInterval(key.hour * 3600)),
                metric: key.metric,
                dimension: key.dimension,
                value: value
            )
        }
    }

    /// Puts back counts a flush could not write, so that they go with the next one.
    public func restore(_ taken: [UsageCount]) {
        counts.withLock { counts in
            for count in taken {
                let key = Key(
                    tenantID: count.tenantID,
                    hour: Int64(count.bucket.timeIntervalSince1970 / 3600),
                    metric: count.metric,
                    dimension: count.dimension
                )
                counts[key, default: 0] += count.value
            }
        }
    }
}
