import Synchronization

/// Hands out 0, 1, 2, ... to a benchmark's concurrent workers.
final class TicketCounter: Sendable {
    private let value = Atomic<Int>(0)

    init() {}

    func take() -> Int { value.wrappingAdd(1, ordering: .relaxed).oldValue }
}

/// A benchmark run that could not produce its figures.
struct BenchmarkFailure: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
