import Foundation
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

extension FileHandle {
    /// A new, empty file at `url`, open for writing: where a child process writes its output, read back once it exits.
    static func newFile(forWritingAt url: URL) throws -> FileHandle {
        guard FileManager.default.createFile(atPath: url.path, contents: nil) else { throw BenchmarkFailure("could not create \(url.path)") }
        return try FileHandle(forWritingTo: url)
    }
}
