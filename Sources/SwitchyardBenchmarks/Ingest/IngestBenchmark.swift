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
        let peakLatencies: LatencyHistogram
        public let ceilingRate: Double
        /// Each slice's ratio: the peak's slice against the ceiling's right after it.
        let sliceRatios: [Double]
        public let pacedTarget: Double
        public let pacedRate: Double
        public let pacedDeliveries: Int
        let pacedLatencies: LatencyHistogram
        /// How late the paced sends went out after their due times: the generator's own share of the latency.
        let pacedSendLag: LatencyHistogram
        public let meanBatch: Double
        let pacedMeanBatch: Double
        /// The server's own acknowledgement times in the paced phase (cumulative bucket counts).
        let pacedServerAcknowledgements: [(bound: String, count: Double)]
        let peakCPU: IngestCPU
        let pacedCPU: IngestCPU
        public let pacedLoad: Double
        let pacedConnections: Int
        let wrk: WrkCrossCheck.Run?

        public var ratio: Double { peakRate / ceilingRate }

        var sliceRange: String {
            String(format: "%.2f-%.2f", sliceRatios.min() ?? 0, sliceRatios.max() ?? 0)
        }

        /// The share of paced deliveries the server acknowledged within each of a few bounds.
        var serverShares: String {
            let total = pacedServerAcknowledgements.last?.count ?? 0
            return pacedServerAcknowledgements.filter { ["0.005", "0.01", "0.025", "0.05", "0.1"].contains($0.bound) }.map { bucket in
                String(format: "<= %g ms %.2f%%", (Double(bucket.bound) ?? 0) * 1000, total > 0 ? bucket.count / total * 100 : 0)
            }.joined(separator: ", ")
        }

        public var description: String {
            """
            deliveries:          \(deliveries) per phase, \(concurrency) concurrent connections, GitHub-signed, \(IngestBenchmark.bodySize)-byte bodies
            ingest (peak):       \(Int(peakRate.rounded())) events/s acknowledged; ack latency \(peakLatencies)
            mean commit batch:   \(String(format: "%.1f", meanBatch)) events at peak, \(String(format: "%.1f", pacedMeanBatch)) paced
            ceiling:             \(Int(ceilingRate.rounded())) events/s  (one durable INSERT transaction per event, \(concurrency) connections; \(IngestBenchmark.slices) slices, each right after one of the peak's)
            ratio:               \(String(format: "%.2f", ratio))  (ingest / ceiling, slices \(sliceRange); the goal is >= 1.5)
            at \(Int((pacedLoad * 100).rounded()))% of peak:      \(Int(pacedRate.rounded())) events/s offered \(Int(pacedTarget.rounded())) over \(pacedConnections) connections, \(pacedDeliveries) deliveries; ack latency \(pacedLatencies)  (goal at 80%: p99 <= 25 ms)
            paced send lag:      \(pacedSendLag)  (due time to request written: the generator's share)
            paced, server side:  \(serverShares)  (body read to 2xx, from the server's histogram)
            CPU at peak:         \(peakCPU)
            CPU paced:           \(pacedCPU)
            """ + (wrk.map { "\n\($0)  (" + String(format: "%.2f", $0.rate / peakRate) + " of the peak phase's rate)" } ?? "")
        }
    }

    static let bodySize = 600
    static let secret = "bench-signing-secret"
    /// How many slices the peak and the ceiling alternate in.
    static let slices = 4

    /// Slice `slice`'s share of `total` deliveries: equal shares, the last taking what does not divide.
    static func share(of total: Int, slice: Int) -> Int {
        total / slices + (slice == slices - 1 ? total % slices : 0)
    }

    let configuration: SwitchyardConfiguration
    let database: Database
    let deliveries: Int
    let concurrency: Int
    /// The paced phase's connections: enough that a delivery never waits for a free one while the server keeps up
    /// (with only `concurrency`, which the peak keeps busy, 80% of the peak leaves the generator itself no slack
    /// and any hiccup queues deliveries in the generator, not in the server).
    let pacedConnections: Int
    /// The paced phase offers this fraction of the measured peak.
    let pacedLoad: Double
    /// How long the paced phase lasts. Its p99 is the worst 1 % of its deliveries: over a phase of 1.7 s (half the
    /// peak's deliveries, as it was), one pause of 50 ms anywhere on the machine was that 1 % on its own, and
    /// the figure moved between 41 and 100 ms from run to run.
    let pacedDuration: Duration
    /// Where the deliveries are sent from.
    public enum Generator: Sendable {
        /// Tasks of this process, beside the server.
        case inProcess
        /// A `switchyard bench ingest-load` process per phase, run from `executable` (see `IngestSenderProcess`).
        case process(executable: String)
    }

    let generator: Generator
    /// Whether to run the same load through `wrk` too, against the same server (see `WrkCrossCheck`).
    let crossCheckWithWrk: Bool
    let logger: Logger

    public init(
        configuration: SwitchyardConfiguration,
        database: Database,
        deliveries: Int,
        concurrency: Int,
        pacedConnections: Int,
        pacedLoad: Double = 0.8,
        pacedDuration: Duration = .seconds(8),
        generator: Generator = .inProcess,
        crossCheckWithWrk: Bool = false,
        logger: Logger
    ) {
        self.generator = generator
        self.crossCheckWithWrk = crossCheckWithWrk
        self.configuration = configuration
        self.database = database
        self.deliveries = deliveries
        self.concurrency = concurrency
        self.pacedConnections = pacedConnections
        self.pacedLoad = pacedLoad
        self.pacedDuration = pacedDuration
        self.logger = logger
    }

    /// Runs the peak and the ceiling in alternating slices, then the paced phase. The server it starts runs `database`
    /// (which must not be running yet).
    public func run() async throws -> Report {
        let metrics = MetricsRegistry(version: "bench")
        let body = Self.body()
        // The server runs the database pool: the tenant is made once it is up.
        let served = try await BenchmarkServer.run(configuration: configuration, database: database, metrics: metrics, logger: logger) { port in
            let (tenant, source) = try await Self.makeSource(database, logger: logger)
            let target = IngestTarget(port: port, path: "/webhooks/\(source.lowercasedString)", body: body, signature: Self.signature(of: body))
            let send: @Sendable (_ count: Int, _ connections: Int, _ prefix: String, _ pace: Double?) async throws -> IngestSender.Phase
            switch generator {
            case .inProcess:
                let sender = IngestSender(target: target)
                send = { try await sender.run(count: $0, concurrency: $1, prefix: $2, pace: $3) }
            case .process(let executable):
                let sender = IngestSenderProcess(executable: executable, target: target)
                send = { try await sender.run(count: $0, concurrency: $1, prefix: $2, pace: $3) }
            }
            // Warm-up: connections open, caches filled.
            _ = try await send(concurrency * 4, concurrency, "warm", nil)
            // PostgreSQL's processes: the parent of one of its backends, when that backend is a process of this machine.
            let backend = try await database.withQueue(logger: logger) { try await $0.backendProcessID() }
            let postmaster = ProcessCPU.postmaster(ofBackend: backend)
            // The peak and the ceiling in slices, each of the ceiling's right after one of the peak's: the machine's
            // speed drifts over a run (other tenants of the host), and a ratio of two rates measured seconds apart
            // carries that drift. Both phases also write to a table of the same size this way. The ceiling's connections
            // are open before its first slice's clock starts, as the senders' are (before, its 64 connects and the
            // table grown by the paced phase were charged to it).
            let sliced = try await SingleInsertCeiling.withConnections(
                url: configuration.database.url,
                concurrency: concurrency,
                tenant: tenant,
                source: source,
                body: body,
                headers: #"{"x-github-event":"push"}"#,
                logger: logger
            ) { ceiling in
                try await slicedPeak(send: send, ceiling: ceiling, metrics: metrics, postmaster: postmaster)
            }
            let peak = sliced.peak
            var wrk: WrkCrossCheck.Run?
            if crossCheckWithWrk {
                // wrk is closed loop: the same shape as the peak phase, so it runs as that phase did, right after it.
                let tool = WrkCrossCheck(target: target, connections: concurrency)
                wrk = try await tool.run(label: "wrk (peak)", seconds: max(3, Int(peak.elapsed.inSeconds.rounded(.up))), prefix: "wrk-peak")
            }
            let pacedTarget = Double(deliveries) / peak.elapsed.inSeconds * pacedLoad
            let pacedBatchesBefore = try await Self.batchCount(metrics)
            let acknowledgedBefore = Self.acknowledgementBuckets(metrics)
            let pacedStart = ProcessCPU.Mark(postmaster: postmaster)
            let pacedDeliveries = Int((pacedTarget * pacedDuration.inSeconds).rounded())
            let paced = try await send(pacedDeliveries, pacedConnections, "paced", pacedTarget)
            let pacedCPU = IngestCPU(since: pacedStart, postmaster: postmaster, generator: paced.generatorCPU, events: pacedDeliveries)
            let acknowledged = zip(acknowledgedBefore, Self.acknowledgementBuckets(metrics)).map { ($1.bound, $1.count - $0.count) }
            let pacedBatches = try await Self.batchCount(metrics) - pacedBatchesBefore
            return ServedPhases(
                peak: peak,
                ceiling: sliced.ceiling,
                sliceRatios: sliced.ratios,
                batches: sliced.batches,
                pacedBatches: pacedBatches,
                pacedServerAcknowledgements: acknowledged,
                peakCPU: sliced.cpu,
                pacedCPU: pacedCPU,
                paced: paced,
                pacedDeliveries: pacedDeliveries,
                pacedTarget: pacedTarget,
                wrk: wrk
            )
        }
        return Report(
            deliveries: deliveries,
            concurrency: concurrency,
            peakRate: Double(deliveries) / served.peak.elapsed.inSeconds,
            peakLatencies: served.peak.latencies,
            ceilingRate: Double(deliveries) / served.ceiling.inSeconds,
            sliceRatios: served.sliceRatios,
            pacedTarget: served.pacedTarget,
            pacedRate: Double(served.pacedDeliveries) / served.paced.elapsed.inSeconds,
            pacedDeliveries: served.pacedDeliveries,
            pacedLatencies: served.paced.latencies,
            pacedSendLag: served.paced.sendLag,
            meanBatch: Double(deliveries) / max(1, served.batches),
            pacedMeanBatch: Double(served.pacedDeliveries) / max(1, served.pacedBatches),
            pacedServerAcknowledgements: served.pacedServerAcknowledgements,
            peakCPU: served.peakCPU,
            pacedCPU: served.pacedCPU,
            pacedLoad: pacedLoad,
            pacedConnections: pacedConnections,
            wrk: served.wrk
        )
    }

    /// What the phases measured while the server ran.
    private struct ServedPhases: Sendable {
        let peak: IngestSender.Phase
        let ceiling: Duration
        let sliceRatios: [Double]
        let batches: Double
        let pacedBatches: Double
        let pacedServerAcknowledgements: [(bound: String, count: Double)]
        let peakCPU: IngestCPU
        let pacedCPU: IngestCPU
        let paced: IngestSender.Phase
        let pacedDeliveries: Int
        let pacedTarget: Double
        let wrk: WrkCrossCheck.Run?
    }

    /// The peak phase and the ceiling, measured in alternating slices.
    private struct SlicedPeak {
        var peak = IngestSender.Phase(elapsed: .zero)
        var ceiling = Duration.zero
        var ratios: [Double] = []
        var batches = 0.0
        var cpu: IngestCPU
    }

    /// Sends the peak's deliveries in `slices` closed-loop slices through `send`, each followed by as many of the
    /// ceiling's inserts.
    private func slicedPeak(
        send: @Sendable (_ count: Int, _ connections: Int, _ prefix: String, _ pace: Double?) async throws -> IngestSender.Phase,
        ceiling: SingleInsertCeiling,
        metrics: MetricsRegistry,
        postmaster: Int32?
    ) async throws -> SlicedPeak {
        var sliced = SlicedPeak(cpu: IngestCPU(events: 0))
        for slice in 0..<Self.slices {
            let count = Self.share(of: deliveries, slice: slice)
            let batchesBefore = try await Self.batchCount(metrics)
            let start = ProcessCPU.Mark(postmaster: postmaster)
            let part = try await send(count, concurrency, "peak-\(slice)", nil)
            sliced.cpu.add(IngestCPU(since: start, postmaster: postmaster, generator: part.generatorCPU, events: count))
            sliced.batches += try await Self.batchCount(metrics) - batchesBefore
            sliced.peak.add(part)
            let ceilingPart = try await ceiling.run(events: count, prefix: "ceiling-\(slice)")
            sliced.ceiling += ceilingPart
            sliced.ratios.append(ceilingPart / part.elapsed)
        }
        return sliced
    }

    /// A new tenant's GitHub webhook source whose signing secret is `secret`; returns both ids.
    static func makeSource(_ database: Database, logger: Logger) async throws -> (tenant: TenantID, source: UUID) {
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
        return (tenant, source)
    }

    /// GitHub's `X-Hub-Signature-256` of `body` under `secret`.
    static func signature(of body: ByteBuffer) -> String {
        "sha256="
            + Array(HMAC<SHA256>.authenticationCode(for: Array(body.readableBytesView), using: SymmetricKey(data: Data(Self.secret.utf8))))
            .map { String(format: "%02x", $0) }.joined()
    }

    /// A push-like JSON body of `bodySize` bytes.
    static func body() -> ByteBuffer {
        var text = #"{"ref":"refs/heads/main","repository":{"full_name":"acme/widgets"},"pusher":{"name":"octocat"},"padding":""#
        text += String(repeating: "x", count: bodySize - text.utf8.count - 2) + #""}"#
        return ByteBuffer(string: text)
    }

    /// The server's own acknowledgement times (body read to 2xx, the commit included): the cumulative count of each
    /// bucket of its histogram, by upper bound in seconds.
    static func acknowledgementBuckets(_ metrics: MetricsRegistry) -> [(bound: String, count: Double)] {
        let prefix = "switchyard_webhook_ack_duration_seconds_bucket{le=\""
        return String(decoding: metrics.render(), as: UTF8.self).split(separator: "\n").compactMap { line in
            guard line.hasPrefix(prefix), let close = line.firstIndex(of: "\""), let end = line[line.index(after: close)...].firstIndex(of: "\"")
            else { return nil }
            return (String(line[line.index(after: close)..<end]), Double(line.split(separator: " ").last ?? "0") ?? 0)
        }
    }

    /// How many commits the group-commit writer has made, read from its batch-size histogram.
    static func batchCount(_ metrics: MetricsRegistry) async throws -> Double {
        let text = String(decoding: metrics.render(), as: UTF8.self)
        for line in text.split(separator: "\n") where line.hasPrefix("switchyard_webhook_commit_batch_size_events_count") {
            return Double(line.split(separator: " ").last ?? "0") ?? 0
        }
        return 0
    }
}
