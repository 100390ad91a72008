import Logging

/// The log lines of one outbound request. Each carries the request's provider, method, host, path and query (as
/// `LogSafeURL` makes them safe) and its attempt, added when the line is written: setting them on the logger up front
/// cost every request (deliveries run by the thousand a second) whether it logged anything or not.
struct OutboundRequestLog {
    let logger: Logger
    let request: OutboundRequest
    var attempt = 0

    func debug(_ message: @autoclosure () -> Logger.Message, metadata: @autoclosure () -> Logger.Metadata = [:]) {
        log(.debug, message(), metadata())
    }

    func info(_ message: @autoclosure () -> Logger.Message, metadata: @autoclosure () -> Logger.Metadata = [:]) {
        log(.info, message(), metadata())
    }

    func warning(_ message: @autoclosure () -> Logger.Message, metadata: @autoclosure () -> Logger.Metadata = [:]) {
        log(.warning, message(), metadata())
    }

    private func log(_ level: Logger.Level, _ message: @autoclosure () -> Logger.Message, _ metadata: @autoclosure () -> Logger.Metadata) {
        guard logger.logLevel <= level else { return }
        let url = LogSafeURL(request.url)
        var all: Logger.Metadata = [
            "outbound_provider": "\(request.provider)",
            "outbound_method": "\(request.method.rawValue)",
            "outbound_host": "\(url.host)",
            "outbound_path": "\(url.path)",
        ]
        if let query = url.query { all["outbound_query"] = "\(query)" }
        if attempt > 0 { all["outbound_attempt"] = "\(attempt)" }
        all.merge(metadata()) { _, line in line }
        logger.log(level: level, message(), metadata: all)
    }
}
