import Foundation
import Logging
import ServiceLifecycle
import SwitchyardCore

/// Takes the process's usage counts to `usage_counters` every `interval`, in one statement, and once more at
/// shutdown; once an hour it also deletes counters older than the retention.
///
/// A flush that fails (the database restarting) puts its counts back into the meter, so they go with the next one:
/// usage is late, not lost, unless the process dies meanwhile.
public struct UsageFlusher: Service {
    let database: Database
    let meter: UsageMeter
    let interval: Duration
    let retention: Duration
    let logger: Logger

    public init(database: Database, meter: UsageMeter, interval: Duration, retention: Duration, logger: Logger) {
        self.database = database
        self.meter = meter
        self.interval = interval
        self.retention = retention
        self.logger = logger
    }

    public init(database: Database, meter: UsageMeter, settings: UsageSettings, logger: Logger) {
        self.init(
            database: database,
            meter: meter,
            interval: .milliseconds(settings.flushIntervalMilliseconds),
            retention: .seconds(Int64(settings.retentionDays) * 86_400),
            logger: logger
        )
    }

    public func run() async throws {
        var lastPrune: ContinuousClock.Instant?
        while !Task.isShuttingDownGracefully {
            if (try? await cancelWhenGracefulShutdown({ try await Task.sleep(for: interval) })) == nil, Task.isCancelled {
                break
            }
            await flush()
            if lastPrune.map({ ContinuousClock.now - $0 >= .seconds(3600) }) ?? true {
                lastPrune = ContinuousClock.now
                await prune()
            }
        }
        // What was counted since the last flush.
        await flush()
    }

    /// Writes what the meter holds; on failure puts it back. Returns how many counters were written.
    @discardableResult
    public func flush() async -> Int {
        let counts = meter.drain()
        guard !counts.isEmpty else { return 0 }
        do {
            try await database.withUsageWriter(logger: logger) { try await $0.add(counts) }
            return counts.count
        } catch {
            meter.restore(counts)
            logger.warning(
                "writing usage counts failed; they go with the next flush",
                metadata: ["error": "\(loggableDescription(of: error))", "counters": "\(counts.count)"]
            )
            return 0
        }
    }

    func prune() async {
        do {
            let cutoff = Date().addingTimeInterval(-retention.inSeconds)
            let pruned = try await database.withUsageWriter(logger: logger) { try await $0.prune(before: cutoff) }
            if pruned > 0 { logger.info("pruned usage counters past retention", metadata: ["counters": "\(pruned)"]) }
        } catch {
            logger.warning("pruning usage counters failed", metadata: ["error": "\(loggableDescription(of: error))"])
        }
    }
}
