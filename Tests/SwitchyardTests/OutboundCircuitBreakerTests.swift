import Logging
import SwitchyardMetrics
import SwitchyardOutbound
import SwitchyardTestSupport
import Testing

@Suite("Outbound circuit breaker")
struct OutboundCircuitBreakerTests {
    static let configuration = OutboundConfiguration(breakerFailureThreshold: 3, breakerCoolDown: .milliseconds(400))
    let logger = Logger(label: "test")

    @Test("the breaker opens after consecutive failures, rejects without calling, half-opens after the cool-down and closes on success")
    func fullCycle() async throws {
        try await FakeProviderAPI.withRunning { api in
            api.script("/down", [], then: .status(500))
            let metrics = MetricsRegistry(version: "test")
            try await api.withClient(Self.configuration, metrics: metrics.outbound) { client in
                for _ in 0..<3 {
                    let response = try await client.send(api.request(.get, "/down", key: "integration-a"), logger: logger)
                    #expect(response.status == .internalServerError)
                }
                #expect(client.circuitState(for: "integration-a") == .open)
                #expect(try openCircuits(metrics) == 1)

                let refused = await #expect(throws: OutboundError.self) {
                    try await client.send(api.request(.get, "/down", key: "integration-a"), logger: logger)
                }
                guard case .circuitOpen = refused?.kind else {
                    Issue.record("expected circuitOpen, got \(String(describing: refused))")
                    return
                }
                #expect(api.requests(to: "/down").count == 3, "an open circuit sends nothing")
                // Other keys are not affected.
                #expect(try await client.send(api.request(.get, "/up", key: "integration-b"), logger: logger).status == .ok)

                try await Task.sleep(for: .milliseconds(450))
                api.script("/down", [.slow(.milliseconds(300))], then: .status(200))
                async let probe = client.send(api.request(.get, "/down", key: "integration-a"), logger: logger)
                try await waitUntil { api.requests(to: "/down").count == 4 }
                #expect(client.circuitState(for: "integration-a") == .halfOpen)
                // While the probe is out, everything else is still refused.
                await #expect(throws: OutboundError.self) {
                    try await client.send(api.request(.get, "/down", key: "integration-a"), logger: logger)
                }
                #expect(try await probe.status == .ok)
                #expect(client.circuitState(for: "integration-a") == .closed)
                #expect(try await client.send(api.request(.get, "/down", key: "integration-a"), logger: logger).status == .ok)
                #expect(api.requests(to: "/down").count == 5)
                #expect(try openCircuits(metrics) == 0)
            }
        }
    }

    @Test("a failed half-open probe reopens the circuit")
    func failedProbeReopens() async throws {
        try await FakeProviderAPI.withRunning { api in
            api.script("/down", [], then: .status(503))
            try await api.withClient(Self.configuration) { client in
                for _ in 0..<3 {
                    _ = try await client.send(api.request(.get, "/down", key: "integration-c"), logger: logger)
                }
                try await Task.sleep(for: .milliseconds(450))
                let probe = try await client.send(api.request(.get, "/down", key: "integration-c"), logger: logger)
                #expect(probe.status == .serviceUnavailable)
                #expect(client.circuitState(for: "integration-c") == .open)
                await #expect(throws: OutboundError.self) {
                    try await client.send(api.request(.get, "/down", key: "integration-c"), logger: logger)
                }
                #expect(api.requests(to: "/down").count == 4)
            }
        }
    }

    @Test("4xx answers show the destination is up and do not open the circuit")
    func permanentErrorsDoNotTrip() async throws {
        try await FakeProviderAPI.withRunning { api in
            api.script("/missing", [], then: .status(404))
            try await api.withClient(Self.configuration) { client in
                for _ in 0..<5 {
                    let response = try await client.send(api.request(.get, "/missing", key: "integration-d"), logger: logger)
                    #expect(response.status == .notFound)
                }
                #expect(client.circuitState(for: "integration-d") == .closed)
            }
        }
    }

    private func openCircuits(_ metrics: MetricsRegistry) throws -> Double? {
        let exposition = try MetricsTests.Exposition(parsing: String(decoding: metrics.render(), as: UTF8.self))
        return exposition.samples.first { $0.name == "switchyard_outbound_circuits" && $0.labels == ["provider": "fake", "state": "open"] }?.value
    }

    /// Polls `condition` every 10 ms for up to 5 s (waiting for the fake server to see a request).
    private func waitUntil(_ condition: @Sendable () -> Bool) async throws {
        for _ in 0..<500 {
            if condition() { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw TestFailure("condition not met within 5 s")
    }
}
