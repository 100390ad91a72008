import Foundation
import NIOCore

/// `bench ingest --wrk`: the same server, source and signed body under Debian's `wrk` (closed loop, a process of its
/// own), to check the generator's figures against a tool that shares none of its code.
struct WrkCrossCheck: Sendable {
    let target: IngestTarget
    let connections: Int

    /// What wrk measured: its own summary lines and its rate.
    struct Run: Sendable, CustomStringConvertible {
        let label: String
        let rate: Double
        let summary: [String]

        var description: String {
            "\(label): \(Int(rate.rounded())) events/s acknowledged; " + summary.joined(separator: "; ")
        }
    }

    /// Runs wrk for `seconds` with `connections` connections, each sending its next delivery as soon as the last is
    /// answered (closed loop, like the peak phase: its latency counts from each actual send).
    func run(label: String, seconds: Int, prefix: String) async throws -> Run {
        let directory = FileManager.default.temporaryDirectory.appending(path: "switchyard-wrk-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let script = directory.appending(path: "ingest.lua")
        try Self.script(body: String(buffer: target.body), signature: target.signature, prefix: prefix)
            .write(to: script, atomically: true, encoding: .utf8)
        // wrk writes to a file and its exit is awaited, so no thread of the server's (it runs in this process) blocks.
        let outputURL = directory.appending(path: "wrk.out")
        let output = try FileHandle.newFile(forWritingAt: outputURL)
        defer { try? output.close() }
        let process = Process()
        process.executableURL = URL(filePath: "/usr/bin/env")
        process.arguments = [
            "wrk", "--latency", "-t", "2", "-c", "\(connections)", "-d", "\(seconds)s", "-s", script.path,
            "http://127.0.0.1:\(target.port)\(target.path)",
        ]
        process.standardOutput = output
        process.standardError = output
        try await withCheckedThrowingContinuation { (exited: CheckedContinuation<Void, any Error>) in
            process.terminationHandler = { _ in exited.resume() }
            do { try process.run() } catch { exited.resume(throwing: error) }
        }
        let text = (try? String(contentsOf: outputURL, encoding: .utf8)) ?? ""
        guard process.terminationStatus == 0 else { throw BenchmarkFailure("wrk failed (is it installed? apt-get install -y wrk): \(text)") }
        if let errors = text.split(separator: "\n").first(where: { $0.contains("Non-2xx") || $0.contains("Socket errors") }) {
            throw BenchmarkFailure("wrk saw failed deliveries: \(errors.trimmingCharacters(in: .whitespaces))")
        }
        let lines = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        let rate = lines.first { $0.hasPrefix("Requests/sec:") }.flatMap {
            Double($0.dropFirst("Requests/sec:".count).trimmingCharacters(in: .whitespaces))
        }
        guard let rate else { throw BenchmarkFailure("wrk printed no rate: \(text)") }
        let kept = lines.filter { line in ["50%", "90%", "99%", "Latency "].contains { line.hasPrefix($0) } }
        return Run(label: label, rate: rate, summary: kept)
    }

    /// A wrk script: the fixed body and signature, and an `X-GitHub-Delivery` unique across threads and requests
    /// (the platform answers a repeated one as a duplicate without storing it, which would measure something else).
    static func script(body: String, signature: String, prefix: String) -> String {
        """
        local threads = 0
        function setup(thread)
          threads = threads + 1
          thread:set("thread_number", threads)
        end
        local sent = 0
        wrk.method = "POST"
        wrk.body = [==[\(body)]==]
        wrk.headers["Content-Type"] = "application/json"
        wrk.headers["X-GitHub-Event"] = "push"
        wrk.headers["X-Hub-Signature-256"] = "\(signature)"
        function request()
          sent = sent + 1
          wrk.headers["X-GitHub-Delivery"] = "\(prefix)-" .. thread_number .. "-" .. sent
          return wrk.format()
        end
        """
    }
}
