import Logging
import SwitchyardOutbound
import SwitchyardTestSupport
import Testing

@Suite("Outbound adaptive rate limiter")
struct OutboundRateLimitTests {
    @Test(
        "the limiter keeps the provider's 429 count at zero while sending more than a window's quota",
        arguments: [FakeProviderAPI.ResetStyle.deltaSeconds, .epochSeconds]
    )
    func staysWithinAnnouncedQuota(resetStyle: FakeProviderAPI.ResetStyle) async throws {
        try await FakeProviderAPI.withRunning { api in
            api.setQuota(.init(limit: 5, window: .seconds(1), resetStyle: resetStyle), for: "/items")
            try await api.withClient { client in
                // Sent all at once: the limiter, not the caller, has to keep them apart. No retries, so a 429 would show.
                let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                    for _ in 0..<12 {
                        group.addTask {
                            try await client.send(api.request(.get, "/items", key: "account-1"), logger: Logger(label: "test")).status.code
                        }
                    }
                    return try await group.reduce(into: [Int]()) { $0.append($1) }
                }
                #expect(statuses.count == 12)
                #expect(statuses.allSatisfy { $0 == 200 }, "\(statuses)")
            }
            #expect(api.tooManyRequestsServed == 0)
            #expect(api.requests(to: "/items").count == 12)
        }
    }

    @Test("a request that would wait longer than its maximum fails at once with a typed rate-limited error")
    func maximumWait() async throws {
        try await FakeProviderAPI.withRunning { api in
            api.setQuota(.init(limit: 2, window: .seconds(5)), for: "/scarce")
            try await api.withClient { client in
                let first = try await client.send(api.request(.get, "/scarce", key: "account-2"), logger: Logger(label: "test"))
                #expect(first.status == .ok)
                // One request left for ~5 s: the limiter spaces it out and this caller may not wait that long.
                let error = await #expect(throws: OutboundError.self) {
                    try await client.send(
                        api.request(.get, "/scarce", key: "account-2", maxRateLimitWait: .milliseconds(100)),
                        logger: Logger(label: "test")
                    )
                }
                guard case .rateLimited(let retryAfter) = error?.kind else {
                    Issue.record("expected rateLimited, got \(String(describing: error))")
                    return
                }
                #expect(retryAfter > .milliseconds(100))
                #expect(error?.outcome == .rateLimited)
                #expect(error?.problem.code == "provider-rate-limited")
                // Another key has its own quota and is not held back.
                let other = try await client.send(
                    api.request(.get, "/other", key: "account-3", maxRateLimitWait: .zero),
                    logger: Logger(label: "test")
                )
                #expect(other.status == .ok)
            }
            #expect(api.requests(to: "/scarce").count == 1)
            #expect(api.tooManyRequestsServed == 0)
        }
    }

    @Test("after a 429 with Retry-After, the next request for the same key waits the announced time")
    func waitsAfter429() async throws {
        try await FakeProviderAPI.withRunning { api in
            api.script("/limited", [.status(429, headers: ["Retry-After": "1"])])
            try await api.withClient { client in
                let first = try await client.send(api.request(.get, "/limited", key: "account-4"), logger: Logger(label: "test"))
                #expect(first.status == .tooManyRequests)
                #expect(first.outcome == .rateLimited)
                let second = try await client.send(api.request(.get, "/limited", key: "account-4"), logger: Logger(label: "test"))
                #expect(second.status == .ok)
            }
            let received = api.requests(to: "/limited")
            try #require(received.count == 2)
            #expect(received[1].receivedAt - received[0].receivedAt >= .seconds(1))
        }
    }

    @Test("a caller waiting for the quota can be cancelled")
    func cancellableWait() async throws {
        try await FakeProviderAPI.withRunning { api in
            api.setQuota(.init(limit: 1, window: .seconds(5)), for: "/one")
            try await api.withClient { client in
                #expect(try await client.send(api.request(.get, "/one", key: "account-5"), logger: Logger(label: "test")).status == .ok)
                // The quota is spent for ~5 s: this request waits, and is cancelled while waiting.
                let waiting = Task { try await client.send(api.request(.get, "/one", key: "account-5"), logger: Logger(label: "test")) }
                try await Task.sleep(for: .milliseconds(100))
                waiting.cancel()
                await #expect(throws: CancellationError.self) { try await waiting.value }
            }
            #expect(api.requests(to: "/one").count == 1)
        }
    }

    @Test("limiter and breaker memory stays bounded across many keys")
    func boundedKeys() async throws {
        try await FakeProviderAPI.withRunning { api in
            try await api.withClient(OutboundConfiguration(maxTrackedKeys: 20)) { client in
                for index in 0..<100 {
                    let response = try await client.send(api.request(.get, "/ok", key: "integration-\(index)"), logger: Logger(label: "test"))
                    #expect(response.status == .ok)
                }
                #expect(client.trackedKeys.limiter <= 20)
                #expect(client.trackedKeys.breaker <= 20)
                #expect(client.trackedKeys.limiter > 0)
            }
        }
    }
}
