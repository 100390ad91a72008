import Foundation

/// The figures of `switchyard bench fanout`.
public struct FanoutBenchmarkReport: Sendable, CustomStringConvertible {
    public let receivers: Int
    public let events: Int
    public let deliveries: Int
    public let bodyBytes: Int
    public let concurrency: Int
    public let platformSeconds: Double
    /// CPU used while the platform delivered.
    public let platformCPU: CPUUsage
    /// The faster of the load generator's passes (one before the platform's run, one after).
    public let ceilingSeconds: Double
    /// CPU used during the faster pass.
    public let ceilingCPU: CPUUsage
    public let ceilingPasses: [Double]
    /// Deliveries a second while the latency was measured (half the platform's peak).
    public let latencyRate: Double
    /// From an event's commit to each of its deliveries' first attempt reaching the receiver, sorted.
    public let latencies: [Duration]

    public var platformRate: Double { Double(deliveries) / platformSeconds }
    public var ceilingRate: Double { Double(deliveries) / ceilingSeconds }
    public var ratio: Double { platformRate / ceilingRate }

    func percentile(_ fraction: Double) -> Duration? {
        guard !latencies.isEmpty else { return nil }
        return latencies[min(latencies.count - 1, Int((Double(latencies.count) * fraction).rounded(.up)) - 1)]
    }

    public var description: String {
        func milliseconds(_ duration: Duration?) -> String {
            duration.map { String(format: "%.1f ms", $0.inSeconds * 1000) } ?? "n/a"
        }
        func perRequest(_ seconds: Double) -> String {
            String(format: "%.0f µs", seconds / Double(deliveries) * 1_000_000)
        }
        func busy(_ cpu: CPUUsage, _ seconds: Double) -> String {
            String(format: "machine %.0f%% busy", 100 * ProcessCPU.machineShare(busySeconds: cpu.machine, over: seconds))
        }
        return """
            fan-out:             \(events) events to \(receivers) loopback receivers (one destination each): \(deliveries) deliveries of \(bodyBytes) bytes, executor concurrency \(concurrency)
            platform:            \(Int(platformRate.rounded())) deliveries/s  (\(String(format: "%.2f", platformSeconds)) s; claimed, signed, POSTed through the outbound client, acknowledged and the attempt recorded)
            load generator:      \(Int(ceilingRate.rounded())) requests/s  (\(String(format: "%.2f", ceilingSeconds)) s, the faster of \(ceilingPasses.map { String(format: "%.2f", $0) }.joined(separator: " and ")) s before and after; the same bodies POSTed to the same receivers, same concurrency and pool, nothing else)
            CPU per delivery:    platform: this process \(perRequest(platformCPU.process)), PostgreSQL \(perRequest(platformCPU.postgres)), \(busy(platformCPU, platformSeconds)); load generator: this process \(perRequest(ceilingCPU.process)), \(busy(ceilingCPU, ceilingSeconds)) (the receivers run in this process)
            ratio:               \(String(format: "%.2f", ratio))  (platform / load generator; the goal is >= 0.5, and >= 5000 deliveries/s)
            commit to attempt:   p50 \(milliseconds(percentile(0.5))), p99 \(milliseconds(percentile(0.99))), max \(milliseconds(latencies.last))  over \(latencies.count) deliveries at \(Int(latencyRate.rounded())) deliveries/s (half the peak; the goal is p99 < 100 ms)
            """
    }
}
