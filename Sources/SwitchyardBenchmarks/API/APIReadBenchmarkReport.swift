import Foundation

/// What `bench api` measured: each route's saturated rate against `/healthz`'s, and its latency at a fixed rate.
public struct APIReadBenchmarkReport: Sendable, CustomStringConvertible {
    struct Saturated: Sendable {
        let route: String
        let rate: Double
    }

    struct Paced: Sendable {
        let route: String
        let latencies: LatencySummary
    }

    let concurrency: Int
    let saturation: Duration
    let pacedRate: Double
    let paced: Duration
    let saturated: [Saturated]
    let latencies: [Paced]

    /// The rate of `/healthz`, the first route: a route with no authentication and no database.
    var ceiling: Double { saturated.first?.rate ?? 0 }

    /// The worst authenticated route's rate as a fraction of the ceiling.
    public var ratio: Double {
        guard ceiling > 0 else { return 0 }
        return saturated.dropFirst().map { $0.rate / ceiling }.min() ?? 0
    }

    public var description: String {
        let width = saturated.map(\.route.count).max() ?? 0
        func padded(_ route: String) -> String { route + String(repeating: " ", count: width - route.count) }
        var lines = [
            "saturated: \(concurrency) keep-alive connections, \(Int(saturation.seconds)) s per route"
        ]
        for route in saturated {
            let share = route.route == saturated.first?.route ? "(the ceiling)" : String(format: "ratio %.2f", route.rate / max(ceiling, 1))
            lines.append("  \(padded(route.route))  \(String(format: "%7.0f", route.rate)) req/s  \(share)")
        }
        lines.append("paced: \(Int(pacedRate)) req/s per route for \(Int(paced.seconds)) s, latency from each request's intended send time")
        for route in latencies {
            lines.append("  \(padded(route.route))  \(route.latencies)")
        }
        lines.append("goal: ratio >= 0.40, p99 <= 5 ms at 1,000 req/s")
        lines.append(String(format: "ratio: %.2f", ratio))
        return lines.joined(separator: "\n")
    }
}

/// p50, p99 and max of a set of latencies, from the sorted samples.
struct LatencySummary: Sendable, CustomStringConvertible {
    let p50: Double
    let p99: Double
    let max: Double

    init(_ samples: [Duration]) {
        let sorted = samples.map { $0.seconds * 1000 }.sorted()
        func at(_ q: Double) -> Double { sorted.isEmpty ? 0 : sorted[Swift.min(sorted.count - 1, Int(Double(sorted.count) * q))] }
        p50 = at(0.50)
        p99 = at(0.99)
        max = sorted.last ?? 0
    }

    var description: String { String(format: "p50 %.2f ms, p99 %.2f ms, max %.2f ms", p50, p99, max) }
}
