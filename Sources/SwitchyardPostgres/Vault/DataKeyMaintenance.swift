import Logging
import ServiceLifecycle

/// Re-seals secrets of retiring data keys in the background, so a rotated key (on demand or at its
/// encryption budget) is deleted soon after. Several processes may run it at once: rows are claimed
/// with `SKIP LOCKED`.
public struct DataKeyMaintenance: Service {
    let database: Database
    let interval: Duration
    let logger: Logger

    public init(database: Database, interval: Duration = .seconds(60), logger: Logger) {
        self.database = database
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                while true {
                    await pass()
                    try await Task.sleep(for: interval)
                }
            }
        } catch is CancellationError {
            // Graceful shutdown.
        }
    }

    func pass() async {
        do {
            let progress = try await database.resealRetiringDataKeys(logger: logger)
            if progress.done > 0 || progress.remaining > 0 {
                logger.info(
                    "re-sealed secrets of retiring data keys",
                    metadata: ["resealed": "\(progress.done)", "remaining": "\(progress.remaining)"]
                )
            }
        } catch {
            logger.error("re-sealing failed; will retry", metadata: ["error": "\(loggableDescription(of: error))"])
        }
    }
}
