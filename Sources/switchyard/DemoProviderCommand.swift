import ArgumentParser
import Foundation
import SwitchyardBenchmarks

/// `switchyard demo-provider`: a provider API with records on loopback, to try syncs without a real provider
/// (README: "Syncs, step by step").
struct DemoProviderCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo-provider",
        abstract: "Serve a demo provider API with changing records on 127.0.0.1, to try syncs locally.",
        discussion: """
            Records are {"id", "updated_at", "name", "note", "active"}, paged in every style a sync definition can \
            describe (GET /cursor/items?limit&after&since answers {"data": [...], "next_cursor": ...}; see \
            RecordsProvider.swift for the others). Calls need `Authorization: Bearer <api key>`. Every --change-every \
            seconds one record changes and one is added, so incremental runs have something to find.
            """
    )

    @Option(help: "The port to listen on (127.0.0.1 only).")
    var port: Int = 9100

    @Option(help: "Records to start with.")
    var records: Int = 250

    @Option(help: "The API key callers must present as a bearer token.")
    var apiKey: String = "demo-key"

    @Option(help: "Seconds between changes to the records (0: never).")
    var changeEvery: Int = 30

    func run() async throws {
        let provider = RecordsProvider(apiKey: apiKey, port: port)
        provider.fill(count: records)
        provider.setRecording(false)
        try await RecordsProvider.withRunning(provider) { provider in
            // Unbuffered, so that it reaches a pipe at once.
            FileHandle.standardOutput.write(Data("demo provider: \(provider.baseURL) with \(provider.count) records; API key \(apiKey)\n".utf8))
            var next = records + 1
            while !Task.isCancelled {
                try await Task.sleep(for: .seconds(max(1, changeEvery)))
                guard changeEvery > 0 else { continue }
                provider.put(Int.random(in: 1..<next), name: "changed at \(Date())")
                provider.put(next, name: "record \(next)")
                next += 1
            }
        }
    }
}
