import NIOCore
import NIOHTTP1

/// Sends signed deliveries with unique delivery ids, one connection per concurrent sender, and records each
/// acknowledgement's latency from the delivery's intended send time.
struct IngestSender: Sendable {
    let target: IngestTarget

    /// What one phase measured.
    struct Phase: Sendable, Codable {
        var elapsed: Duration
        /// From each delivery's intended send time to its acknowledgement.
        var latencies = LatencyHistogram()
        /// From each delivery's intended send time to the moment its request was written.
        var sendLag = LatencyHistogram()
        /// The CPU seconds of the generator's process, when it had one of its own.
        var generatorCPU: Double?

        /// Adds another slice of the same phase.
        mutating func add(_ other: Phase) {
            elapsed += other.elapsed
            latencies.add(other.latencies)
            sendLag.add(other.sendLag)
            generatorCPU = other.generatorCPU.map { (generatorCPU ?? 0) + $0 } ?? generatorCPU
        }
    }

    /// Without `pace`, each connection sends its next delivery as soon as the last is answered (closed loop: the
    /// intended send time is then). With `pace` (events/s), delivery `i` is due at `i / pace` seconds into the
    /// phase and its latency counts from then, however late a busy connection or a late wake-up sent it, so a
    /// stall is charged to every delivery it delayed (no coordinated omission).
    func run(count: Int, concurrency: Int, prefix: String, pace: Double?) async throws -> Phase {
        // Every connection is open before the clock starts. Opened as the first deliveries fell due, the 256 of the paced
        // phase charged their connects (and the server's accepts) to those deliveries: over half of the paced phase's
        // acknowledgements past 25 ms, up to 77 ms, came in its first 0.2 s.
        let connections = try await BenchmarkHTTPConnection.connect(concurrency, host: "127.0.0.1", port: target.port)
        let started = ContinuousClock.now
        let tickets = PacedTickets(count: count, pace: pace, started: started)
        // Each connection keeps its raw samples (an append each) and the histograms are filled once at the end, so the
        // generator spends nothing on them while it sends.
        let samples = try await withThrowingTaskGroup(of: [(latency: Duration, lag: Duration)].self) { group in
            group.addTask {
                try await tickets.pace()
                return []
            }
            for connection in connections {
                group.addTask {
                    var part: [(latency: Duration, lag: Duration)] = []
                    part.reserveCapacity(count / concurrency + 1)
                    var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: target.path)
                    head.headers.add(name: "Host", value: "127.0.0.1:\(target.port)")
                    head.headers.add(name: "Content-Type", value: "application/json")
                    head.headers.add(name: "Content-Length", value: String(target.body.readableBytes))
                    head.headers.add(name: "X-GitHub-Event", value: "push")
                    head.headers.add(name: "X-Hub-Signature-256", value: target.signature)
                    while let index = await tickets.take() {
                        let due = tickets.due(index)
                        var request = head
                        request.headers.replaceOrAdd(name: "X-GitHub-Delivery", value: "\(prefix)-\(index)")
                        let lag = ContinuousClock.now - due
                        let status = try await connection.send(request, body: target.body)
                        guard status == 200 else { throw BenchmarkFailure("a delivery was answered \(status)") }
                        part.append((ContinuousClock.now - due, lag))
                    }
                    await connection.close()
                    return part
                }
            }
            var all: [(latency: Duration, lag: Duration)] = []
            for try await part in group { all += part }
            return all
        }
        var phase = Phase(elapsed: ContinuousClock.now - started)
        for sample in samples {
            phase.latencies.record(sample.latency)
            phase.sendLag.record(sample.lag)
        }
        return phase
    }
}
