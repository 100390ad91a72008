import HTTPTypes
import Logging
import SwitchyardMetrics
import SwitchyardOutbound
import SwitchyardTestSupport
import Testing

@Suite("Outbound client")
struct OutboundClientTests {
    let logger = Logger(label: "test")

    @Test("a body streamed beyond the cap is aborted with a typed error, without reading it all")
    func streamedBodyCap() async throws {
        try await FakeProviderAPI.withRunning { api in
            // 1 GiB without Content-Length, far more than socket buffers hold: the server can only finish
            // writing it if the client reads it all.
            api.script("/export", [], then: .huge(bytes: 1 << 30))
            try await api.withClient(OutboundConfiguration(maxResponseBytes: 256 << 10)) { client in
                let error = await #expect(throws: OutboundError.self) {
                    try await client.send(api.request(.get, "/export", retry: .standard), logger: logger)
                }
                #expect(error?.kind == .responseTooLarge(limit: 256 << 10))
                #expect(error?.outcome == .permanent)
                #expect(error?.attempts == 1, "an oversized answer is not retried")
            }
            // The server's write fails once the client has closed the connection.
            for _ in 0..<1000 where api.hugeBodiesAborted + api.hugeBodiesCompleted == 0 {
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(api.hugeBodiesAborted == 1)
            #expect(api.hugeBodiesCompleted == 0)
        }
    }

    @Test("a declared Content-Length over the cap is refused before reading; a body under the cap is returned whole")
    func declaredBodyCap() async throws {
        try await FakeProviderAPI.withRunning { api in
            api.script("/big", [], then: .huge(bytes: 2 << 20, declaredLength: true))
            api.script("/small", [], then: .huge(bytes: 200 << 10))
            try await api.withClient(OutboundConfiguration(maxResponseBytes: 256 << 10)) { client in
                let error = await #expect(throws: OutboundError.self) { try await client.send(api.request(.get, "/big"), logger: logger) }
                #expect(error?.kind == .responseTooLarge(limit: 256 << 10))
                let small = try await client.send(api.request(.get, "/small"), logger: logger)
                #expect(small.body.readableBytes == 200 << 10)
            }
        }
    }

    @Test("a slow server trips the timeout, a transient failure")
    func timeout() async throws {
        try await FakeProviderAPI.withRunning { api in
            api.script("/slow", [], then: .slow(.milliseconds(1500)))
            let configuration = OutboundConfiguration(readTimeout: .milliseconds(300), attemptTimeout: .milliseconds(400))
            try await api.withClient(configuration) { client in
                let error = await #expect(throws: OutboundError.self) { try await client.send(api.request(.get, "/slow"), logger: logger) }
                guard case .timeout = error?.kind else {
                    Issue.record("expected a timeout, got \(String(describing: error))")
                    return
                }
                #expect(error?.outcome == .transient)
            }
        }
    }

    @Test("the per-attempt deadline also covers a body that trickles in")
    func attemptDeadlineCoversBody() async throws {
        try await FakeProviderAPI.withRunning { api in
            // Every chunk arrives well within the read timeout (far longer than the attempt, so that a starved machine cannot
            // make it fire first), but the whole takes longer than the attempt may.
            api.script("/trickle", [], then: .trickle(chunks: 20, interval: .milliseconds(100)))
            let configuration = OutboundConfiguration(readTimeout: .seconds(5), attemptTimeout: .milliseconds(500))
            try await api.withClient(configuration) { client in
                let error = await #expect(throws: OutboundError.self) { try await client.send(api.request(.get, "/trickle"), logger: logger) }
                #expect(error?.kind == .timeout(.deadline))
            }
        }
    }

