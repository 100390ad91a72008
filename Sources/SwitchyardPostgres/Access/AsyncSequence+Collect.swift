extension AsyncSequence where Self: Sendable {
    /// All remaining elements; for result sets that are small by construction (pages, single rows).
    public func collect() async throws -> [Element] {
        var elements: [Element] = []
        for try await element in self {
            elements.append(element)
        }
        return elements
    }
}
