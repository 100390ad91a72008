import Foundation
import Histogram

/// Latencies in an HDR histogram (microseconds, three significant digits): every sample counts, in constant memory,
/// and the tail is read from the whole distribution rather than from a sorted sample.
struct LatencyHistogram: Sendable, Codable, CustomStringConvertible {
    /// A minute: anything longer is recorded as a minute. The range is fixed so that recording never resizes (a
    /// resizing histogram grew a little at each new maximum, and that cost the generator more than its sends).
    static let highest: UInt64 = 60_000_000
    private var histogram = Histogram<UInt64>(highestTrackableValue: highest, numberOfSignificantValueDigits: .three)

    init() {}

    mutating func record(_ latency: Duration) {
        let (seconds, attoseconds) = latency.components
        histogram.record(min(Self.highest, UInt64(max(0, seconds * 1_000_000 + attoseconds / 1_000_000_000_000))))
    }

    mutating func add(_ other: LatencyHistogram) {
        histogram.add(other.histogram)
    }

    var count: UInt64 { histogram.totalCount }

    /// The latency at `percentile` (0...100), in milliseconds.
    func milliseconds(at percentile: Double) -> Double {
        Double(histogram.valueAtPercentile(percentile)) / 1000
    }

    var maxMilliseconds: Double { Double(histogram.max) / 1000 }

    var description: String {
        String(
            format: "p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, p99.9 %.2f ms, max %.2f ms",
            milliseconds(at: 50),
            milliseconds(at: 90),
            milliseconds(at: 99),
            milliseconds(at: 99.9),
            maxMilliseconds
        )
    }
}
