import Foundation
import Logging
import SwitchyardOutbound
import SwitchyardTestSupport
import Testing

@Suite("Outbound retries and classification")
struct OutboundRetryTests {
    let logger = Logger(label: "test")
    /// Short backoff so that tests are quick; the breaker is kept out of the way.
    static let configuration = OutboundConfiguration(breakerFailureThreshold: 100)
    static func policy(_ attempts: Int, retryNonIdempotent: Bool = false) -> RetryPolicy {
        RetryPolicy(maxAttempts: attempts, baseDelay: .milliseconds(10), maxBackoff: .milliseconds(50), retryNonIdempotent: retryNonIdempotent)
    }

    @Test("a 503 with Retry-After in seconds is retried no sooner than announced")
    func retryAfterSeconds() async throws {
        try await FakeProviderAPI.withRunning { api in
            api.script("/busy", [.status(503, headers: ["Retry-After": "1"])])
            try await api.withClient(Self.configuration) { client in
                let response = try await client.send(api.request(.get, "/busy", retry: Self.policy(3)), logger: logger)
                #expect(response.status == .ok)
                #expect(response.attempts == 2)
            }
            let received = api.requests(to: "/busy")
            try #require(received.count == 2)
            #expect(received[1].receivedAt - received[0].receivedAt >= .seconds(1))
        }
    }

    @Test("a 503 with Retry-After as an HTTP-date is retried no sooner than that date")
    func retryAfterDate() async throws {
        try await FakeProviderAPI.withRunning { api in
            let retryAt = (Date().timeIntervalSince1970 + 2).rounded(.down)
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "GMT")
            formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
            let httpDate = formatter.string(from: Date(timeIntervalSince1970: retryAt))
            api.script("/busy", [.status(503, headers: ["Retry-After": httpDate])])
            try await api.withClient(Self.configuration) { client in
                let response = try await client.send(api.request(.get, "/busy", retry: Self.policy(3)), logger: logger)
                #expect(response.status == .ok)
            }
            let received = api.requests(to: "/busy")
            try #require(received.count == 2)
            #expect(received[1].receivedAtUnixTime >= retryAt, "retried at \(received[1].receivedAtUnixTime), asked for \(retryAt) (\(httpDate))")
        }
    }

    @Test("a Retry-After beyond the total delay budget ends the retries instead of being cut short")
    func retryAfterBeyondBudget() async throws {
        try await FakeProviderAPI.withRunning { api in
            api.script("/busy", [.status(503, headers: ["Retry-After": "120"])])
            try await api.withClient(Self.configuration) { client in
                let response = try await client.send(api.request(.get, "/busy", retry: Self.policy(3)), logger: logger)
                #expect(response.status == .serviceUnavailable)
                #expect(response.attempts == 1)
                #expect(response.outcome == .transient)
            }
        }
    }

    @Test("permanent errors are not retried", arguments: [400, 401, 403, 404, 422])
    func permanentNotRetried(status: Int) async throws {
        try await FakeProviderAPI.withRunning { api in
            api.script("/fail", [], then: .status(status))
            try await api.withClient(Self.configuration) { client in
                let response = try await client.send(api.request(.get, "/fail", retry: Self.policy(4)), logger: logger)
                #expect(response.status.code == status)
                #expect(response.outcome == .permanent)
                #expect(response.attempts == 1)
            }
            #expect(api.requests(to: "/fail").count == 1)
        }
    }

    @Test("transient errors are retried up to the maximum", arguments: [408, 409, 425, 500, 502, 503, 504])
    func transientRetriedToMaximum(status: Int) async throws {
        try await FakeProviderAPI.withRunning { api in
            api.script("/fail", [], then: .status(status))
            try await api.withClient(Self.configuration) { client in
                let response = try await client.send(api.request(.get, "/fail", retry: Self.policy(4)), logger: logger)
                #expect(response.status.code == status)
                #expect(response.outcome == .transient)
                #expect(response.attempts == 4)
            }
            #expect(api.requests(to: "/fail").count == 4)
        }
    }

    @Test("a transient failure followed by success returns the success")
    func recovers() async throws {
        try await FakeProviderAPI.withRunning { api in
            api.script("/flaky", [.status(500), .status(500)], then: .status(200, body: "done"))
            try await api.withClient(Self.configuration) { client in
                let response = try await client.send(api.request(.get, "/flaky", retry: Self.policy(3)), logger: logger)
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "done")
                #expect(response.attempts == 3)
            }
        }
    }

    @Test("a POST is retried only when the caller says it is safe to repeat")
    func nonIdempotent() async throws {
        try await FakeProviderAPI.withRunning { api in
            api.script("/orders", [], then: .status(503))
            api.script("/payments", [], then: .status(503))
            try await api.withClient(Self.configuration) { client in
                let once = try await client.send(api.request(.post, "/orders", body: "{}", retry: Self.policy(3)), logger: logger)
                #expect(once.attempts == 1)
                let retried = try await client.send(
                    api.request(.post, "/payments", body: "{}", retry: Self.policy(3, retryNonIdempotent: true)),
                    logger: logger
                )
                #expect(retried.attempts == 3)
            }
            #expect(api.requests(to: "/orders").count == 1)
            #expect(api.requests(to: "/payments").map(\.body) == ["{}", "{}", "{}"])
        }
    }

    @Test("a connection that could not be made is retried, even for a POST, then fails as transient")
    func connectionRefused() async throws {
        // Port 1 on loopback: nothing listens, the connection is refused at once.
        let configuration = OutboundConfiguration(breakerFailureThreshold: 100, plainHTTPAllowList: ["127.0.0.1:1"])
        try await OutboundClient.withClient(OutboundClient(configuration: configuration, metrics: nil)) { client in
            let request = OutboundRequest(method: .post, url: "http://127.0.0.1:1/hook", provider: "test", key: "k", retry: Self.policy(3))
            let error = await #expect(throws: OutboundError.self) { try await client.send(request, logger: logger) }
            #expect(error?.kind == .connectionFailed)
            #expect(error?.outcome == .transient)
            #expect(error?.attempts == 3)
        }
    }

    @Test("full-jitter backoff stays within the doubling ceiling and its cap")
    func backoff() {
        let policy = RetryPolicy(maxAttempts: 10, baseDelay: .milliseconds(100), maxBackoff: .seconds(1))
        #expect(policy.backoff(retry: 1, unitRandom: 0) == .zero)
        #expect(policy.backoff(retry: 1, unitRandom: 1) == .milliseconds(100))
        #expect(policy.backoff(retry: 3, unitRandom: 1) == .milliseconds(400))
        #expect(policy.backoff(retry: 3, unitRandom: 0.5) == .milliseconds(200))
        #expect(policy.backoff(retry: 8, unitRandom: 1) == .seconds(1))
        #expect(policy.backoff(retry: 60, unitRandom: 1) == .seconds(1))
    }
}
