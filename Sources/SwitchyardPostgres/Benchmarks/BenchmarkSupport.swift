import Synchronization

/// Hands out 0, 1, 2, ... to a benchmark's concurrent workers.
public final class TicketCounter: Sendable {
    private let value = Atomic<Int>(0)

    public init() {}

    public func take() -> Int { value.wrappingAdd(1, ordering: .relaxed).oldValue }
}

/// A benchmark run that could not produce its figures.
public struct BenchmarkFailure: Error, CustomStringConvertible {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}

extension Duration {
    /// As seconds, for rates.
    public var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