    @Test("a caller cancelled during an attempt gets a cancellation, neither the answer nor a timeout")
    func cancelledDuringAttempt() async throws {
        try await FakeProviderAPI.withRunning { api in
            // Answered after 3 s, well within the attempt's deadline: only the cancellation can end it sooner.
            api.script("/slow", [], then: .slow(.seconds(3)))
            let configuration = OutboundConfiguration(readTimeout: .seconds(30), attemptTimeout: .seconds(30))
            try await api.withClient(configuration) { client in
                let request = api.request(.get, "/slow", retry: .never)
                let sending = Task { try await client.send(request, logger: logger) }
                while api.requests(to: "/slow").isEmpty { try await Task.sleep(for: .milliseconds(10)) }
                sending.cancel()
                let result = await sending.result
                switch result {
                case .success: Issue.record("a cancelled attempt returned a response")
                case .failure(let error): #expect(error is CancellationError, "got \(error)")
                }
            }
        }
    }

    @Test("redirects are returned, not followed")
    func redirectsNotFollowed() async throws {
        try await FakeProviderAPI.withRunning { api in
            api.script("/moved", [], then: .status(302, headers: ["Location": "/elsewhere"]))
            try await api.withClient { client in
                let response = try await client.send(api.request(.get, "/moved"), logger: logger)
                #expect(response.status == .found)
                #expect(response.headers[.location] == "/elsewhere")
                #expect(response.outcome == .success)
            }
            #expect(api.requests(to: "/elsewhere").isEmpty)
        }
    }

    @Test("caller headers and body reach the provider; hop-by-hop headers and Host do not")
    func headersAndBody() async throws {
        try await FakeProviderAPI.withRunning { api in
            try await api.withClient { client in
                var headers = HTTPFields()
                headers[.authorization] = "Bearer provider-token"
                headers[HTTPField.Name("X-Custom")!] = "kept"
                headers[HTTPField.Name("Host")!] = "evil.example"
                headers[.connection] = "close, X-Custom"
                let response = try await client.send(api.request(.put, "/things/1", headers: headers, body: #"{"a":1}"#), logger: logger)
                #expect(response.status == .ok)
            }
            let received = try #require(api.requests(to: "/things/1").first)
            #expect(received.method == .put)
            #expect(received.headers[.authorization] == "Bearer provider-token")
            #expect(received.headers[HTTPField.Name("X-Custom")!] == "kept")
            #expect(received.authority == api.hostAndPort)
            #expect(received.body == #"{"a":1}"#)
        }
    }

    @Test("metrics label attempts by provider and outcome, all families with help text")
    func metrics() async throws {
        try await FakeProviderAPI.withRunning { api in
            api.script("/ok", [], then: .status(200))
            api.script("/bad", [], then: .status(400))
            let metrics = MetricsRegistry(version: "test")
            try await api.withClient(metrics: metrics.outbound) { client in
                _ = try await client.send(api.request(.get, "/ok"), logger: logger)
                _ = try await client.send(api.request(.get, "/bad"), logger: logger)
                let blocked = OutboundRequest(method: .get, url: "https://10.0.0.1/", provider: "fake", key: "integration-1")
                _ = try? await client.send(blocked, logger: logger)
            }
            let exposition = try MetricsTests.Exposition(parsing: String(decoding: metrics.render(), as: UTF8.self))
            for sample in exposition.samples {
                let family = try #require(exposition.family(of: sample.name), "sample \(sample.name) has no TYPE")
                #expect(exposition.help[family]?.isEmpty == false, "\(family) has no help text")
            }
            func count(_ outcome: String) -> Double? {
                exposition.samples.first {
                    $0.name == "switchyard_outbound_requests_total" && $0.labels == ["provider": "fake", "outcome": outcome]
                }?.value
            }
            #expect(count("success") == 1)
            #expect(count("permanent") == 1)
            #expect(count("blocked") == 1)
            #expect(exposition.type["switchyard_outbound_request_duration_seconds"] == "histogram")
            #expect(exposition.type["switchyard_outbound_rate_limit_wait_seconds"] == "histogram")
            let labelValues = exposition.samples.filter { $0.name.hasPrefix("switchyard_outbound") }.flatMap(\.labels.values)
            #expect(!labelValues.contains { $0.contains("127.0.0.1") || $0.contains("integration-1") || $0.contains("/ok") })
        }
    }
}
