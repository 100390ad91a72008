import Foundation
import HTTPTypes
import SwitchyardCore
import SwitchyardDestinations
import SwitchyardJobs
import SwitchyardOutbound
import SwitchyardPostgres
import SwitchyardTestSupport
import Synchronization
import Testing

/// What protects receivers and the platform: ordered keys, the circuit breaker, the SSRF guard, and a delivery that
/// survives its executor.
@Suite("Destinations: ordered keys, circuit breaker, SSRF, kill -9 (issue 15)")
struct DestinationProtectionTests {
    @Test("ordered delivery: one key's deliveries arrive one at a time in event order across two executors; a failing key blocks only itself")
    func orderedPerKey() async throws {
        try await DestinationFixture.with { fixture in
            let (destination, _) = try await fixture.createDestination("/ordered") { $0.ordered = true }
            let blocked = UUID.v7()
            let flowing = UUID.v7()
            let failuresLeft = Mutex(3)
            fixture.receiver.decide("/ordered") { request in
                let event = try? JSONDecoder().decode(ReceivedEvent.self, from: Data(request.body.utf8))
                if event?.integrationID == blocked.lowercasedString, event?.data["n"] == "2" {
                    let fail = failuresLeft.withLock { left in
                        defer { left -= 1 }
                        return left > 0
                    }
                    if fail { return .status(500) }
                }
                // Slow enough that two deliveries of a key in flight at once would overlap visibly.
                return .slow(.milliseconds(40), status: 200)
            }
            for n in 1...5 {
                try await fixture.recordEvent("record.changed", integration: blocked, data: ["n": "\(n)"])
                try await fixture.recordEvent("record.changed", integration: flowing, data: ["n": "\(n)"])
            }
            let registry = fixture.registry(jitter: false)
            try await fixture.database.withExecutor(registry: registry, logger: fixture.logger) {
                try await fixture.database.withExecutor(registry: registry, logger: fixture.logger) {
                    try await fixture.eventually("every delivery succeeds", timeout: .seconds(60)) {
                        let deliveries = try await fixture.deliveries(to: destination.id)
                        return deliveries.count == 10 && deliveries.allSatisfy { $0.state == .succeeded }
                    }
                }
            }
            let received = try fixture.receiver.requests(to: "/ordered").map { request in
                (event: try JSONDecoder().decode(ReceivedEvent.self, from: Data(request.body.utf8)), at: request.receivedAt)
            }
            func arrivals(_ integration: UUID) -> [(n: String, at: ContinuousClock.Instant)] {
                received.filter { $0.event.integrationID == integration.lowercasedString }.map { ($0.event.data["n"] ?? "?", $0.at) }
            }
            let blockedArrivals = arrivals(blocked)
            #expect(blockedArrivals.map(\.n) == ["1", "2", "2", "2", "2", "3", "4", "5"], "retries of 2 hold 3, 4 and 5 back")
            #expect(arrivals(flowing).map(\.n) == ["1", "2", "3", "4", "5"])
            for key in [blocked, flowing] {
                let times = arrivals(key).map(\.at)
                for (earlier, later) in zip(times, times.dropFirst()) {
                    #expect(later - earlier >= .milliseconds(40), "a key's next delivery starts only after the previous one finished")
                }
            }
            // The blocked key's failures did not hold the other key: it moved on while 2 was failing.
            let firstFailure = blockedArrivals[1].at
            let recovered = blockedArrivals[4].at
            #expect(arrivals(flowing).contains { $0.at > firstFailure && $0.at < recovered })
        }
    }

