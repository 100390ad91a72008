/// A configuration of a process-count benchmark (`bench executors`, `bench serves`).
protocol ScalePhase {
    var processes: Int { get }
    /// Work done a second.
    var rate: Double { get }
}

extension Array where Element: ScalePhase {
    /// The configurations with the fewest and the most processes, and the rate of the most over the rate of the
    /// fewest: below 1 means adding processes cost throughput.
    func scaleComparison() -> (fewest: Int, most: Int, ratio: Double) {
        let fewest = self.min { $0.processes < $1.processes }
        let most = self.max { $0.processes < $1.processes }
        return (fewest?.processes ?? 0, most?.processes ?? 0, (most?.rate ?? 0) / Swift.max(fewest?.rate ?? 1, 1))
    }

    /// The report's closing lines: the ratio on a line of its own, and what it compares.
    func scaleLines(unit: String) -> [String] {
        let comparison = scaleComparison()
        return [
            String(format: "ratio: %.2f", comparison.ratio),
            "(\(unit)/s of \(comparison.most) processes / \(unit)/s of \(comparison.fewest), after an unreported warm-up run; no collapse is >= 0.9 where one process already fills the cores)",
        ]
    }
}
