import Logging
import Synchronization

/// Collects every line logged through the loggers it makes, rendered with all metadata, so tests can
/// check that no secret is ever logged.
public final class LogCapture: Sendable {
    private let storage = Mutex<[String]>([])

    public init() {}

    public var lines: [String] { storage.withLock { $0 } }

    public func logger(label: String = "switchyard.tests") -> Logger {
        var logger = Logger(label: label) { _ in Handler(capture: self) }
        logger.logLevel = .trace
        return logger
    }

    fileprivate func append(_ line: String) {
        storage.withLock { $0.append(line) }
    }

    struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var metadataProvider: Logger.MetadataProvider?
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { $1 }
            let rendered = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            capture.append("\(event.level) \(event.message) \(rendered) \(event.error.map { "\($0)" } ?? "")")
        }
    }
}
