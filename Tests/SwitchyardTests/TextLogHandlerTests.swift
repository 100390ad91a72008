import Logging
import SwitchyardCore
import Synchronization
import Testing

@Suite("Text log lines")
struct TextLogHandlerTests {
    /// The lines a handler wrote.
    final class Lines: Sendable {
        private let lines = Mutex<[String]>([])
        var all: [String] { lines.withLock { $0 } }
        func append(_ line: String) { lines.withLock { $0.append(line) } }
    }

    @Test("a line holds the level, the label, the metadata in key order (the logger's and the call's), the source and the message")
    func layout() throws {
        let lines = Lines()
        var logger = Logger(label: "switchyard.test") { label in TextLogHandler(label: label, write: lines.append) }
        logger[metadataKey: "tenant_id"] = "t-1"
        logger[metadataKey: "request_id"] = "r-1"
        logger[metadataKey: "request_id"] = "r-2"
        logger.info("hello", metadata: ["attempt": "3"])
        logger.debug("below the level")

        let line = try #require(lines.all.only)
        #expect(line.hasSuffix(" info switchyard.test: attempt=3 request_id=r-2 tenant_id=t-1 [SwitchyardTests] hello\n"))
        // Local time first, as swift-log's StreamLogHandler writes it: 2026-12-06T06:21:57+0000.
        let timestamp = try #require(line.split(separator: " ").first)
        #expect(timestamp.count == 24 && timestamp.dropFirst(10).first == "T")
    }

    @Test("metadata set on a copy of a logger stays off the original's lines")
    func copiesAreIndependent() throws {
        let lines = Lines()
        let base = Logger(label: "switchyard.test") { label in TextLogHandler(label: label, write: lines.append) }
        var perRequest = base
        perRequest[metadataKey: "request_id"] = "r-1"
        base.info("plain")
        perRequest.info("tagged")
        #expect(lines.all.count == 2)
        #expect(lines.all.first?.contains("request_id") == false)
        #expect(lines.all.last?.contains(": request_id=r-1 [") == true)
    }
}

extension Array {
    fileprivate var only: Element? { count == 1 ? first : nil }
}
