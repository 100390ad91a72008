import Crypto
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import SwitchyardCore
import SwitchyardMetrics
import SwitchyardPostgres

/// `switchyard bench ingest`: signed deliveries through the real server (verification, group commit) with many
/// concurrent connections, against the ceiling of one durable insert transaction per event on the same database.
public struct IngestBenchmark: Sendable {
    public struct Report: Sendable, CustomStringConvertible {
        public let deliveries: Int
        public let concurrency: Int
        public let peakRate: Double
        public let peakLatencies: Percentiles
        public let ceilingRate: Double
        public let pacedTarget: Double
        public let pacedRate: Double
        public let pacedLatencies: Percentiles
        public let meanBatch: Double
        public let pacedLoad: Double

        public var ratio: Double { peakRate / ceilingRate }

        public var description: String {
            """
            deliveries:          \(deliveries) per phase, \(concurrency) concurrent connections, GitHub-signed, \(IngestBenchmark.bodySize)-byte bodies
            ingest (peak):       \(Int(peakRate.rounded())) events/s acknowledged; ack latency \(peakLatencies)
            mean commit batch:   \(String(format: "%.1f", meanBatch)) events
            ceiling:             \(Int(ceilingRate.rounded())) events/s  (one durable INSERT transaction per event, \(concurrency) connections)
            ratio:               \(String(format: "%.2f", ratio))  (ingest / ceiling; the goal is >= 1.5)
            at \(Int((pacedLoad * 100).rounded()))% of peak:      \(Int(pacedRate.rounded())) events/s offered \(Int(pacedTarget.rounded())); ack latency \(pacedLatencies)  (goal at 80%: p99 < 25 ms)
            """
        }
    }

    public struct Percentiles: Sendable, CustomStringConvertible {
        public let p50: Double
        public let p90: Double
        public let p99: Double

