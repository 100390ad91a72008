import Foundation
import SwitchyardTestSupport
import Testing

@testable import SwitchyardBenchmarks

/// `switchyard bench api` end to end on a short run: no timings are asserted, only that every route was answered (a
/// request answered other than 200 fails the run), that the paced phase sent all it was due to send, and that the
/// report carries its figures.
@Suite("API read benchmark")
struct APIReadBenchmarkTests {
    @Test("a short run saturates the three read routes beside /healthz, paces all four and prints a ratio line")
    func shortRun() async throws {
        let environment = try await TestEnvironment.make()
        let (configuration, database) = try environment.benchmarkSetUp()
        let report = try await APIReadBenchmark(
            configuration: configuration,
            database: database,
            concurrency: 2,
            saturation: .milliseconds(500),
            pacedRate: 40,
            paced: .seconds(1),
            logger: environment.logger
        ).run()
        #expect(report.saturated.map(\.route) == ["/v1/me", "/v1/integrations/{id}", "/v1/integrations/{id}/credentials"])
        for route in report.saturated {
            #expect(route.slices.count == APIReadBenchmark.slices)
            #expect(route.slices.allSatisfy { $0.route.answered > 0 && $0.ceiling.answered > 0 }, "\(route.route)")
            #expect(route.slices.allSatisfy { $0.route.machineBusy > 0 && $0.ceiling.machineBusy > 0 }, "\(route.route)")
        }
        #expect(report.latencies.map(\.route) == ["/healthz", "/v1/me", "/v1/integrations/{id}", "/v1/integrations/{id}/credentials"])
        #expect(report.latencies.allSatisfy { $0.latencies.count == 40 })
        let lines = report.description.split(separator: "\n")
        #expect(lines.last == Substring(String(format: "ratio: %.2f", report.ratio)))
        #expect(lines.filter { $0.contains("CPU per request") && $0.contains("machine busy") }.count == 3)
    }
}
