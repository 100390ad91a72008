import Foundation
import NIOCore

/// `IngestSender` in a process of its own (`switchyard bench ingest-load`), so that the load generator's tasks and
/// event loops share nothing with the server's but the two cores: no cooperative thread pool, no event loop, no
/// allocator arenas. The child prints its `IngestSender.Phase` as JSON.
public struct IngestSenderProcess: Sendable {
    /// The `switchyard` binary (this one).
    let executable: String
    /// Its body is `IngestBenchmark.body()`, which the child makes again.
    let target: IngestTarget

    func run(count: Int, concurrency: Int, prefix: String, pace: Double?) async throws -> IngestSender.Phase {
        let outputURL = FileManager.default.temporaryDirectory.appending(path: "switchyard-ingest-load-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: outputURL) }
        let output = try FileHandle.newFile(forWritingAt: outputURL)
        defer { try? output.close() }
        let process = Process()
        process.executableURL = URL(filePath: executable)
        process.arguments =
            [
                "bench", "ingest-load", "--port", "\(target.port)", "--path", target.path, "--signature", target.signature, "--count", "\(count)",
                "--concurrency", "\(concurrency)", "--prefix", prefix,
            ] + (pace.map { ["--pace", "\($0)"] } ?? [])
        process.standardOutput = output
        // Its exit is awaited, not waited for on a thread, so no thread of the server's (in this process) blocks.
        try await withCheckedThrowingContinuation { (exited: CheckedContinuation<Void, any Error>) in
            process.terminationHandler = { _ in exited.resume() }
            do { try process.run() } catch { exited.resume(throwing: error) }
        }
        guard process.terminationStatus == 0 else { throw BenchmarkFailure("the load generator process exited with \(process.terminationStatus)") }
        return try JSONDecoder().decode(IngestSender.Phase.self, from: Data(contentsOf: outputURL))
    }

    /// The child's side: sends the deliveries and prints what they measured.
    public static func serve(port: Int, path: String, signature: String, count: Int, concurrency: Int, prefix: String, pace: Double?) async throws {
        let sender = IngestSender(target: IngestTarget(port: port, path: path, body: IngestBenchmark.body(), signature: signature))
        let cpu = ProcessCPU.seconds(of: getpid()) ?? 0
        var phase = try await sender.run(count: count, concurrency: concurrency, prefix: prefix, pace: pace)
        phase.generatorCPU = (ProcessCPU.seconds(of: getpid()) ?? 0) - cpu
        FileHandle.standardOutput.write(try JSONEncoder().encode(phase))
    }
}
