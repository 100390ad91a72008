import Foundation
import SwitchyardTestSupport
import Testing

@testable import SwitchyardBenchmarks

/// `switchyard bench ingest` end to end on a few deliveries, and its latency histogram: no timings are asserted, only
/// that every delivery is counted and the report carries its figures.
@Suite("Ingest benchmark")
struct IngestBenchmarkTests {
    @Test("a small run acknowledges every delivery of both phases, measures the ceiling in slices beside the peak's and prints a ratio line")
    func smallRun() async throws {
        let environment = try await TestEnvironment.make()
        let (configuration, database) = try environment.benchmarkSetUp()
        let report = try await IngestBenchmark(
            configuration: configuration,
            database: database,
            deliveries: 200,
            concurrency: 8,
            pacedConnections: 16,
            pacedDuration: .milliseconds(200),
            generator: .inProcess,
            logger: environment.logger
        ).run()
        #expect(report.peakLatencies.count == 200)
        // The paced phase's deliveries: its rate (80 % of the peak's) for its duration.
        #expect(report.pacedDeliveries == Int((report.pacedTarget * 0.2).rounded()) && report.pacedDeliveries > 0)
        #expect(report.pacedLatencies.count == report.pacedDeliveries)
        #expect(report.pacedSendLag.count == report.pacedDeliveries)
        #expect(report.ceilingRate > 0)
        // The peak and the ceiling alternate in slices that share the deliveries out.
        #expect(report.sliceRatios.count == IngestBenchmark.slices && report.sliceRatios.allSatisfy { $0 > 0 })
        #expect((0..<IngestBenchmark.slices).map { IngestBenchmark.share(of: 203, slice: $0) }.reduce(0, +) == 203)
        let lines = report.description.split(separator: "\n")
        #expect(lines.contains { $0.hasPrefix("ratio:") })
        #expect(lines.filter { $0.contains("p99.9") }.count == 3)
    }

    @Test("the latency histogram reads percentiles from every sample and records anything past a minute as a minute")
    func histogram() {
        var histogram = LatencyHistogram()
        for millisecond in 1...1000 { histogram.record(.milliseconds(millisecond)) }
        #expect(histogram.count == 1000)
        // Three significant digits: within 0.1% of the exact value.
        #expect(abs(histogram.milliseconds(at: 50) - 500) <= 0.5)
        #expect(abs(histogram.milliseconds(at: 99) - 990) <= 1)
        var other = LatencyHistogram()
        other.record(.seconds(120))
        histogram.add(other)
        #expect(histogram.count == 1001)
        #expect(abs(histogram.maxMilliseconds - 60_000) <= 60)
    }

    @Test("a phase measured by the generator process reaches the benchmark as it was measured")
    func phaseRoundTrip() throws {
        var phase = IngestSender.Phase(elapsed: .milliseconds(1500))
        phase.latencies.record(.milliseconds(3))
        phase.sendLag.record(.microseconds(80))
        let decoded = try JSONDecoder().decode(IngestSender.Phase.self, from: JSONEncoder().encode(phase))
        #expect(decoded.elapsed == phase.elapsed)
        #expect(decoded.latencies.count == 1)
        #expect(decoded.latencies.milliseconds(at: 50) == phase.latencies.milliseconds(at: 50))
        #expect(decoded.sendLag.milliseconds(at: 50) == phase.sendLag.milliseconds(at: 50))
    }
}
