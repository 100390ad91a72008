import Foundation

/// What `bench api` measured: each route's saturated rate against `/healthz`'s measured just before it, and its
/// latency at a fixed rate.
public struct APIReadBenchmarkReport: Sendable, CustomStringConvertible {
    /// One slice of a route's saturation and the slice of `/healthz` right before it.
    struct Slice: Sendable {
        let ceiling: Saturation
        let route: Saturation

        var ratio: Double { ceiling.rate > 0 ? route.rate / ceiling.rate : 0 }
    }

    struct Saturated: Sendable {
        let route: String
        let slices: [Slice]

        var rate: Double { median(slices.map(\.route.rate)) }
        var ceiling: Double { median(slices.map(\.ceiling.rate)) }
        /// The median of the slices' ratios.
        var ratio: Double { median(slices.map(\.ratio)) }
        var ratioRange: ClosedRange<Double> {
            let ratios = slices.map(\.ratio)
            return (ratios.min() ?? 0)...(ratios.max() ?? 0)
        }

        /// Where a request's time went, the median over the slices, against `/healthz`'s.
        var cpu: String {
            func microseconds(_ cost: (Saturation) -> Double, of side: KeyPath<Slice, Saturation>) -> String {
                String(format: "%.0f", median(slices.map { cost($0[keyPath: side]) * 1_000_000 }))
            }
            func busy(_ side: KeyPath<Slice, Saturation>) -> String {
                String(format: "%.0f %%", median(slices.map { $0[keyPath: side].machineBusy * 100 }))
            }
            return "CPU per request: this process (server and load generator) \(microseconds(\.ownPerRequest, of: \.route)) µs "
                + "(/healthz \(microseconds(\.ownPerRequest, of: \.ceiling))), PostgreSQL \(microseconds(\.postgresPerRequest, of: \.route)) µs, "
                + "machine \(microseconds(\.machinePerRequest, of: \.route)) µs (/healthz \(microseconds(\.machinePerRequest, of: \.ceiling))); "
                + "machine busy \(busy(\.route)) (/healthz \(busy(\.ceiling)))"
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
            "saturated: \(concurrency) keep-alive connections, \(Int(saturation.inSeconds)) s per route in \(slices) slices, each right after a "
                + "slice of /healthz (no authentication, no database: the ceiling)"
        ]
        for route in saturated {
            let range = route.ratioRange
            lines.append(
                "  \(padded(route.route))  \(String(format: "%7.0f", route.rate)) req/s  /healthz \(String(format: "%6.0f", route.ceiling)) req/s  "
                    + String(format: "ratio %.2f (slices %.2f-%.2f)", route.ratio, range.lowerBound, range.upperBound)
            )
            lines.append("    \(route.cpu)")
        }
        lines.append("paced: \(Int(pacedRate)) req/s per route for \(Int(paced.inSeconds)) s, latency from each request's intended send time")
        for route in latencies {
            lines.append("  \(padded(route.route))  \(route.latencies)")
        }
        lines.append("goal: ratio >= 0.40, p99 <= 5 ms at 1,000 req/s")
        lines.append(String(format: "ratio: %.2f", ratio))
        return lines.joined(separator: "\n")
    }
}

/// One route saturated for a while: the requests answered, and the CPU seconds spent meanwhile by this process (the
/// server and the load generator), by PostgreSQL and by the whole machine.
struct Saturation: Sendable {
    let answered: Int
    let seconds: Double
    let ownCPU: Double
    let postgresCPU: Double
    let machineCPU: Double

    var rate: Double { seconds > 0 ? Double(answered) / seconds : 0 }
    var ownPerRequest: Double { ownCPU / Double(max(1, answered)) }
    var postgresPerRequest: Double { postgresCPU / Double(max(1, answered)) }
    var machinePerRequest: Double { machineCPU / Double(max(1, answered)) }
    /// The share of the machine's cores busy meanwhile: below 100 %, the slice's rate is bound by how long each of the
    /// connections' requests waits (its latency), not by the CPU.
    var machineBusy: Double { ProcessCPU.machineShare(busySeconds: machineCPU, over: seconds) }
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
    let count: Int
    let p50: Double
    let p99: Double
    let max: Double

    init(_ samples: [Duration]) {
        let sorted = samples.map { $0.inSeconds * 1000 }.sorted()
        count = sorted.count
        func at(_ q: Double) -> Double { sorted.isEmpty ? 0 : sorted[Swift.min(sorted.count - 1, Int(Double(sorted.count) * q))] }
        p50 = at(0.50)
        p99 = at(0.99)
        max = sorted.last ?? 0
    }

    var description: String { String(format: "p50 %.2f ms, p99 %.2f ms, max %.2f ms", p50, p99, max) }
}
