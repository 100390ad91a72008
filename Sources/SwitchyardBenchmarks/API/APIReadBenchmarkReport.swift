import Foundation

/// What `bench api` measured: each route's saturated rate against `/healthz`'s measured just before it, and its
/// latency at a fixed rate.
public struct APIReadBenchmarkReport: Sendable, CustomStringConvertible {
    /// One slice of a route's saturation and the slice of `/healthz` right before it.
    struct Slice: Sendable {
        let ceiling: Double
        let rate: Double
    }

    struct Saturated: Sendable {
        let route: String
        let slices: [Slice]

        var rate: Double { median(slices.map(\.rate)) }
        var ceiling: Double { median(slices.map(\.ceiling)) }
        /// The median of the slices' ratios.
        var ratio: Double { median(slices.map { $0.ceiling > 0 ? $0.rate / $0.ceiling : 0 }) }
        var ratioRange: ClosedRange<Double> {
            let ratios = slices.map { $0.ceiling > 0 ? $0.rate / $0.ceiling : 0 }
            return (ratios.min() ?? 0)...(ratios.max() ?? 0)
        }
    }

    struct Paced: Sendable {
        let route: String
        let latencies: LatencySummary
    }

    let concurrency: Int
    let slices: Int
    let saturation: Duration
    let pacedRate: Double
    let paced: Duration
    let saturated: [Saturated]
    let latencies: [Paced]

    /// The worst authenticated route's ratio.
    public var ratio: Double { saturated.map(\.ratio).min() ?? 0 }

    public var description: String {
        let width = max(saturated.map(\.route.count).max() ?? 0, "/healthz".count)
        func padded(_ route: String) -> String { route + String(repeating: " ", count: width - route.count) }
        var lines = [
            "saturated: \(concurrency) keep-alive connections, \(Int(saturation.seconds)) s per route in \(slices) slices, each right after a "
                + "slice of /healthz (no authentication, no database: the ceiling)"
        ]
        for route in saturated {
            let range = route.ratioRange
            lines.append(
                "  \(padded(route.route))  \(String(format: "%7.0f", route.rate)) req/s  /healthz \(String(format: "%6.0f", route.ceiling)) req/s  "
                    + String(format: "ratio %.2f (slices %.2f-%.2f)", route.ratio, range.lowerBound, range.upperBound)
            )
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

/// The middle value (the mean of the two middle ones for an even count); 0 for none.
private func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return 0 }
    let middle = sorted.count / 2
    return sorted.count.isMultiple(of: 2) ? (sorted[middle - 1] + sorted[middle]) / 2 : sorted[middle]
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