        init(_ samples: [Duration]) {
            let sorted = samples.map { Double($0.components.attoseconds) / 1e15 + Double($0.components.seconds) * 1000 }.sorted()
            func at(_ q: Double) -> Double { sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))] }
            p50 = at(0.50)
            p90 = at(0.90)
            p99 = at(0.99)
        }

        public var description: String { String(format: "p50 %.2f ms, p90 %.2f ms, p99 %.2f ms", p50, p90, p99) }
    }

    static let bodySize = 600
    static let secret = "bench-signing-secret"

    let configuration: SwitchyardConfiguration
    let database: Database
    let deliveries: Int
    let concurrency: Int
    /// The paced phase offers this fraction of the measured peak.
    let pacedLoad: Double
    let logger: Logger

    public init(
        configuration: SwitchyardConfiguration,
        database: Database,
        deliveries: Int,
        concurrency: Int,
        pacedLoad: Double = 0.8,
        logger: Logger
    ) {
        self.configuration = configuration
        self.database = database
        self.deliveries = deliveries
        self.concurrency = concurrency
        self.pacedLoad = pacedLoad
        self.logger = logger
    }

    /// Runs the three phases. The server it starts runs `database` (which must not be running yet).
    public func run() async throws -> Report {
        let metrics = MetricsRegistry(version: "bench")
        let body = Self.body()
        // The server runs the database pool: the tenant is made once it is up.
        let served = try await BenchmarkServer.run(configuration: configuration, database: database, metrics: metrics, logger: logger) { port in
            let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 36)
            let tenant = try await database.withOperator(logger: logger) {
                try await $0.createTenant(slug: "bench-\(suffix)", name: "Ingest benchmark")
            }.id
            let source = try await database.withTenant(tenant, logger: logger) { transaction in
                let source = try await transaction.createWebhookSource(
                    name: "bench",
                    scheme: #"{"type":"github"}"#,
                    integrationID: nil,
                    maxBodyBytes: 1 << 20
                )
                _ = try await transaction.addWebhookSecret(Self.secret, to: source.id, expiresAt: nil)
                return source.id
            }
            let signature =
                "sha256="
                + Array(HMAC<SHA256>.authenticationCode(for: Array(body.readableBytesView), using: SymmetricKey(data: Data(Self.secret.utf8))))
                .map { String(format: "%02x", $0) }.joined()
            let sender = Sender(port: port, path: "/webhooks/\(source.lowercasedString)", body: body, signature: signature)
            // Warm-up: connections open, caches filled.
            _ = try await sender.run(count: concurrency * 4, concurrency: concurrency, prefix: "warm", pace: nil)
            let batchesBefore = try await Self.batchCount(metrics)
            let peak = try await sender.run(count: deliveries, concurrency: concurrency, prefix: "peak", pace: nil)
            let batchesAfter = try await Self.batchCount(metrics)
            let pacedTarget = Double(deliveries) / peak.elapsed.seconds * pacedLoad
            let paced = try await sender.run(count: deliveries / 2, concurrency: concurrency, prefix: "paced", pace: pacedTarget)
            return ServedPhases(
                tenant: tenant,
                source: source,
                peak: peak,
                batches: batchesAfter - batchesBefore,
                paced: paced,
                pacedTarget: pacedTarget
            )
        }
        let ceiling = try await SingleInsertCeiling.run(
            url: configuration.database.url,
            tenant: served.tenant,
            source: served.source,
            events: deliveries,
            concurrency: concurrency,
            body: body,
            headers: #"{"x-github-event":"push"}"#,
            logger: logger
        )
        return Report(
            deliveries: deliveries,
            concurrency: concurrency,
            peakRate: Double(deliveries) / served.peak.elapsed.seconds,
            peakLatencies: Percentiles(served.peak.latencies),
            ceilingRate: Double(deliveries) / ceiling.seconds,
            pacedTarget: served.pacedTarget,
            pacedRate: Double(deliveries / 2) / served.paced.elapsed.seconds,
            pacedLatencies: Percentiles(served.paced.latencies),
            meanBatch: Double(deliveries) / max(1, served.batches),
            pacedLoad: pacedLoad
        )
    }

    /// What the phases against the server measured, and what the ceiling needs of their setup.
    private struct ServedPhases: Sendable {
        let tenant: TenantID
        let source: UUID
        let peak: (elapsed: Duration, latencies: [Duration])
        let batches: Double
        let paced: (elapsed: Duration, latencies: [Duration])
        let pacedTarget: Double
    }

    /// A push-like JSON body of `bodySize` bytes.
    static func body() -> ByteBuffer {
        var text = #"{"ref":"refs/heads/main","repository":{"full_name":"acme/widgets"},"pusher":{"name":"octocat"},"padding":""#
        text += String(repeating: "x", count: bodySize - text.utf8.count - 2) + #""}"#
        return ByteBuffer(string: text)
    }

    /// How many commits the group-commit writer has made, read from its batch-size histogram.
    static func batchCount(_ metrics: MetricsRegistry) async throws -> Double {
        let text = String(decoding: metrics.render(), as: UTF8.self)
        for line in text.split(separator: "\n") where line.hasPrefix("switchyard_webhook_commit_batch_size_events_count") {
            return Double(line.split(separator: " ").last ?? "0") ?? 0
        }
        return 0
    }

    /// Sends signed deliveries with unique delivery ids, one connection per concurrent sender, and records each
    /// acknowledgement's latency.
    struct Sender: Sendable {
        let port: Int
        let path: String
        let body: ByteBuffer
        let signature: String

        /// With `pace` (events/s) each delivery has a due time and its latency counts from then (no coordinated omission).
        func run(count: Int, concurrency: Int, prefix: String, pace: Double?) async throws -> (elapsed: Duration, latencies: [Duration]) {
            let tickets = TicketCounter()
            let started = ContinuousClock.now
            let latencies = try await withThrowingTaskGroup(of: [Duration].self) { group in
                for _ in 0..<concurrency {
                    group.addTask {
                        let connection = try await BenchmarkHTTPConnection.connect(host: "127.0.0.1", port: port)
                        var latencies: [Duration] = []
                        var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: path)
                        head.headers.add(name: "Host", value: "127.0.0.1:\(port)")
                        head.headers.add(name: "Content-Type", value: "application/json")
                        head.headers.add(name: "Content-Length", value: String(body.readableBytes))
                        head.headers.add(name: "X-GitHub-Event", value: "push")
                        head.headers.add(name: "X-Hub-Signature-256", value: signature)
                        while true {
                            let index = tickets.take()
                            guard index < count else { break }
                            var due = ContinuousClock.now
                            if let pace {
                                due = started + .seconds(Double(index) / pace)
                                if due > ContinuousClock.now { try await Task.sleep(until: due) }
                            }
                            var request = head
                            request.headers.replaceOrAdd(name: "X-GitHub-Delivery", value: "\(prefix)-\(index)")
                            let status = try await connection.send(request, body: body)
                            guard status == 200 else { throw BenchmarkFailure("a delivery was answered \(status)") }
                            latencies.append(ContinuousClock.now - due)
                        }
                        await connection.close()
                        return latencies
                    }
                }
                var all: [Duration] = []
                for try await part in group { all += part }
                return all
            }
            return (ContinuousClock.now - started, latencies)
        }
    }
}
