import Foundation

/// Where a phase of `bench ingest` spent the machine's CPU: the server (this process), the load generator (its own
/// process, or part of the server's figure when it runs in-process), PostgreSQL, and everything else on the machine
/// (another build or benchmark sharing the two cores shows up there).
struct IngestCPU: Sendable, CustomStringConvertible {
    var server: Double
    var generator: Double?
    var postgres: Double
    var other: Double
    var events: Int

    /// The CPU seconds spent since `start`; `generator` is the generator process's own figure, if it had one.
    init(since start: ProcessCPU.Mark, postmaster: Int32?, generator: Double?, events: Int) {
        let spent = ProcessCPU.Mark(postmaster: postmaster).since(start)
        server = spent.own
        self.generator = generator
        postgres = spent.postgres
        other = max(0, spent.machine - server - postgres - (generator ?? 0))
        self.events = events
    }

    /// Nothing spent yet, to `add` phases to.
    init(events: Int) {
        server = 0
        postgres = 0
        other = 0
        self.events = events
    }

    /// Adds another phase's figures (a slice of the same phase).
    mutating func add(_ other: IngestCPU) {
        server += other.server
        generator = other.generator.map { (generator ?? 0) + $0 } ?? generator
        postgres += other.postgres
        self.other += other.other
        events += other.events
    }

    var description: String {
        func perThousand(_ seconds: Double) -> String { String(format: "%.0f ms", seconds / Double(max(1, events)) * 1_000_000) }
        let generatorText = generator.map { "generator \(perThousand($0)), " } ?? "generator (in the server's figure), "
        return "server \(perThousand(server)), \(generatorText)PostgreSQL \(perThousand(postgres)), other processes \(perThousand(other))"
            + " of CPU per 1000 events"
    }
}
