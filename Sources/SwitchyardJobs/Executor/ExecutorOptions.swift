import Foundation
import SwitchyardCore

/// How one executor process claims and runs jobs (from `JobsSettings`).
public struct ExecutorOptions: Sendable {
    public var concurrency: Int
    public var tenantConcurrency: Int
    public var claimBatch: Int
    public var lease: Duration
    /// A handler running longer is abandoned (its lease lapses); see `JobsSettings.runTimeoutMilliseconds`.
    public var runTimeout: Duration
    public var pollInterval: Duration
    public var pollOnly: Bool
    public var shutdownTimeout: Duration
    public var retry: JobRetryPolicy
    /// Written into `lease_owner`: host, process id and a random suffix, so two executors never share one.
    public var owner: String

    public init(_ settings: JobsSettings) {
        concurrency = settings.executorConcurrency
        tenantConcurrency = settings.tenantConcurrency
        claimBatch = settings.claimBatch
        lease = .milliseconds(settings.leaseMilliseconds)
        runTimeout = .milliseconds(settings.runTimeoutMilliseconds)
        pollInterval = .milliseconds(settings.pollIntervalMilliseconds)
        pollOnly = settings.pollOnly
        shutdownTimeout = .milliseconds(settings.shutdownTimeoutMilliseconds)
        retry = JobRetryPolicy(settings)
        owner = "\(ProcessInfo.processInfo.hostName.prefix(60)):\(ProcessInfo.processInfo.processIdentifier):\(UInt32.random(in: 0...UInt32.max))"
    }
}