    @Test("the circuit breaker opens after consecutive failures: due deliveries wait without spending attempts; a half-open probe closes it")
    func circuitBreaker() async throws {
        let quickBreaker: @Sendable (inout OutboundConfiguration) -> Void = {
            $0.breakerFailureThreshold = 3
            $0.breakerCoolDown = .seconds(1)
        }
        try await DestinationFixture.with(outbound: quickBreaker) { fixture in
            let (destination, _) = try await fixture.createDestination("/breaker")
            let failing = Mutex(true)
            fixture.receiver.decide("/breaker") { _ in failing.withLock { $0 } ? .status(500) : .status(200) }
            for n in 1...6 { try await fixture.recordEvent("record.changed", data: ["n": "\(n)"]) }
            var settings = fastJobsSettings()
            settings.executorConcurrency = 3
            try await fixture.database.withExecutor(registry: fixture.registry(), settings: settings, logger: fixture.logger) {
                try await fixture.eventually("three attempts fail") { fixture.receiver.requests(to: "/breaker").count >= 3 }
                try await Task.sleep(for: .milliseconds(300))
                failing.withLock { $0 = false }
                // Each event's delivery is a job once its fan-out wrote the first attempt: all six must be there.
                try await fixture.eventually("every delivery succeeds", timeout: .seconds(60)) {
                    let deliveries = try await fixture.deliveries(to: destination.id)
                    return deliveries.count == 6 && deliveries.allSatisfy { $0.state == .succeeded }
                }
            }
            // Requests in flight when the third failure opened the circuit may have failed too; none was sent while open.
            let requests = fixture.receiver.requests(to: "/breaker")
            let failures = requests.count - 6
            #expect((3...5).contains(failures), "each delivery succeeded once after the failures")
            #expect(
                requests[failures].receivedAt - requests[failures - 1].receivedAt >= .milliseconds(900),
                "nothing was sent until the cool-down let the probe through"
            )
            let deliveries = try await fixture.deliveries(to: destination.id)
            #expect(deliveries.map(\.attempts).reduce(0, +) == requests.count, "waiting for the circuit spent no attempt")
            #expect(deliveries.flatMap(\.history).count == requests.count, "and wrote no history")
        }
    }

    @Test("a destination's concurrency limit holds however many workers are free; its rate limit spaces deliveries; neither spends attempts")
    func perDestinationLimits() async throws {
        try await DestinationFixture.with { fixture in
            let narrow = try await fixture.createDestination("/narrow") { $0.maxConcurrency = 2 }
            let paced = try await fixture.createDestination("/paced") { $0.rateLimitPerSecond = 5 }
            fixture.receiver.script("/narrow", [], then: .slow(.milliseconds(200)))
            for n in 1...10 { try await fixture.recordEvent("record.changed", data: ["n": "\(n)"]) }
            var settings = fastJobsSettings()
            settings.executorConcurrency = 8
            try await fixture.database.withExecutor(registry: fixture.registry(), settings: settings, logger: fixture.logger) {
                try await fixture.eventually("every delivery succeeds", timeout: .seconds(60)) {
                    let all = try await fixture.deliveries(to: narrow.record.id) + fixture.deliveries(to: paced.record.id)
                    return all.count == 20 && all.allSatisfy { $0.state == .succeeded }
                }
            }
            // Each answer takes at least 200 ms: a request that arrived less than that before another was still in flight.
            let narrowArrivals = fixture.receiver.requests(to: "/narrow").map(\.receivedAt)
            for arrival in narrowArrivals {
                let inFlight = narrowArrivals.filter { $0 <= arrival && arrival < $0 + .milliseconds(200) }.count
                #expect(inFlight <= 2, "at most two deliveries in flight")
            }
            // Five at once (a second's worth), then one every 200 ms.
            let pacedArrivals = fixture.receiver.requests(to: "/paced").map(\.receivedAt)
            #expect(pacedArrivals.count == 10)
            if let first = pacedArrivals.first, let last = pacedArrivals.last {
                #expect(last - first >= .milliseconds(800))
            }
            let attempts = try await (fixture.deliveries(to: narrow.record.id) + fixture.deliveries(to: paced.record.id)).map(\.attempts)
            #expect(attempts.allSatisfy { $0 == 1 }, "a delivery held back by a limit spends no attempt")
        }
    }

    @Test("a tenant with 200 destinations and a burst of events does not hold another tenant's delivery back")
    func fairAcrossTenants() async throws {
        try await DestinationFixture.with { fixture in
            for index in 0..<200 { _ = try await fixture.createDestination("/busy/\(index % 10)") }
            for path in (0..<10).map({ "/busy/\($0)" }) { fixture.receiver.script(path, [], then: .slow(.milliseconds(10))) }
            let quiet = try await fixture.database.makeTenant("quiet", logger: fixture.logger)
            let (destination, _) = try await fixture.createDestination("/quiet", tenant: quiet)
            for n in 1...10 { try await fixture.recordEvent("record.changed", data: ["n": "\(n)"]) }
            try await fixture.recordEvent("integration.connected", tenant: quiet)
            try await fixture.database.withExecutor(registry: fixture.registry(), logger: fixture.logger) {
                try await fixture.eventually("the quiet tenant's delivery succeeds") {
                    try await fixture.deliveries(to: destination.id, tenant: quiet).first?.state == .succeeded
                }
                let sent = (0..<10).map { fixture.receiver.requests(to: "/busy/\($0)").count }.reduce(0, +)
                #expect(sent < 1000, "most of the busy tenant's 2,000 deliveries were still waiting")
            }
        }
    }

    @Test("the SSRF guard refuses a delivery to an address that is not allowed, without sending it")
    func ssrfRefusedAtSend() async throws {
        try await DestinationFixture.with { fixture in
            let metadata = try await fixture.createDestination("/metadata") { $0.url = "http://169.254.169.254/latest/meta-data" }
            let loopback = try await fixture.createDestination("/loopback") { $0.url = "https://127.0.0.1:9/hook" }
            try await fixture.recordEvent("integration.connected")
            try await fixture.database.withExecutor(registry: fixture.registry(), logger: fixture.logger) {
                try await fixture.eventually("both deliveries have failed once") {
                    let first = try await fixture.deliveries(to: metadata.record.id).first?.history.count ?? 0
                    let second = try await fixture.deliveries(to: loopback.record.id).first?.history.count ?? 0
                    return first >= 1 && second >= 1
                }
            }
            let expected = [
                metadata.record.id: "the destination must use https, not http",
                loopback.record.id: "the destination resolves to a loopback address, which is not reachable from Switchyard",
            ]
            for (destination, error) in expected {
                let attempt = try #require(try await fixture.deliveries(to: destination).first?.history.first)
                #expect(attempt.outcome == "failed" && attempt.detail?["status"] == nil)
                #expect(attempt.error == error)
            }
        }
    }

    @Test("an executor killed with SIGKILL mid-delivery: another one retries it with the same webhook-id")
    func killedMidDelivery() async throws {
        try await DestinationFixture.with { fixture in
            let (destination, secret) = try await fixture.createDestination("/slow")
            fixture.receiver.script("/slow", [.slow(.seconds(5))], then: .status(200))
            let event = try await fixture.recordEvent("integration.connected")
            let child = try SwitchyardProcess(
                ["executor"],
                environment: fixture.environment,
                settings: childExecutorSettings([
                    "SWITCHYARD_KEYRING": fixture.keyringJSON, "SWITCHYARD_OUTBOUND_HTTP_ALLOW_LIST": fixture.receiver.hostAndPort,
                ])
            )
            try await fixture.eventually("the child executor sends the delivery; its log: \(child.output)") {
                fixture.receiver.requests(to: "/slow").count == 1
            }
            child.signal(SIGKILL)
            _ = try await child.waitForExit()
            try await fixture.database.withExecutor(registry: fixture.registry(), logger: fixture.logger) {
                try await fixture.eventually("another executor delivers it", timeout: .seconds(60)) {
                    try await fixture.deliveries(to: destination.id).first?.state == .succeeded
                }
            }
            let requests = fixture.receiver.requests(to: "/slow")
            #expect(requests.count == 2)
            #expect(requests.allSatisfy { $0.headers[HTTPField.Name("webhook-id")!] == "msg_" + event.lowercasedString })
            for request in requests {
                try StandardWebhooksVerifier.verify(
                    secret: secret,
                    id: request.headers[HTTPField.Name("webhook-id")!],
                    timestamp: request.headers[HTTPField.Name("webhook-timestamp")!],
                    signatureHeader: request.headers[HTTPField.Name("webhook-signature")!],
                    body: request.body
                )
            }
            // The event's fan-out job was the one killed: rescued, it queued the delivery as a job of its own, which
            // the second executor ran.
            #expect(try await fixture.deliveries(to: destination.id).first?.history.map(\.outcome) == ["succeeded"])
            let fanOut = try await fixture.database.withTenant(fixture.tenant, logger: fixture.logger) {
                try await $0.jobs(JobFilter(kind: DestinationFanOutPayload.kind), page: PageRequest(limit: 10, cursor: nil))
            }.items
            #expect(fanOut.count == 1 && fanOut.first?.history.map(\.outcome) == ["lease_expired", "succeeded"])
        }
    }
}

/// The part of a delivered event these tests read.
private struct ReceivedEvent: Decodable {
    let integrationID: String?
    let data: [String: String]

    enum CodingKeys: String, CodingKey {
        case integrationID = "integration_id"
        case data
    }
}
