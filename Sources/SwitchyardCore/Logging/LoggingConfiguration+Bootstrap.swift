import Logging

extension LoggingConfiguration {
    /// Installs the process-wide log handler. Call once, first thing in a command.
    public func bootstrap() {
        let level = self.level
        switch format {
        case .json:
            LoggingSystem.bootstrap { label in
                var handler = JSONLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
        case .text:
            LoggingSystem.bootstrap { label in
                var handler = TextLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
        }
    }
}
